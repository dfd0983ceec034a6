// The tiny task every pool in benches/pool.bench.mjs runs (piscina and tinypool
// load this file as their worker; knitting imports the named task export).
import { threadId } from "node:worker_threads";
import { task } from "knitting";

export default function addOne(x) {
  return x + 1;
}

/** A synchronous task that keeps its worker busy for `ms` (the "one worker busy" rows). */
export function busy(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
}

export const addOneTask = task({ f: (x) => x + 1 });
export const busyTask = task({ f: busy });
/** Section (H): a call that computes for `us` microseconds (a small real task). */
export const computeTask = task({
  f: (us) => {
    const end = performance.now() + us / 1000;
    while (performance.now() < end);
    return us;
  },
});
export const whereTask = task({ f: () => threadId });
/** Section (D) of benches/pool.bench.mjs: the value back as it came. */
export const echoTask = task({ f: (x) => x });
