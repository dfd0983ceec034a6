// createPool(options)(tasks): the pool object users hold, with one
// `call.<name>(arg)` function per task, shutdown and dispose.
import { encode } from "../codec/encode.js";
import { Errors } from "../errors.js";
import { kInPoolWorker } from "../symbols.js";
import { callerModuleUrl } from "./caller.js";
import { Lane } from "./lane.js";
import { validatePoolOptions } from "./options.js";
import { isTask, setCreatePool } from "./task.js";

/** Describes each task so a worker can import it: sorted by name. */
function describeTasks(tasks, callerHref) {
  if (tasks === null || typeof tasks !== "object") throw Errors.invalidTask("createPool(options)(tasks) expects an object of tasks, e.g. { invert }");
  return Object.keys(tasks)
    .sort()
    .map((name) => {
      const value = tasks[name];
      if (isTask(value)) {
        const href = value.href ?? callerHref;
        if (href === undefined) throw Errors.invalidTask(`cannot tell which module defines task "${name}"; define it in a module file`);
        const timeout = typeof value.timeout === "number" ? value.timeout : undefined;
        return { name, href, exportName: value.exportName ?? name, at: value.at, timeout };
      }
      if (typeof value === "function") {
        if (callerHref === undefined) throw Errors.invalidTask(`cannot tell which module exports function "${name}"`);
        return { name, href: callerHref, exportName: name, at: -1 };
      }
      throw Errors.invalidTask(`createPool task "${name}" must be a task definition or an exported function`);
    });
}

/** What createPool gives a module that a pool worker is importing. */
function workerStub(names, href) {
  const fail = () => Promise.reject(Errors.createPoolInWorker(href));
  const call = Object.fromEntries(names.map((name) => [name, fail]));
  return Object.freeze({
    call: Object.freeze(call),
    shutdown: () => Promise.resolve(),
    [Symbol.dispose]() {},
    [Symbol.asyncDispose]: () => Promise.resolve(),
  });
}

class Pool {
  #lanes;
  #nextId = 1;
  #next = 0;
  #closed = false;
  #shutdown = undefined;

  constructor(threads, tasks) {
    this.#lanes = Array.from({ length: threads }, () => new Lane(tasks));
    const call = Object.create(null);
    tasks.forEach(({ name }, index) => {
      call[name] = (arg) => this.#call(index, arg);
    });
    this.call = Object.freeze(call);
    Object.freeze(this);
  }

  #call(index, arg) {
    if (this.#closed) return Promise.reject(Errors.poolClosed());
    if (arg instanceof Promise) return arg.then((value) => this.#call(index, value));
    const lane = this.#pickLane();
    if (lane.startupError !== undefined) return Promise.reject(lane.startupError);
    const transfer = [];
    let encoded;
    try {
      encoded = encode(arg, transfer);
    } catch (error) {
      return Promise.reject(error);
    }
    const settle = Promise.withResolvers();
    lane.send(this.#nextId++, index, encoded.wire, encoded.tagged, transfer, settle);
    return settle.promise;
  }

  /** The lane with the fewest calls in flight (round-robin among equals). */
  #pickLane() {
    const lanes = this.#lanes;
    let best = undefined;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[(this.#next + i) % lanes.length];
      if (lane.startupError !== undefined) continue;
      if (best === undefined || lane.inFlight < best.inFlight) best = lane;
      if (best.inFlight === 0) break;
    }
    this.#next = (this.#next + 1) % lanes.length;
    return best ?? lanes[0];
  }

  /**
   * Stops accepting calls, gives calls in flight `delayMs` to finish, rejects
   * the rest with "Thread closed" and stops the workers. Idempotent.
   */
  shutdown(delayMs = 0) {
    if (this.#shutdown) return this.#shutdown;
    this.#closed = true;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.#shutdown = new Promise((resolve) => setTimeout(resolve, delay)).then(() =>
      Promise.all(this.#lanes.map((lane) => lane.close())).then(() => undefined),
    );
    return this.#shutdown;
  }

  [Symbol.dispose]() {
    this.shutdown();
  }

  [Symbol.asyncDispose]() {
    return this.shutdown();
  }
}

/** createPool({ threads, unsafe })({ ...tasks }) */
export function createPool(options) {
  const { threads } = validatePoolOptions(options);
  const callerHref = callerModuleUrl();
  return (tasks) => {
    if (globalThis[kInPoolWorker]) return workerStub(Object.keys(tasks ?? {}), callerHref);
    return new Pool(threads, describeTasks(tasks, callerHref));
  };
}

setCreatePool(createPool);
