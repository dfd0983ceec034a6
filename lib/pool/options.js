// Validation of createPool options, task definitions and task timeouts.
// Every option of the established library is accepted (what each does here is
// written in the README's options table); an unknown or bad one is refused
// with ERR_KNITTING_INVALID_OPTION, never ignored, and one whose effect this
// implementation cannot honour with ERR_KNITTING_UNSUPPORTED_OPTION. An
// options object is read by its own enumerable string keys only: a symbol or
// non-enumerable key is refused rather than half-read.
import { availableParallelism } from "node:os";
import { types } from "node:util";
import { Errors } from "../errors.js";
import { BufferReferenceReturn } from "../buffer-reference/buffer-reference.js";
import { ARENA_BYTES } from "../transport/layout.js";
import { runtime, sharesHistograms } from "../runtime/runtime.js";

const returnModes = Object.values(BufferReferenceReturn);
const { getPrototypeOf, getOwnPropertyDescriptor } = Object;

/** Default for worker.startupTimeoutMs: a worker that has not loaded its tasks by then is failed. */
export const STARTUP_TIMEOUT_MS = 60_000;

/** Balancer strategies: which idle worker takes a call when several could (see Seats). */
export const Strategy = Object.freeze({ FIRST_IDLE: 0, ROUND_ROBIN: 1, RANDOM: 2, FIRST_IDLE_OR_RANDOM: 3 });
const strategies = {
  roundRobin: Strategy.ROUND_ROBIN,
  robinRound: Strategy.ROUND_ROBIN,
  firstIdle: Strategy.FIRST_IDLE,
  randomLane: Strategy.RANDOM,
  firstIdleOrRandom: Strategy.FIRST_IDLE_OR_RANDOM,
};

/**
 * Checks that `value` is a plain object whose own keys are all enumerable
 * strings from `allowed`; returns `value`. `what` names it in messages
 * ("createPool option", "task timeout option"...).
 */
export function checkOptionsObject(value, what, allowed) {
  // (A Proxy could answer the checks one way and the reads another.)
  if (value === null || typeof value !== "object" || types.isProxy(value) || Array.isArray(value)) {
    throw Errors.invalidOption(`${what} must be an object like { ${allowed.join(", ")} }; received ${describeValue(value)}`);
  }
  const proto = getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw Errors.invalidOption(`${what} must be a plain object; received ${describeValue(value)}`);
  }
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === "symbol") throw Errors.invalidOption(`${what} cannot have symbol keys (found ${String(key)})`);
    if (!allowed.includes(key)) throw Errors.invalidOption(`${what} "${key}" is not supported (supported: ${allowed.join(", ")})`);
    if (!getOwnPropertyDescriptor(value, key).enumerable) throw Errors.invalidOption(`${what} "${key}" must be an ordinary (enumerable) property`);
  }
  return value;
}

/** A copy of an array whose every element passes `check`, each read once (a Proxy is refused: it could answer the check and the use differently). */
function stringArray(value, check, message) {
  if (!Array.isArray(value) || types.isProxy(value)) throw Errors.invalidOption(message);
  const copy = [];
  for (let i = 0, length = value.length; i < length; i++) copy.push(value[i]);
  if (!copy.every(check)) throw Errors.invalidOption(message);
  return copy;
}

function describeValue(value) {
  if (value === null) return "null";
  if (types.isProxy(value)) return "a Proxy";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an instance of ${value.constructor?.name ?? "an unknown class"}`;
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** A number of milliseconds: finite and non-negative, or Infinity when `infinite` allows it. */
export function checkMilliseconds(value, what, { infinite = true } = {}) {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || (!infinite && value === Infinity)) {
    throw Errors.invalidOption(`${what} must be a number of milliseconds (0 or more${infinite ? ", or Infinity" : ""}); received ${describeValue(value)}`);
  }
  return value;
}

function checkInteger(value, what, min, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw Errors.invalidOption(`${what} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}; received ${describeValue(value)}`);
  }
  return value;
}

function checkNumber(value, what) {
  if (typeof value !== "number" || Number.isNaN(value)) throw Errors.invalidOption(`${what} must be a number; received ${describeValue(value)}`);
  return value;
}

function checkBoolean(value, what) {
  if (typeof value !== "boolean") throw Errors.invalidOption(`${what} must be true or false; received ${describeValue(value)}`);
  return value;
}

function checkString(value, what, allowed) {
  if (typeof value !== "string" || value === "" || (allowed !== undefined && !allowed.includes(value))) {
    throw Errors.invalidOption(`${what} must be ${allowed ? allowed.map((a) => JSON.stringify(a)).join(" or ") : "a non-empty string"}; received ${describeValue(value)}`);
  }
  return value;
}

/** Reads `options[key]` through `check` when present, else `fallback`. */
function read(options, key, fallback, check) {
  return options?.[key] === undefined ? fallback : check(options[key]);
}

/**
 * The normalized settings of a pool. What each setting does here is in the
 * README's options table; the moot ones are validated and kept so that
 * `debug` can show them.
 */
export function validatePoolOptions(options = {}) {
  checkOptionsObject(options, "createPool option", [
    "threads", "unsafe", "worker", "inliner", "balancer", "host", "payload", "workerExecArgv", "abortSignalCapacity",
    "debug", "source", "permission", "stats",
  ]);
  const threads = "threads" in options ? options.threads : 1;
  const min = options.inliner === undefined ? 1 : 0; // with an inliner lane, the host alone may run the calls
  if (!Number.isInteger(threads) || threads < min || threads > 256) {
    throw Errors.invalidOption(`createPool option "threads" must be an integer from ${min} to 256; received ${describeValue(threads)}`);
  }
  if (options.worker?.runtime === "process" && options.stats === true) {
    throw Errors.unsupportedOption("stats: true with process workers", "call timing needs histograms shared with the workers, which other processes cannot share; pool.stats() keeps its counts without timing (leave stats unset)");
  }
  if (options.worker?.runtime === "process" && options.worker?.resourceLimits !== undefined) {
    throw Errors.unsupportedOption("worker.resourceLimits with process workers", "they limit a worker thread's heap; give a process worker's runtime its flags with workerExecArgv (e.g. --max-old-space-size=512) instead");
  }
  if (options.worker?.runtime === "process" && options.source !== undefined) {
    throw Errors.unsupportedOption("source with process workers", "a process worker starts from the library's own entry; run your setup in it with worker.bootstrap instead");
  }
  if (options.permission !== undefined) throw Errors.unsupportedOption("permission", "worker threads share their process, so a permission policy cannot be enforced per worker; run the process with Node's --permission flags instead");
  return {
    threads,
    bufferReferenceReturn: unsafeOptions(options.unsafe),
    ...workerOptions(options.worker),
    inliner: inlinerOptions(options.inliner),
    balancer: balancerOption(options.balancer),
    host: hostOptions(options.host),
    payload: payloadOptions(options.payload),
    workerExecArgv: read(options, "workerExecArgv", undefined, (argv) =>
      stringArray(argv, (flag) => typeof flag === "string", 'createPool option "workerExecArgv" must be an array of strings')),
    abortSignalCapacity: read(options, "abortSignalCapacity", 258, (n) => checkInteger(n, 'createPool option "abortSignalCapacity"', 1)),
    debug: debugOption(options.debug),
    source: read(options, "source", undefined, (source) => checkString(source, 'createPool option "source"')),
    stats: read(options, "stats", sharesHistograms && options.worker?.runtime !== "process", (on) => {
      checkBoolean(on, 'createPool option "stats"');
      if (on && !sharesHistograms) {
        throw Errors.unsupportedOption(
          "stats: true",
          `call timing needs node:perf_hooks histograms shared with worker threads, which ${runtime} does not support; pool.stats() keeps its counts without timing (leave stats unset, or false)`,
        );
      }
      return on;
    }),
  };
}

function unsafeOptions(unsafe) {
  if (unsafe === undefined) return "copy";
  checkOptionsObject(unsafe, "createPool option unsafe", ["BufferReferenceReturn"]);
  const mode = unsafe.BufferReferenceReturn ?? "copy";
  if (!returnModes.includes(mode)) throw Errors.invalidOption(`createPool option "unsafe.BufferReferenceReturn" must be "copy" or "borrow"; received ${describeValue(mode)}`);
  return mode;
}

function workerOptions(worker = {}) {
  checkOptionsObject(worker, "createPool option worker", [
    "runtime", "processRuntime", "processCommandPrefix", "processSharedMemory", "bootstrap", "resolveAfterFinishingAll",
    "timers", "hardTimeoutMs", "compiled", "startupTimeoutMs", "resourceLimits",
  ]);
  const runtime = read(worker, "runtime", "thread", (r) => checkString(r, 'createPool option "worker.runtime"', ["thread", "process", "compiled"]));
  if (runtime === "compiled" || worker.compiled !== undefined) throw Errors.unsupportedOption("worker.runtime \"compiled\"", "compiled (Porffor) workers are not supported; use thread workers (the default)");
  const processes = runtime === "process" ? processOptions(worker) : undefined;
  if (processes === undefined) {
    for (const key of ["processRuntime", "processCommandPrefix", "processSharedMemory"]) {
      if (worker[key] !== undefined) throw Errors.invalidOption(`createPool option "worker.${key}" applies to process workers: set worker.runtime to "process" as well`);
    }
  }
  const timers = read(worker, "timers", {}, (t) => checkOptionsObject(t, "createPool option worker.timers", ["spinMicroseconds", "parkMs", "pauseNanoseconds"]));
  return {
    processes,
    bootstrap: read(worker, "bootstrap", undefined, (bootstrap) => {
      checkOptionsObject(bootstrap, "createPool option worker.bootstrap", ["href", "name", "data"]);
      return {
        href: checkString(bootstrap.href, 'createPool option "worker.bootstrap.href"'),
        name: read(bootstrap, "name", "default", (name) => checkString(name, 'createPool option "worker.bootstrap.name"')),
        data: bootstrap.data,
      };
    }),
    resolveAfterFinishingAll: read(worker, "resolveAfterFinishingAll", false, (on) => checkBoolean(on, 'createPool option "worker.resolveAfterFinishingAll"')),
    timers: {
      spinMicroseconds: read(timers, "spinMicroseconds", undefined, (n) => checkNumber(n, 'createPool option "worker.timers.spinMicroseconds"')),
      parkMs: read(timers, "parkMs", undefined, (n) => checkNumber(n, 'createPool option "worker.timers.parkMs"')),
      pauseNanoseconds: read(timers, "pauseNanoseconds", undefined, (n) => checkNumber(n, 'createPool option "worker.timers.pauseNanoseconds"')),
    },
    hardTimeoutMs: read(worker, "hardTimeoutMs", undefined, (ms) => checkMilliseconds(ms, 'createPool option "worker.hardTimeoutMs"')),
    startupTimeoutMs: read(worker, "startupTimeoutMs", STARTUP_TIMEOUT_MS, (ms) => checkMilliseconds(ms, 'createPool option "worker.startupTimeoutMs"')),
    resourceLimits: read(worker, "resourceLimits", undefined, (limits) => {
      checkOptionsObject(limits, "createPool option worker.resourceLimits", ["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"]);
      for (const [key, value] of Object.entries(limits)) {
        if (typeof value !== "number" || !(value > 0)) throw Errors.invalidOption(`createPool option "worker.resourceLimits.${key}" must be a positive number of MiB`);
      }
      return { ...limits };
    }),
  };
}

/**
 * worker.runtime "process": which runtime runs the children (default: the one
 * running the host), argv placed before the child's command, and how the
 * child reaches its channel ("inherit": a descriptor on its stdin; "named":
 * by a hard-to-guess name, for containers that share /dev/shm).
 */
function processOptions(worker) {
  const processRuntime = read(worker, "processRuntime", runtime === "deno" || runtime === "bun" ? runtime : "node", (r) =>
    checkString(r, 'createPool option "worker.processRuntime"', ["node", "deno", "bun"]));
  const prefix = read(worker, "processCommandPrefix", [], (argv) =>
    stringArray(argv, (part) => typeof part === "string" && part !== "",
      'createPool option "worker.processCommandPrefix" must be an array of non-empty strings (argv placed before the worker command, e.g. ["bwrap", "--die-with-parent", ...])'));
  let memory = read(worker, "processSharedMemory", "inherit", (m) => m);
  if (typeof memory === "string") memory = { mode: memory };
  checkOptionsObject(memory, "createPool option worker.processSharedMemory", ["mode", "namePrefix", "unlinkOnShutdown"]);
  const mode = read(memory, "mode", "inherit", (m) => checkString(m, 'createPool option "worker.processSharedMemory.mode"', ["inherit", "named"]));
  const namePrefix = read(memory, "namePrefix", "knitting-", (p) => {
    checkString(p, 'createPool option "worker.processSharedMemory.namePrefix"');
    if (p.includes("/") || p.includes("\0")) throw Errors.invalidOption('createPool option "worker.processSharedMemory.namePrefix" must not contain "/" or NUL');
    return p;
  });
  const unlinkOnShutdown = read(memory, "unlinkOnShutdown", true, (on) => checkBoolean(on, 'createPool option "worker.processSharedMemory.unlinkOnShutdown"'));
  return { runtime: processRuntime, prefix, memory: { mode, namePrefix, unlinkOnShutdown } };
}

function inlinerOptions(inliner) {
  if (inliner === undefined) return undefined;
  checkOptionsObject(inliner, "createPool option inliner", ["position", "batchSize", "dispatchThreshold"]);
  return {
    position: read(inliner, "position", "last", (p) => checkString(p, 'createPool option "inliner.position"', ["first", "last"])),
    batchSize: read(inliner, "batchSize", 1, (n) => checkInteger(n, 'createPool option "inliner.batchSize"', 1)),
    dispatchThreshold: read(inliner, "dispatchThreshold", 1, (n) => checkInteger(n, 'createPool option "inliner.dispatchThreshold"', 1)),
  };
}

function balancerOption(balancer) {
  if (balancer === undefined) return Strategy.FIRST_IDLE;
  let name = balancer;
  if (typeof balancer === "object" && balancer !== null) {
    checkOptionsObject(balancer, "createPool option balancer", ["strategy"]);
    name = balancer.strategy;
  }
  const strategy = strategies[name];
  if (typeof name !== "string" || strategy === undefined) {
    throw Errors.invalidOption(`createPool option "balancer" must be one of ${Object.keys(strategies).join(", ")} (or { strategy }); received ${describeValue(name)}`);
  }
  return strategy;
}

function hostOptions(host = {}) {
  checkOptionsObject(host, "createPool option host", ["stallFreeLoops", "maxBackoffMs", "dispatcher", "steal", "stealRegionLanes"]);
  return {
    stallFreeLoops: read(host, "stallFreeLoops", undefined, (n) => checkInteger(n, 'createPool option "host.stallFreeLoops"', 0)),
    maxBackoffMs: read(host, "maxBackoffMs", undefined, (ms) => checkMilliseconds(ms, 'createPool option "host.maxBackoffMs"')),
    dispatcher: read(host, "dispatcher", undefined, (d) => checkString(d, 'createPool option "host.dispatcher"', ["per-thread", "serial-channel", "steal"])),
    steal: read(host, "steal", undefined, (on) => checkBoolean(on, 'createPool option "host.steal"')),
    stealRegionLanes: read(host, "stealRegionLanes", undefined, (n) => {
      checkInteger(n, 'createPool option "host.stealRegionLanes"', 1);
      if ((n & (n - 1)) !== 0) throw Errors.invalidOption(`createPool option "host.stealRegionLanes" must be a power of two; received ${n}`);
      return n;
    }),
  };
}

function payloadOptions(payload = {}) {
  checkOptionsObject(payload, "createPool option payload", ["mode", "payloadInitialBytes", "payloadMaxByteLength", "maxPayloadBytes"]);
  const mode = read(payload, "mode", "growable", (m) => checkString(m, 'createPool option "payload.mode"', ["growable", "fixed"]));
  const maxByteLength = read(payload, "payloadMaxByteLength", ARENA_BYTES, (n) => checkInteger(n, 'createPool option "payload.payloadMaxByteLength"', 8));
  const initialBytes = read(payload, "payloadInitialBytes", Math.min(4 << 20, maxByteLength), (n) => checkInteger(n, 'createPool option "payload.payloadInitialBytes"', 0));
  const maxPayloadBytes = read(payload, "maxPayloadBytes", undefined, (n) => {
    if (!Number.isInteger(n) || n <= 0 || n > Math.floor(maxByteLength / 8)) {
      throw Errors.invalidOptionRange(`createPool option "payload.maxPayloadBytes" must be an integer in (0, payloadMaxByteLength / 8 = ${Math.floor(maxByteLength / 8)}]; received ${describeValue(n)}`);
    }
    return n;
  });
  return { mode, arenaBytes: maxByteLength, initialBytes: Math.min(initialBytes, maxByteLength), maxPayloadBytes };
}

function debugOption(debug) {
  const fromEnv = process.env.KNITTING_DEBUG;
  if (debug === undefined) return fromEnv !== undefined && fromEnv !== "" && fromEnv !== "0" && fromEnv !== "false";
  if (typeof debug === "boolean") return debug;
  checkOptionsObject(debug, "createPool option debug", ["host", "globals", "signals", "imports", "lifecycle"]);
  for (const [key, value] of Object.entries(debug)) checkBoolean(value, `createPool option "debug.${key}"`);
  return Object.values(debug).some(Boolean);
}

/** How many cores the pool may keep awake at once besides the host's. */
export function awakeLimit() {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * A task timeout: a number of ms, or { time, default | maybe: true | error }.
 * A negative time or Infinity disables it; a time beyond the timer range
 * works (timers are chained).
 */
export function validateTimeout(timeout) {
  if (timeout === undefined) return;
  const usage = "task timeout must be a number of milliseconds or { time, default | maybe: true | error }";
  if (typeof timeout === "number") {
    if (Number.isNaN(timeout)) throw Errors.invalidOption(`${usage}; received NaN`);
    return;
  }
  if (timeout === null || typeof timeout !== "object") throw Errors.invalidOption(`${usage}; received ${describeValue(timeout)}`);
  checkOptionsObject(timeout, "task timeout option", ["time", "default", "maybe", "error"]);
  // A missing time disables the timeout, as a negative one does.
  if (timeout.time !== undefined && (typeof timeout.time !== "number" || Number.isNaN(timeout.time))) {
    throw Errors.invalidOption(`${usage}: "time" must be a number (or left out: no timeout)`);
  }
  const outcomes = ["default", "maybe", "error"].filter((key) => key in timeout);
  if (outcomes.length > 1) throw Errors.invalidOption(`task timeout can have one of default, maybe or error; received ${outcomes.join(" and ")}`);
  if ("maybe" in timeout && timeout.maybe !== true) throw Errors.invalidOption('task timeout "maybe" can only be true (resolve with undefined)');
}

/** The delay of a task timeout, or undefined when it never fires (none, negative, Infinity). */
export function timeoutDelay(timeout) {
  const time = typeof timeout === "number" ? timeout : timeout?.time;
  return typeof time === "number" && time >= 0 && time !== Infinity ? time : undefined;
}

/** Task option abortSignal: true | { hasAborted: true }. Returns whether the task gets the abort toolkit. */
export function validateAbortSignal(abortSignal) {
  if (abortSignal === undefined || abortSignal === false) return false;
  if (abortSignal === true) return true;
  checkOptionsObject(abortSignal, "task option abortSignal", ["hasAborted"]);
  if (abortSignal.hasAborted !== true) throw Errors.invalidOption('task option "abortSignal" must be true or { hasAborted: true }');
  return true;
}
