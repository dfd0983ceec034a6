// Finds the URL of the module that called into the library, from the stack.
import { pathToFileURL } from "node:url";
import { Errors } from "../errors.js";

const here = new URL(".", import.meta.url).href; // lib/pool/
const libRoot = new URL("..", here).href; // lib/

let override;

/**
 * Overrides stack-based discovery of the calling module (for bundled code or
 * runtimes without file locations in stacks): task() and createPool() called
 * after it attribute their tasks to `url`. Call it at the top of the module
 * that defines the tasks, with `import.meta.url`. Pass undefined to go back
 * to discovery.
 */
export function setModuleUrl(url) {
  if (url !== undefined) {
    try {
      url = new URL(url).href;
    } catch (cause) {
      throw Errors.invalidOption(`setModuleUrl expects an absolute URL such as import.meta.url; received ${String(url)}`);
    }
  }
  override = url;
}

/**
 * URL of the first stack frame outside this library (the user's module), or
 * the URL given to setModuleUrl. Returns undefined when neither is known.
 */
export function callerModuleUrl() {
  if (override !== undefined) return override;
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const holder = {};
  Error.captureStackTrace(holder, callerModuleUrl);
  Error.stackTraceLimit = saved;
  for (const line of holder.stack.split("\n").slice(1)) {
    const match = /\(?((?:file|data|https?):\/\/[^\s)]+?|\/[^\s)]+?):\d+:\d+\)?$/.exec(line.trim());
    if (!match) continue;
    const url = match[1].startsWith("/") ? pathToFileURL(match[1]).href : match[1];
    if (!url.startsWith(libRoot)) return url;
  }
  return undefined;
}
