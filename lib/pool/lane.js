// One lane of a pool: a worker thread, its result ring and the two
// MessagePorts that carry what does not fit a slot (calls the host hands over,
// results that are not small primitives). The lane reports what happens to its
// worker (a failed start, an exit) to the pool; it replaces a worker that dies,
// unless the pool is closing or the worker could not even load its tasks.
import { MessageChannel, Worker, receiveMessageOnPort } from "node:worker_threads";
import { PORT, SpscRing } from "../transport/spsc-ring.js";
import { F_JSON, F_TAGGED } from "../transport/slot-value.js";

const workerMain = new URL("../worker/main.js", import.meta.url);

export class Lane {
  /** @type {Worker} */
  #worker;
  #closing = false;
  #crash = undefined;
  #kept = false;
  #events;
  #workerData;
  /** Host ends of the worker's ports: calls out, results in. */
  #callPort;
  #resultPort;
  /** Set when the worker could not load its tasks: this lane is out of service. */
  startupError = undefined;

  /**
   * @param {number} number 1-based, as the worker's seat and the claims table name it
   * @param {object} workerData what every worker of the pool is given
   * @param {{ onStartupFailed(lane, message), onExit(lane, code, cause) }} events
   */
  constructor(number, workerData, events) {
    this.number = number;
    this.results = new SpscRing();
    this.#events = events;
    this.#workerData = { ...workerData, results: this.results.sab, lane: number };
    this.#start();
  }

  #start() {
    const callChannel = new MessageChannel();
    const resultChannel = new MessageChannel();
    this.#callPort = callChannel.port1;
    this.#resultPort = resultChannel.port2;
    const worker = new Worker(workerMain, {
      workerData: { ...this.#workerData, callPort: callChannel.port2, resultPort: resultChannel.port1 },
      transferList: [callChannel.port2, resultChannel.port1],
    });
    this.#worker = worker;
    this.#crash = undefined;
    worker.on("message", (message) => {
      if (message?.type === "startup-failed") this.#events.onStartupFailed(this, message);
    });
    worker.on("error", (error) => {
      this.#crash = error;
    });
    worker.on("exit", (code) => {
      if (worker !== this.#worker || this.#closing) return;
      this.#events.onExit(this, code, this.#crash);
      if (this.startupError === undefined) {
        this.results.reset();
        this.#start();
      }
    });
    // After the listeners: adding a "message" listener refs the worker again.
    if (!this.#kept) worker.unref();
  }

  /** Keeps the process alive (while the pool has calls in flight) or not. */
  keepAlive(keep) {
    this.#kept = keep;
    if (keep) this.#worker.ref();
    else this.#worker.unref();
  }

  /** Posts a call to this worker (its seat is TAKEN): [handle, serial, taskIndex, payload, tagged, serialized]. */
  post(message, transfer) {
    this.#callPort.postMessage(message, transfer);
  }

  /** Reads this worker's results: settle(handle, serial, ok, wire, tagged) each (JSON text already parsed). */
  drainResults(settle) {
    this.#settle = settle;
    return this.results.drain(this.#eachResult);
  }

  #settle;
  /** One callback for every drain (no closure per poll on the hot path). */
  #eachResult = (handle, serial, ok, wire, flags) => {
    if (wire === PORT) {
      wire = receiveMessageOnPort(this.#resultPort).message;
      if (flags & F_JSON) {
        try {
          wire = JSON.parse(wire);
        } catch (error) {
          return this.#settle(handle, serial, 0, error, false);
        }
      }
    }
    this.#settle(handle, serial, ok, wire, (flags & F_TAGGED) !== 0);
  };

  /** Stops the worker for good. */
  async close() {
    this.#closing = true;
    await this.#worker.terminate();
    this.#callPort.close();
    this.#resultPort.close();
  }
}
