// One lane of a pool: a worker thread, its two rings (calls addressed to it,
// its results) and the MessagePorts that carry what does not fit a slot. The
// lane reports what happens to its worker (a failed start, an exit) to the
// pool, which owns the calls; it replaces a worker that dies, unless the pool
// is closing or the worker could not even load its tasks.
import { MessageChannel, Worker, receiveMessageOnPort } from "node:worker_threads";
import { PORT, SpscRing } from "../transport/spsc-ring.js";
import { RingBacklog } from "../transport/ring-backlog.js";

const workerMain = new URL("./worker-main.js", import.meta.url);

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
  /** Calls addressed to this lane (not through the shared queue) still in flight. */
  directCalls = 0;
  /** Direct calls posted on the port but not yet announced in the ring (it was full). */
  #unannounced = new RingBacklog();

  /**
   * @param {number} number 1-based, as the CallQueue's owner table records it
   * @param {object} workerData what every worker of the pool is given
   * @param {{ onStartupFailed(lane, message), onExit(lane, code, cause) }} events
   */
  constructor(number, workerData, events) {
    this.number = number;
    this.calls = new SpscRing();
    this.results = new SpscRing();
    this.#events = events;
    this.#workerData = { ...workerData, calls: this.calls.sab, results: this.results.sab, lane: number };
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
        this.calls.reset();
        this.results.reset();
        this.directCalls = 0;
        this.#unannounced.clear();
        this.#start();
      }
    });
    // After the listeners: adding a "message" listener refs the port again.
    if (!this.#kept) worker.unref();
  }

  /** Keeps the process alive (while the pool has calls in flight) or not. */
  keepAlive(keep) {
    this.#kept = keep;
    if (keep) this.#worker.ref();
    else this.#worker.unref();
  }

  /**
   * Sends a call to this worker alone: the value (moved buffers, or too large
   * for a slot) goes on the call port, announced by a PORT item in the ring.
   */
  sendDirect(id, taskIndex, wire, tagged, transfer) {
    this.directCalls++;
    this.#callPort.postMessage([wire, tagged], transfer);
    if (this.#unannounced.size > 0 || this.calls.pushPort(id, taskIndex) === "full") {
      this.#unannounced.push(id, taskIndex, PORT); // the ring is full: announce later, in order
    }
    this.calls.wakeConsumer();
  }

  /** Announces direct calls that waited for room in the ring (the pool calls this as it polls). */
  announce() {
    if (this.#unannounced.flushInto(this.calls)) this.calls.wakeConsumer();
  }

  /** Reads this worker's results: settle(id, ok, wire, tagged) each. */
  drainResults(settle) {
    this.#settle = settle;
    return this.results.drain(this.#eachResult);
  }

  #settle;
  /** One callback for every drain (no closure per poll on the hot path). */
  #eachResult = (id, ok, wire) => {
    if (wire === PORT) {
      const [value, tagged] = receiveMessageOnPort(this.#resultPort).message;
      this.#settle(id, ok, value, tagged);
    } else this.#settle(id, ok, wire, false);
  };

  /** Wakes the worker if it is parked; true if it was. */
  wake() {
    return this.calls.wakeConsumer();
  }

  /** Stops the worker for good. */
  async close() {
    this.#closing = true;
    this.calls.wakeConsumer();
    await this.#worker.terminate();
    this.#callPort.close();
    this.#resultPort.close();
  }
}
