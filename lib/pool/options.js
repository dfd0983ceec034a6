// Validation of createPool options, task definitions and task timeouts:
// unknown or bad options are rejected with ERR_KNITTING_INVALID_OPTION, never
// ignored. An options object is read by its own enumerable string keys only;
// a symbol key or a non-enumerable key is refused rather than half-read.
import { Errors } from "../errors.js";
import { BufferReferenceReturn } from "../buffer-reference/buffer-reference.js";

const returnModes = Object.values(BufferReferenceReturn);
const { getPrototypeOf, getOwnPropertyDescriptor } = Object;

/** Default for worker.startupTimeoutMs: a worker that has not loaded its tasks by then is failed. */
export const STARTUP_TIMEOUT_MS = 60_000;

/**
 * Checks that `value` is a plain object whose own keys are all enumerable
 * strings from `allowed`; returns `value`. `what` names it in messages
 * ("createPool options", "task timeout"...).
 */
export function checkOptionsObject(value, what, allowed) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
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

function describeValue(value) {
  if (value === null) return "null";
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

/**
 * @returns {{ threads: number, bufferReferenceReturn: "copy" | "borrow", startupTimeoutMs: number }}
 * Both return modes are zero-copy and equally safe on Node (see "How a
 * reference crosses threads" in buffer-reference.js); the mode is validated so
 * code written for either runs unchanged.
 */
export function validatePoolOptions(options = {}) {
  checkOptionsObject(options, "createPool option", ["threads", "unsafe", "worker"]);
  const threads = "threads" in options ? options.threads : 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw Errors.invalidOption(`createPool option "threads" must be an integer from 1 to 256; received ${describeValue(threads)}`);
  }
  let bufferReferenceReturn = "copy";
  if (options.unsafe !== undefined) {
    checkOptionsObject(options.unsafe, "createPool option unsafe", ["BufferReferenceReturn"]);
    const mode = options.unsafe.BufferReferenceReturn ?? "copy";
    if (!returnModes.includes(mode)) {
      throw Errors.invalidOption(`createPool option "unsafe.BufferReferenceReturn" must be "copy" or "borrow"; received ${describeValue(mode)}`);
    }
    bufferReferenceReturn = mode;
  }
  let startupTimeoutMs = STARTUP_TIMEOUT_MS;
  if (options.worker !== undefined) {
    checkOptionsObject(options.worker, "createPool option worker", ["startupTimeoutMs"]);
    if (options.worker.startupTimeoutMs !== undefined) {
      startupTimeoutMs = checkMilliseconds(options.worker.startupTimeoutMs, 'createPool option "worker.startupTimeoutMs"');
    }
  }
  return { threads, bufferReferenceReturn, startupTimeoutMs };
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
  if (typeof timeout.time !== "number" || Number.isNaN(timeout.time)) throw Errors.invalidOption(`${usage}: "time" must be a number`);
  const outcomes = ["default", "maybe", "error"].filter((key) => key in timeout);
  if (outcomes.length > 1) throw Errors.invalidOption(`task timeout can have one of default, maybe or error; received ${outcomes.join(" and ")}`);
  if ("maybe" in timeout && timeout.maybe !== true) throw Errors.invalidOption('task timeout "maybe" can only be true (resolve with undefined)');
}

/** The delay of a task timeout, or undefined when it never fires (none, negative, Infinity). */
export function timeoutDelay(timeout) {
  const time = typeof timeout === "number" ? timeout : timeout?.time;
  return typeof time === "number" && time >= 0 && time !== Infinity ? time : undefined;
}
