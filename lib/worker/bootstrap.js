// worker.bootstrap, in a worker thread or a process worker: its export `name`
// of `href` runs before any task module is imported.
import { Errors } from "../errors.js";
import { runtime } from "../runtime/runtime.js";

/** Runs `bootstrap` (if any) as worker `lane` (1-based) of `threads`; rejects with ERR_KNITTING_TASK_NOT_FOUND naming it. */
export async function runBootstrap(bootstrap, lane, threads) {
  if (bootstrap === undefined) return;
  let module;
  try {
    module = await import(bootstrap.href);
  } catch (cause) {
    throw Errors.bootstrapFailed(bootstrap, `it could not be imported: ${cause?.message ?? cause}`, cause);
  }
  const fn = module[bootstrap.name];
  if (typeof fn !== "function") throw Errors.bootstrapFailed(bootstrap, `it has no function export "${bootstrap.name}"`);
  try {
    await fn(bootstrap.data, { thread: lane - 1, totalNumberOfThread: threads, runtime });
  } catch (cause) {
    throw Errors.bootstrapFailed(bootstrap, `it threw: ${cause?.message ?? cause}`, cause);
  }
}
