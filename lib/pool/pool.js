// createPool(options)(tasks): the pool object users hold, with one
// `call.<name>(arg)` function per task, shutdown and dispose. The transport
// and scheduling live in dispatcher.js; the workers' lifecycles in lane.js.
import { Errors } from "../errors.js";
import { adjustExternalMemory } from "../native.js";
import { kImportingTasks } from "../symbols.js";
import { callerModuleUrl } from "./caller.js";
import { Lane } from "./lane.js";
import { ProcessLane } from "../process/process-lane.js";
import { Dispatcher, withReject } from "./dispatcher.js";
import { decode } from "../codec/decode.js";
import { prepare } from "../codec/prepare.js";
import { checkMilliseconds, checkOptionsObject, validatePoolOptions } from "./options.js";
import { isTask, setCreatePool } from "./task.js";
import { setLongTimeout } from "../timers.js";
import { poolLogger } from "./debug.js";
import { types } from "node:util";

const { isPromise, isProxy } = types;
const promiseThen = Promise.prototype.then;

/** Describes each task so a worker can import it: sorted by name. */
function describeTasks(tasks, callerHref) {
  const proto = tasks === null || typeof tasks !== "object" || isProxy(tasks) ? undefined : Object.getPrototypeOf(tasks);
  if (proto !== Object.prototype && proto !== null && !types.isModuleNamespaceObject(tasks)) {
    throw Errors.invalidTask("createPool(options)(tasks) expects a plain object of tasks (or a module namespace), e.g. { invert }");
  }
  // (A module namespace, `import * as tasks`, has a hidden Symbol.toStringTag: hidden symbols are no tasks.)
  for (const key of Reflect.ownKeys(tasks)) {
    const enumerable = Object.getOwnPropertyDescriptor(tasks, key).enumerable;
    if (typeof key === "symbol" && enumerable) throw Errors.invalidTask(`the task map cannot have symbol keys (found ${String(key)}): name each task with a string`);
    if (typeof key === "string" && !enumerable) throw Errors.invalidTask(`task "${key}" must be an ordinary (enumerable) property of the task map`);
  }
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
        return { name, href, exportName: value.exportName ?? name, at: value.at, timeout, abortable: value.abortable === true };
      }
      if (typeof value === "function") {
        if (callerHref === undefined) throw Errors.invalidTask(`cannot tell which module exports function "${name}"`);
        return { name, href: callerHref, exportName: name, at: -1, abortable: false };
      }
      throw Errors.invalidTask(`createPool task "${name}" must be a task definition or an exported function`);
    });
}

/** worker.bootstrap with its href resolved against the calling module, and data that can reach the workers. */
function resolveBootstrap(bootstrap, callerHref) {
  let href;
  try {
    href = new URL(bootstrap.href, callerHref).href;
  } catch {
    throw Errors.invalidOption(`worker.bootstrap.href ${JSON.stringify(bootstrap.href)} is not a URL or a path relative to the calling module`);
  }
  try {
    structuredClone(bootstrap.data);
  } catch (cause) {
    throw Errors.invalidOption(`worker.bootstrap.data is sent to every worker, so it must be structured-cloneable (${cause.message})`);
  }
  return { ...bootstrap, href };
}

/** What createPool gives a module that a pool worker is importing. */
function workerStub(names, href) {
  const fail = () => Promise.reject(Errors.createPoolInWorker(href));
  const call = Object.fromEntries(names.map((name) => [name, fail]));
  return Object.freeze({
    call: Object.freeze(call),
    shutdown: () => Promise.resolve(),
    stats: () => ({ queueSize: 0, running: 0, completed: 0, failed: 0, workers: [] }),
    [Symbol.dispose]() {},
    [Symbol.asyncDispose]: () => Promise.resolve(),
  });
}

/**
 * The pool's machinery. Nothing in it refers to the Pool object users hold
 * (the workers' listeners refer to this), so a Pool dropped without
 * shutdown() can be collected, and then this closes once idle.
 */
class PoolCore {
  #tasks;
  #dispatcher;
  #lanes;
  #closed = false;
  #shutdown = undefined;
  /** Called once when the last call in flight settles (a shutdown waiting for them). */
  #whenIdle = undefined;

  #log;
  #acrossProcesses;

  /**
   * @param {ReturnType<typeof validatePoolOptions>} settings
   * @param {ReturnType<typeof describeTasks>} tasks
   * @param {(Function | undefined)[]} hostFunctions the tasks as the host can run them (the inliner lane)
   */
  constructor(settings, tasks, hostFunctions) {
    this.#tasks = tasks;
    this.#acrossProcesses = settings.processes !== undefined;
    this.#log = poolLogger(settings.debug);
    this.#log("created", `with ${settings.threads} thread${settings.threads > 1 ? "s" : ""}, tasks: ${tasks.map((t) => t.name).join(", ")}`);
    this.#dispatcher = new Dispatcher(settings, { keepAlive: (keep) => this.#keepAlive(keep) });
    const workerData = { ...this.#dispatcher.workerData, tasks };
    const events = {
      onStartupFailed: (lane, error) => this.#laneFailed(lane, error),
      onExit: (lane, code, cause) => this.#laneExited(lane, code, cause),
    };
    if (settings.processes !== undefined) {
      const boot = {
        tasks,
        bootstrap: settings.bootstrap,
        threads: settings.threads,
        maxPayloadBytes: settings.payload.maxPayloadBytes,
        spinMs: (settings.timers.spinMicroseconds ?? 50) / 1000,
      };
      const hooks = this.#dispatcher.processHooks;
      this.#lanes = Array.from({ length: settings.threads }, (_, i) => new ProcessLane(i + 1, boot, settings.processes, settings.workerExecArgv, settings.startupTimeoutMs, hooks, events, this.#log));
    } else this.#lanes = Array.from({ length: settings.threads }, (_, i) => new Lane(i + 1, workerData, events, settings, this.#log));
    this.#dispatcher.lanes = this.#lanes;
    this.#dispatcher.hostFunctions = hostFunctions;
    weighSharedMemory(this, workerData, this.#lanes);
  }

  /**
   * Makes a call of task `index`. `options`: { signal, hardTimeoutMs } (see
   * README). Never throws: every failure settles the returned promise, which
   * for a task defined with abortSignal also has reject(reason?).
   */
  call(index, arg, options) {
    const abortable = this.#tasks[index].abortable === true;
    // (Known before the options are read: a call refused for them still has reject().)
    let control = abortable ? ABORTABLE : undefined;
    try {
      if (options !== undefined) control = { ...callOptions(options), abortable };
      if (this.#closed) return this.#refuse(Errors.poolClosed(), control);
      if (control?.signal?.aborted) return this.#refuse(control.signal.reason, control);
      // (isPromise runs no user code, unlike instanceof on a Proxy, or a `then` getter.)
      if (isPromise(arg)) return this.#callLater(index, arg, control);
      const failure = this.#allLanesFailed();
      if (failure !== undefined) return this.#refuse(failure, control);
      const prepared = prepare(arg, "arg", this.#acrossProcesses, this.#stillOpen);
      // Encoding runs user code (getters): it may have shut the pool down.
      if (this.#closed) return this.#refuse(Errors.poolClosed(), control);
      return this.#dispatcher.send(index, prepared, control);
    } catch (error) {
      return this.#refuse(error, control);
    }
  }

  /** Reading an argument runs user code (getters), which may have shut the pool down: then nothing is taken. */
  #stillOpen = () => {
    if (this.#closed) throw Errors.poolClosed();
  };

  /** A call rejected before it was sent: it counts as failed in stats(). */
  #refuse(error, control) {
    this.#dispatcher.countFailed();
    return withReject(Promise.reject(error), control);
  }

  /** A call whose argument is a promise: made once it resolves (reject() works meanwhile too). */
  #callLater(index, arg, control) {
    const outer = Promise.withResolvers();
    let inner;
    let rejectedWith;
    promiseThen.call(
      arg,
      (value) => {
        if (rejectedWith !== undefined) return;
        inner = this.call(index, value, control === undefined ? undefined : { signal: control.signal, hardTimeoutMs: control.hardTimeoutMs });
        promiseThen.call(inner, outer.resolve, outer.reject);
      },
      (reason) => {
        if (rejectedWith !== undefined) return;
        this.#dispatcher.countFailed();
        outer.reject(reason);
      },
    );
    if (control?.abortable) {
      outer.promise.reject = (...reason) => {
        if (inner !== undefined) return inner.reject(...reason);
        if (reason.length > 0 && rejectedWith === undefined) {
          this.#dispatcher.countFailed();
          outer.reject((rejectedWith = reason[0]));
        }
      };
    }
    return outer.promise;
  }

  #allLanesFailed() {
    if (this.#lanes.length === 0) return undefined; // an inliner-only pool
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
    return this.#dispatcher.laneExited(lane, () => (typeof code === "string" ? Errors.processWorkerSignal(code, cause) : Errors.workerExited(code, cause)));
  }

  /**
   * Stops accepting calls, gives calls in flight `delayMs` to finish, rejects
   * the rest with "Thread closed" and stops the workers. Idempotent.
   */
  shutdown(delayMs = 0) {
    if (this.#shutdown) return this.#shutdown;
    this.#closed = true;
    this.#log("shutdown", delayMs > 0 ? `(calls in flight get ${delayMs} ms)` : "");
    // A bad or negative delay means none; Infinity: wait for every call in flight.
    const delay = typeof delayMs === "number" && delayMs > 0 ? delayMs : 0;
    this.#shutdown = new Promise((resolve) => {
      const finish = () => {
        this.#dispatcher.stop();
        this.#dispatcher.rejectAll(() => Errors.threadClosed());
        resolve(Promise.all(this.#lanes.map((lane) => lane.close())).then(() => undefined));
      };
      if (delay === 0 || this.#dispatcher.size === 0) return finish();
      // Calls in flight get the delay to finish; close as soon as they have.
      const cancel = setLongTimeout(finish, delay);
      this.#whenIdle = () => {
        cancel();
        finish();
      };
    });
    return this.#shutdown;
  }

  /** pool.stats() (see README "Stats"). */
  stats() {
    return this.#dispatcher.stats();
  }

  /** The Pool object was collected: close now if idle, else once the last call in flight settles. */
  closeWhenIdle() {
    if (this.#shutdown) return;
    if (this.#dispatcher.size === 0) this.shutdown();
    else this.#whenIdle = () => this.shutdown();
  }
}

/** A call's second argument: { signal?: AbortSignal, hardTimeoutMs?: number }. */
function callOptions(options) {
  checkOptionsObject(options, "call option", ["signal", "hardTimeoutMs"]);
  const { signal, hardTimeoutMs } = options;
  if (signal !== undefined && !isAbortSignal(signal)) throw Errors.invalidOption("call option \"signal\" must be an AbortSignal");
  if (hardTimeoutMs !== undefined) checkMilliseconds(hardTimeoutMs, 'call option "hardTimeoutMs"');
  return { signal, hardTimeoutMs };
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted").get;
/** A genuine AbortSignal (its own getter's brand check: an object that only inherits from AbortSignal.prototype is not one). */
function isAbortSignal(value) {
  try {
    abortedGetter.call(value);
    return true;
  } catch {
    return false;
  }
}

/** For a task defined with abortSignal, a promise settled already still has the reject() its callers may call. */
const ABORTABLE = Object.freeze({ abortable: true });

/**
 * V8 does not weigh SharedArrayBuffers when it decides to collect, so a
 * program that makes and drops pools (one per request, say) kept the memory
 * of every dropped one until some later full collection: 1,500 pools grew the
 * process by 2.4 GB. The engine is told of a pool's shared memory while the
 * pool lives, and told again when it has been collected.
 */
const sharedWeights = new FinalizationRegistry((bytes) => adjustExternalMemory(-bytes));
function weighSharedMemory(core, { control, queue }, lanes) {
  let bytes = control.byteLength + queue.queue.byteLength + queue.arena.byteLength + queue.claims.byteLength;
  for (const lane of lanes) bytes += (lane.results.sab?.byteLength ?? 0) + (lane.times?.samples.byteLength ?? 0);
  adjustExternalMemory(bytes);
  sharedWeights.register(core, bytes);
}

/** Closes pools that were dropped without shutdown(). */
const dropped = new FinalizationRegistry((core) => core.closeWhenIdle());

/** The pool object users hold: call.<name>, shutdown and dispose, all of which work detached. */
class Pool {
  #core;

  constructor(settings, tasks, hostFunctions) {
    const core = new PoolCore(settings, tasks, hostFunctions);
    this.#core = core;
    const call = Object.create(null);
    // These close over this Pool (not only the core): holding any of them
    // keeps the pool alive.
    tasks.forEach(({ name }, index) => {
      call[name] = (arg, options) => this.#core.call(index, arg, options);
    });
    this.call = Object.freeze(call);
    this.shutdown = (delayMs) => this.#core.shutdown(delayMs);
    this.stats = () => this.#core.stats();
    this[Symbol.dispose] = () => void this.#core.shutdown();
    this[Symbol.asyncDispose] = () => this.#core.shutdown();
    Object.freeze(this);
    dropped.register(this, core);
  }
}

/** createPool({ threads, unsafe })({ ...tasks }) */
export function createPool(options) {
  const settings = validatePoolOptions(options);
  const callerHref = callerModuleUrl();
  if (settings.bootstrap !== undefined) settings.bootstrap = resolveBootstrap(settings.bootstrap, callerHref);
  return (tasks) => {
    if (globalThis[kImportingTasks]) return workerStub(Object.keys(tasks ?? {}), callerHref);
    const described = describeTasks(tasks, callerHref);
    const hostFunctions = described.map(({ name }) => {
      const value = tasks[name];
      if (typeof value === "function") return value;
      return value.imported === true ? undefined : value; // the definition: the inliner applies its timeout and abortSignal
    });
    if (settings.threads === 0 && hostFunctions.includes(undefined)) {
      throw Errors.invalidOption("a pool with threads: 0 runs every call on the inliner lane, which cannot run importTask tasks (only workers import them); give it threads");
    }
    return new Pool(settings, described, hostFunctions);
  };
}

setCreatePool(createPool);
