// One lane of a pool: a worker thread and its ResultRing. The lane reports
// what happens to its worker (results that came as messages, a failed start,
// an exit) to the pool, which owns the calls; it replaces a worker that dies,
// unless the pool is closing or the worker could not even load its tasks.
import { Worker } from "node:worker_threads";
import { ResultRing } from "../transport/result-ring.js";

const workerMain = new URL("./worker-main.js", import.meta.url);

export class Lane {
  /** @type {Worker} */
  #worker;
  #closing = false;
  #crash = undefined;
  #events;
  #workerData;
  /** Set when the worker could not load its tasks: this lane is out of service. */
  startupError = undefined;
  /** Calls sent to this lane's MessagePort (not through the shared queue). */
  portCalls = 0;

  /**
   * @param {number} number 1-based, as the CallQueue's owner table records it
   * @param {object} workerData what every worker of the pool is given
   * @param {{ onMessage(lane, message), onStartupFailed(lane, message), onExit(lane, code, cause) }} events
   */
  constructor(number, workerData, events) {
    this.number = number;
    this.ring = new ResultRing();
    this.#events = events;
    this.#workerData = { ...workerData, ring: this.ring.sab, lane: number };
    this.#start();
  }

  #start() {
    const worker = new Worker(workerMain, { workerData: this.#workerData });
    this.#worker = worker;
    this.#crash = undefined;
    worker.on("message", (message) => {
      if (Array.isArray(message)) this.#events.onMessage(this, message);
      else if (message?.type === "startup-failed") this.#events.onStartupFailed(this, message);
    });
    worker.on("error", (error) => {
      this.#crash = error;
    });
    worker.on("exit", (code) => {
      if (worker !== this.#worker || this.#closing) return;
      this.#events.onExit(this, code, this.#crash);
      if (this.startupError === undefined) {
        this.ring.reset();
        this.#start();
      }
    });
    // After the listeners: adding a "message" listener refs the port again.
    if (!this.#kept) worker.unref();
  }

  #kept = false;
  /** Keeps the process alive (while the pool has calls in flight) or not. */
  keepAlive(keep) {
    this.#kept = keep;
    if (keep) this.#worker.ref();
    else this.#worker.unref();
  }

  /** Sends a call through the worker's MessagePort (moved buffers, large values). */
  postCall(id, taskIndex, wire, tagged, transfer) {
    this.portCalls++;
    this.#worker.postMessage([id, taskIndex, wire, tagged], transfer);
  }

  /** Stops the worker for good. */
  async close() {
    this.#closing = true;
    await this.#worker.terminate();
  }
}
