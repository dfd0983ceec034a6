// A minimal round-robin pool on plain worker_threads + postMessage (no
// library), the baseline every pool is compared with.
import { Worker } from "node:worker_threads";

export function createRawPool(threads) {
  const pending = new Map();
  let nextId = 0;
  let turn = 0;
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(new URL("./raw-worker.mjs", import.meta.url));
    worker.on("message", ([id, value]) => {
      const resolve = pending.get(id);
      pending.delete(id);
      resolve(value);
    });
    return worker;
  });
  return {
    run(x) {
      const id = nextId++;
      const worker = workers[turn++ % workers.length];
      return new Promise((resolve) => {
        pending.set(id, resolve);
        worker.postMessage([id, x]);
      });
    },
    destroy: () => Promise.all(workers.map((w) => w.terminate())),
  };
}
