// Exports of the established library's main entry that this one keeps so
// that programs written for it link: the worker entry for the `source`
// option, and compiled workers (which are refused here).
import { workerData } from "node:worker_threads";
import { Errors } from "../errors.js";
import { POOL_WORKER_KEY } from "../runtime/is-main.js";

/**
 * Runs this thread as a pool worker. Call it from a module given as the
 * `source` option (after your own setup); it returns once the worker has
 * loaded (its loop then runs on its own). Anywhere else it throws.
 */
export function workerMainLoop() {
  if (workerData?.[POOL_WORKER_KEY] !== true) {
    throw Errors.invalidArgument("workerMainLoop()", 'a pool worker thread (call it from the module given as the "source" option)', "a thread that is not one");
  }
  return import("../worker/main.js").then(() => undefined);
}

/** Compiled (Porffor) workers are not supported: always throws ERR_KNITTING_UNSUPPORTED_OPTION. */
export function checkCompiledWorker() {
  throw Errors.unsupportedOption('worker.runtime "compiled"', 'compiled workers are not supported by this implementation; use runtime "thread" or "process"');
}
