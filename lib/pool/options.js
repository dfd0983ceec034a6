// Validation of createPool options and task timeouts: unknown or bad options
// are rejected with ERR_KNITTING_INVALID_OPTION, never ignored.
import { Errors } from "../errors.js";
import { BufferReferenceReturn } from "../buffer-reference/buffer-reference.js";

const returnModes = Object.values(BufferReferenceReturn);

/**
 * @returns {{ threads: number, bufferReferenceReturn: "copy" | "borrow" }}
 * Both return modes are zero-copy and equally safe on Node (see "How a
 * reference crosses threads" in buffer-reference.js); the mode is validated so
 * code written for either runs unchanged.
 */
export function validatePoolOptions(options = {}) {
  if (options === null || typeof options !== "object") throw Errors.invalidOption("createPool(options) expects an object, e.g. { threads: 2 }");
  for (const key of Object.keys(options)) {
    if (key !== "threads" && key !== "unsafe") {
      throw Errors.invalidOption(`createPool option "${key}" is not supported (supported: threads, unsafe.BufferReferenceReturn)`);
    }
  }
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw Errors.invalidOption(`createPool option "threads" must be an integer from 1 to 256; received ${String(threads)}`);
  }
  let bufferReferenceReturn = "copy";
  if (options.unsafe !== undefined) {
    if (options.unsafe === null || typeof options.unsafe !== "object") throw Errors.invalidOption('createPool option "unsafe" expects an object, e.g. { BufferReferenceReturn: "copy" }');
    for (const key of Object.keys(options.unsafe)) {
      if (key !== "BufferReferenceReturn") throw Errors.invalidOption(`createPool option "unsafe.${key}" is not supported (supported: unsafe.BufferReferenceReturn)`);
    }
    const mode = options.unsafe.BufferReferenceReturn ?? "copy";
    if (!returnModes.includes(mode)) {
      throw Errors.invalidOption(`createPool option "unsafe.BufferReferenceReturn" must be "copy" or "borrow"; received ${String(mode)}`);
    }
    bufferReferenceReturn = mode;
  }
  return { threads, bufferReferenceReturn };
}

/** A task timeout: a number of ms, or { time, default | maybe | error }. */
export function validateTimeout(timeout) {
  if (timeout === undefined) return;
  const time = typeof timeout === "number" ? timeout : timeout?.time;
  if (typeof time !== "number" || Number.isNaN(time)) {
    throw Errors.invalidOption("task timeout must be a number of milliseconds or { time, default | maybe | error }");
  }
}
