// Controlling calls: cancel one, stop a stuck one, read the pool's stats.
import { createPool, isMain, task } from "knitting";

/** Works for `ms`, checking whether its call was aborted. */
export const work = task({
  abortSignal: true,
  f: (ms, { hasAborted }) => {
    const end = Date.now() + ms;
    while (Date.now() < end) if (hasAborted()) return "stopped early";
    return "finished";
  },
});
export const stuck = task({ f: () => { for (;;); } });
export const add = task({ f: ([a, b]) => a + b });

if (isMain) {
  const pool = createPool({ threads: 1 })({ work, stuck, add });
  await pool.call.add([1, 1]); // the worker is up

  // An AbortSignal: the call rejects with the signal's reason; the task is told.
  const controller = new AbortController();
  const cancelled = pool.call.work(60_000, { signal: controller.signal });
  setTimeout(() => controller.abort(), 200);
  await cancelled.catch((error) => console.log(error.name)); // AbortError

  // reject() without a reason: the task sees hasAborted() and returns what it likes.
  const told = pool.call.work(60_000);
  setTimeout(() => told.reject(), 200);
  console.log(await told); // stopped early

  // A hard deadline frees a worker stuck in an endless loop: only that worker is replaced.
  await pool.call.stuck(undefined, { hardTimeoutMs: 200 }).catch((error) => console.log(error.code)); // ERR_KNITTING_TASK_TIMEOUT
  console.log(await pool.call.add([2, 3])); // 5

  // Counts on every runtime; runTime and waitTime histograms where stats time calls (Node).
  const { completed, failed, queueSize, running } = pool.stats();
  console.log(completed, failed, queueSize, running); // 3 2 0 0
  await pool.shutdown();
}
