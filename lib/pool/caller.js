// Finds the URL of the module that called into the library, from the stack.
import { pathToFileURL } from "node:url";

const here = new URL(".", import.meta.url).href; // lib/pool/
const libRoot = new URL("..", here).href; // lib/

/**
 * URL of the first stack frame outside this library (the user's module).
 * Returns undefined when no such frame has a file location.
 */
export function callerModuleUrl() {
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
