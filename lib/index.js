// Entry point of `knitting`.
export { createPool } from "./pool/pool.js";
export { task, importTask } from "./pool/task.js";
export { setModuleUrl } from "./pool/caller.js";
export { isMain } from "./runtime/is-main.js";
export { Envelope } from "./envelope.js";
export { NumericArray, isNumericArray } from "./numeric-array.js";
export { workerMainLoop, checkCompiledWorker } from "./compat/entry-points.js";
