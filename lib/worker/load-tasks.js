// Imports the modules that define the pool's tasks and finds each task in
// them, in the host's order (sorted by name).
import { Errors } from "../errors.js";
import { isTask } from "../pool/task.js";

/**
 * A task that cannot be found or loaded fails only its own calls: the others
 * run (a module that does not import, or an export that is not a function,
 * does not take the pool down).
 *
 * @param {{ name: string, href: string, exportName: string, at: number, timeout?: unknown }[]} entries
 * @param {(index: number) => void} importing called before the module of entry `index` is imported
 * @returns {Promise<{ f: Function, timeout: unknown, abortable: boolean }[]>}
 */
export async function loadTasks(entries, importing) {
  const modules = new Map();
  const loaded = [];
  for (const [index, entry] of entries.entries()) {
    if (!modules.has(entry.href)) {
      importing(index);
      modules.set(entry.href, import(entry.href));
    }
    let namespace;
    try {
      namespace = await modules.get(entry.href);
    } catch (cause) {
      loaded.push(failing(Errors.taskModuleFailed(entry.name, entry.href, cause)));
      continue;
    }
    // The export under the task's name; failing that, the task defined at the
    // same position in the module (a task exported under another name).
    let found = namespace[entry.exportName];
    if (!isTask(found) && typeof found !== "function" && entry.at >= 0) {
      found = Object.values(namespace).find((value) => isTask(value) && value.at === entry.at) ?? found;
    }
    if (isTask(found)) loaded.push({ f: found.f, timeout: found.timeout ?? entry.timeout, abortable: found.abortable === true || entry.abortable === true });
    else if (typeof found === "function") loaded.push({ f: found, timeout: entry.timeout, abortable: entry.abortable === true });
    else if (entry.exportName in namespace) {
      const kind = found === null || found === undefined ? String(found) : typeof found === "object" ? "an object" : `a ${typeof found}`;
      loaded.push(failing(Errors.taskNotAFunction(entry.name, entry.exportName, entry.href, kind, Object.keys(namespace))));
    } else loaded.push(failing(Errors.taskNotExported(entry.name, entry.exportName, entry.href, Object.keys(namespace))));
  }
  return loaded;
}

/** A task whose every call rejects with `error`. */
const failing = (error) => ({
  f: () => {
    throw error;
  },
  timeout: undefined,
  abortable: false,
});
