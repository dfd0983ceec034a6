// Internal symbols, in one place. Private state is keyed by these.

/** Marks a task definition made by task() or importTask(). */
export const kTask = Symbol("knitting.task");
/**
 * True on globalThis while a pool worker imports the modules that define its
 * tasks: a createPool reached then is a module's top level that forgot the
 * isMain guard. (A pool created by a running task is a real, nested pool.)
 */
export const kImportingTasks = Symbol.for("knitting.importingTasks");
