// Task definitions: task({ f, timeout }), importTask({ href, name }), and the
// task(...).createPool(options) shorthand.
import { Errors } from "../errors.js";
import { kImportingTasks, kTask } from "../symbols.js";
import { callerModuleUrl } from "./caller.js";
import { checkOptionsObject, validateAbortSignal, validateTimeout } from "./options.js";
import { encode } from "../codec/encode.js";

/** Ordinal of each task() call per module, so a worker can find the same task. */
const ordinals = new Map();

function nextOrdinal(href) {
  const at = ordinals.get(href) ?? 0;
  ordinals.set(href, at + 1);
  return at;
}

let createPoolLater; // set by pool.js (avoids an import cycle)
export function setCreatePool(fn) {
  createPoolLater = fn;
}

/** Defines a task that runs `f(arg)` on a worker thread. */
export function task(definition) {
  if (definition === null || typeof definition !== "object" || typeof definition.f !== "function") {
    throw Errors.invalidTask("task({ f }) needs an object whose `f` is the function to run on the worker");
  }
  checkOptionsObject(definition, "task option", ["f", "timeout", "abortSignal"]);
  validateTimeout(definition.timeout);
  const abortable = validateAbortSignal(definition.abortSignal);
  const href = callerModuleUrl();
  const def = {
    f: definition.f,
    timeout: definition.timeout,
    abortSignal: definition.abortSignal,
    abortable,
    href,
    at: href === undefined ? -1 : nextOrdinal(href),
    [kTask]: true,
    createPool(options) {
      if (globalThis[kImportingTasks]) return def; // a worker importing this module: it defines, the host calls
      const pool = createPoolLater(options)({ task: def });
      return {
        call: (arg, options) => pool.call.task(arg, options),
        shutdown: (delayMs) => pool.shutdown(delayMs),
        stats: () => pool.stats(),
        [Symbol.dispose]: () => pool[Symbol.dispose](),
        [Symbol.asyncDispose]: () => pool[Symbol.asyncDispose](),
      };
    },
  };
  return def;
}

/** A task that only workers import: `href` (relative to the caller) exports `name`. */
export function importTask(definition = {}) {
  checkOptionsObject(definition, "importTask option", ["href", "name", "timeout", "abortSignal"]);
  const { href, name = "default", timeout } = definition;
  const abortable = validateAbortSignal(definition.abortSignal);
  if (typeof href !== "string" || href === "") throw Errors.invalidTask("importTask({ href }) needs a non-empty module URL or path");
  if (typeof name !== "string" || name === "") throw Errors.invalidTask("importTask({ name }) must be a non-empty export name");
  validateTimeout(timeout);
  // The workers get this timeout by structured clone (they do not run this
  // call), and send its default back as a call's result: it must survive
  // both (checked on a clone, so that nothing of the caller's is taken).
  try {
    encode(structuredClone(timeout), [], "importTask timeout");
  } catch (cause) {
    throw Errors.invalidOption(
      `importTask timeout is sent to the workers and its default comes back as a result, so it must be a value a call can carry (${cause.message}); ` +
        "define the task with task({ f, timeout }) in its module to use any value",
      { cause },
    );
  }
  const base = callerModuleUrl();
  let url;
  try {
    url = new URL(href, base).href;
  } catch {
    throw Errors.invalidTask(
      `importTask({ href: ${JSON.stringify(href)} }) is not a URL${base === undefined ? "" : ` or a path relative to ${base}`}; ` +
        'pass an absolute URL (new URL("./tasks.mjs", import.meta.url).href) or a relative path such as "./tasks.mjs"',
    );
  }
  return { href: url, exportName: name, timeout, abortable, at: -1, imported: true, [kTask]: true };
}

export const isTask = (value) => value !== null && typeof value === "object" && value[kTask] === true;
