// Internal symbols, in one place. Private state is keyed by these.

/** Marks a task definition made by task() or importTask(). */
export const kTask = Symbol("knitting.task");
/** Set on globalThis inside pool workers, before task modules are imported. */
export const kInPoolWorker = Symbol.for("knitting.inPoolWorker");
