// isMain: false only inside this library's pool workers, which re-import the
// modules that define tasks (a process worker too) (so `if (isMain) createPool(...)` must not run
// there). Any other thread is "main" for this purpose: the process's main
// thread, a worker_threads Worker of your own, a test runner's worker thread.
import { isMainThread, workerData } from "node:worker_threads";

/** The workerData key that marks a pool worker (set by lib/pool/lane.js). */
export const POOL_WORKER_KEY = "knitting.poolWorker";

/** The environment variable that carries a process worker's boot data (set by lib/process/process-lane.js). */
export const BOOT_ENV = "KNITTING_PROCESS_WORKER_BOOT";

/** True in a process worker (read as the process starts: the child then removes the variable). */
export const inProcessWorker = process.env[BOOT_ENV] !== undefined;

/** True everywhere except inside a knitting pool worker (a thread, or a process worker and its threads). */
export const isMain = !inProcessWorker && (isMainThread || workerData?.[POOL_WORKER_KEY] !== true);
