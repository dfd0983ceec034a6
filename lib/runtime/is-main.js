// isMain: false only inside this library's pool workers, which re-import the
// modules that define tasks (so `if (isMain) createPool(...)` must not run
// there). Any other thread is "main" for this purpose: the process's main
// thread, a worker_threads Worker of your own, a test runner's worker thread.
import { isMainThread, workerData } from "node:worker_threads";

/** The workerData key that marks a pool worker (set by lib/pool/lane.js). */
export const POOL_WORKER_KEY = "knitting.poolWorker";

/** True everywhere except inside a knitting pool worker. */
export const isMain = isMainThread || workerData?.[POOL_WORKER_KEY] !== true;
