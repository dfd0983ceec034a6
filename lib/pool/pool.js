// createPool(options)(tasks): the pool object users hold, with one
// `call.<name>(arg)` function per task, shutdown and dispose. The transport
// and scheduling live in dispatcher.js; the workers' lifecycles in lane.js.
import { Errors } from "../errors.js";
import { kInPoolWorker } from "../symbols.js";
import { callerModuleUrl } from "./caller.js";
import { Lane } from "./lane.js";
import { Dispatcher } from "./dispatcher.js";
import { decode } from "../codec/decode.js";
import { prepare } from "../codec/prepare.js";
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
        // A task() definition carries its timeout in the module the workers
        // import; only importTask's has to travel with the description.
        const timeout = value.imported === true ? value.timeout : undefined;
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
  #dispatcher;
  #lanes;
  #closed = false;
  #shutdown = undefined;
  /** Called once when the last call in flight settles (shutdown with a delay). */
  #whenIdle = undefined;

  constructor(threads, tasks) {
    this.#dispatcher = new Dispatcher(threads, { keepAlive: (keep) => this.#keepAlive(keep) });
    const workerData = { ...this.#dispatcher.workerData, tasks };
    const events = {
      onStartupFailed: (lane, message) => this.#laneFailed(lane, decode(message.wire, message.tagged)),
      onExit: (lane, code, cause) => this.#laneExited(lane, code, cause),
    };
    this.#lanes = Array.from({ length: threads }, (_, i) => new Lane(i + 1, workerData, events));
    this.#dispatcher.lanes = this.#lanes;
    const call = Object.create(null);
    tasks.forEach(({ name }, index) => {
      call[name] = (arg) => this.#call(index, arg);
    });
    this.call = Object.freeze(call);
    // Own bound methods, so `const { shutdown } = pool` works too.
    this.shutdown = (delayMs) => this.#startShutdown(delayMs);
    this[Symbol.dispose] = () => void this.#startShutdown();
    this[Symbol.asyncDispose] = () => this.#startShutdown();
    Object.freeze(this);
  }

  #call(index, arg) {
    if (this.#closed) return Promise.reject(Errors.poolClosed());
    if (arg instanceof Promise) return arg.then((value) => this.#call(index, value));
    const failure = this.#allLanesFailed();
    if (failure !== undefined) return Promise.reject(failure);
    let prepared;
    try {
      prepared = prepare(arg, "arg");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#dispatcher.send(index, prepared.wire, prepared.tagged, prepared.shared, prepared.json, prepared.transfer);
  }

  #allLanesFailed() {
    const first = this.#lanes[0].startupError;
    return first !== undefined && this.#lanes.every((lane) => lane.startupError !== undefined) ? first : undefined;
  }

  #keepAlive(keep) {
    for (const lane of this.#lanes) lane.keepAlive(keep);
    if (keep) return;
    const whenIdle = this.#whenIdle;
    this.#whenIdle = undefined;
    whenIdle?.();
  }

  // ---- lanes failing ----

  #laneFailed(lane, error) {
    lane.startupError = error;
    lane.close();
    if (this.#allLanesFailed() !== undefined) this.#dispatcher.rejectAll(() => error);
  }

  #laneExited(lane, code, cause) {
    this.#dispatcher.laneExited(lane, () => Errors.workerExited(code, cause));
  }

  /**
   * Stops accepting calls, gives calls in flight `delayMs` to finish, rejects
   * the rest with "Thread closed" and stops the workers. Idempotent.
   */
  #startShutdown(delayMs = 0) {
    if (this.#shutdown) return this.#shutdown;
    this.#closed = true;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.#shutdown = new Promise((resolve) => {
      const finish = () => {
        this.#dispatcher.stop();
        this.#dispatcher.rejectAll(() => Errors.threadClosed());
        resolve(Promise.all(this.#lanes.map((lane) => lane.close())).then(() => undefined));
      };
      if (delay === 0 || this.#dispatcher.size === 0) return finish();
      // Calls in flight get the delay to finish; close as soon as they have.
      const timer = setTimeout(finish, delay);
      this.#whenIdle = () => {
        clearTimeout(timer);
        finish();
      };
    });
    return this.#shutdown;
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
