// One lane of a pool: a worker thread, the calls in flight on it, and what
// happens when it dies (reject its own calls, start a replacement) or fails
// to start (reject, and keep failing fast instead of respawning).
import { Worker } from "node:worker_threads";
import { decode } from "../codec/decode.js";
import { Errors } from "../errors.js";

const workerMain = new URL("./worker-main.js", import.meta.url);

export class Lane {
  /** @type {Worker | undefined} */
  #worker;
  /** id → { resolve, reject } of the calls in flight here */
  #inFlight = new Map();
  #tasks;
  #closing = false;
  /** Set when the worker could not load its tasks: every call fails with it. */
  startupError = undefined;
  #crash = undefined;

  constructor(tasks) {
    this.#tasks = tasks;
    this.#start();
  }

  get inFlight() {
    return this.#inFlight.size;
  }

  #start() {
    const worker = new Worker(workerMain, { workerData: { tasks: this.#tasks } });
    this.#worker = worker;
    this.#crash = undefined;
    worker.on("message", (message) => this.#onMessage(message));
    worker.on("error", (error) => {
      this.#crash = error;
    });
    worker.on("exit", (code) => this.#onExit(worker, code));
    // After the listeners: adding a "message" listener refs the port again.
    // An idle pool never keeps the process alive; calls in flight do (send).
    worker.unref();
  }

  /** Sends one encoded call; `settle` is its promise's { resolve, reject }. */
  send(id, taskIndex, wire, tagged, transfer, settle) {
    this.#inFlight.set(id, settle);
    if (this.#inFlight.size === 1) this.#worker.ref(); // in-flight calls keep the process alive
    this.#worker.postMessage([id, taskIndex, wire, tagged], transfer);
  }

  #onMessage(message) {
    if (!Array.isArray(message)) {
      if (message?.type === "startup-failed") {
        this.startupError = decode(message.wire, message.tagged);
        this.#rejectAll(() => this.startupError);
        this.#worker.terminate();
      }
      return;
    }
    const [id, ok, wire, tagged] = message;
    const settle = this.#inFlight.get(id);
    if (settle === undefined) return;
    this.#inFlight.delete(id);
    if (this.#inFlight.size === 0) this.#worker.unref();
    const value = decode(wire, tagged);
    if (ok === 1) settle.resolve(value);
    else settle.reject(value);
  }

  #onExit(worker, code) {
    if (worker !== this.#worker || this.#closing) return;
    if (this.startupError !== undefined) return;
    const cause = this.#crash;
    this.#rejectAll(() => Errors.workerExited(code, cause));
    this.#start();
  }

  #rejectAll(makeError) {
    const calls = [...this.#inFlight.values()];
    this.#inFlight.clear();
    for (const { reject } of calls) reject(makeError());
  }

  /** Rejects what is still in flight with "Thread closed" and stops the worker. */
  async close() {
    this.#closing = true;
    this.#rejectAll(() => Errors.threadClosed());
    await this.#worker.terminate();
  }
}
