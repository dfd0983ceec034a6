// A minimal round-robin pool on plain worker_threads + postMessage (no
// library), the baseline every pool is compared with.
import { Worker } from "node:worker_threads";

/** `workerUrl`: a worker that answers [id, x, op?] with [id, result] (default: x + 1, or busy for x ms). */
export function createRawPool(threads, workerUrl = new URL("./raw-worker.mjs", import.meta.url)) {
  const pending = new Map();
  let nextId = 0;
  let turn = 0;
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(workerUrl);
    worker.on("message", ([id, value]) => {
      const resolve = pending.get(id);
      pending.delete(id);
      resolve(value);
    });
    return worker;
  });
  return {
    run(x, op) {
      const id = nextId++;
      const worker = workers[turn++ % workers.length];
      return new Promise((resolve) => {
        pending.set(id, resolve);
        worker.postMessage(op === undefined ? [id, x] : [id, x, op]);
      });
    },
    destroy: () => Promise.all(workers.map((w) => w.terminate())),
  };
}
