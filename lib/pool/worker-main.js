// Entry point of every pool worker thread: imports the modules that define
// the pool's tasks, then runs calls as they arrive and posts their results.
//
// Messages in: [id, taskIndex, wire, tagged] (a call). Messages out:
// [id, ok, wire, tagged] (a result), or { type: "startup-failed", ... } once.
import { parentPort, workerData } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { encode } from "../codec/encode.js";
import { decode } from "../codec/decode.js";
import { Errors } from "../errors.js";
import { kInPoolWorker } from "../symbols.js";
import { isTask } from "./task.js";
import { Envelope } from "../envelope.js";
import { BufferReference } from "../buffer-reference/buffer-reference.js";

globalThis[kInPoolWorker] = true;

/** @type {{ f: Function, timeout: unknown }[]} */
let tasks = [];

async function loadTasks(entries) {
  const modules = new Map();
  const loaded = [];
  for (const entry of entries) {
    if (!modules.has(entry.href)) modules.set(entry.href, import(entry.href));
    let namespace;
    try {
      namespace = await modules.get(entry.href);
    } catch (cause) {
      throw Errors.taskModuleFailed(entry.name, entry.href, cause);
    }
    let found = namespace[entry.exportName];
    if (entry.at >= 0 && !(isTask(found) && found.at === entry.at)) {
      found = Object.values(namespace).find((value) => isTask(value) && value.at === entry.at);
    }
    if (isTask(found)) loaded.push({ f: found.f, timeout: found.timeout ?? entry.timeout });
    else if (typeof found === "function") loaded.push({ f: found, timeout: entry.timeout });
    else throw Errors.taskNotExported(entry.name, entry.exportName, entry.href, Object.keys(namespace));
  }
  return loaded;
}

function post(id, ok, value) {
  const transfer = [];
  let encoded;
  try {
    encoded = encode(value, transfer, "result");
  } catch (error) {
    ok = false;
    transfer.length = 0;
    encoded = encode(error, transfer, "result");
  }
  parentPort.postMessage([id, ok ? 1 : 0, encoded.wire, encoded.tagged], transfer);
}

/** Ends the call's use of a BufferReference it received, unless it was returned. */
function releaseInput(arg) {
  const ref = arg instanceof Envelope ? arg.payload : arg;
  if (ref instanceof BufferReference) ref.release();
}

function settleWithTimeout(promise, timeout) {
  const time = typeof timeout === "number" ? timeout : timeout?.time;
  if (typeof time !== "number" || time < 0) return promise;
  const controller = new AbortController();
  const timer = sleep(time, undefined, { signal: controller.signal }).then(
    () => {
      if (typeof timeout === "object" && "default" in timeout) return timeout.default;
      if (typeof timeout === "object" && timeout.maybe === true) return undefined;
      if (typeof timeout === "object" && "error" in timeout) throw timeout.error;
      throw Errors.taskTimeout(time);
    },
    () => new Promise(() => {}),
  );
  return Promise.race([promise, timer]).finally(() => controller.abort());
}

function run(id, index, wire, tagged) {
  const arg = decode(wire, tagged);
  const { f, timeout } = tasks[index];
  let result;
  try {
    result = f(arg);
  } catch (error) {
    post(id, false, error);
    releaseInput(arg);
    return;
  }
  if (result !== null && typeof result?.then === "function") {
    settleWithTimeout(Promise.resolve(result), timeout).then(
      (value) => {
        post(id, true, value);
        releaseInput(arg);
      },
      (error) => {
        post(id, false, error);
        releaseInput(arg);
      },
    );
    return;
  }
  post(id, true, result);
  releaseInput(arg);
}

const queued = [];
let ready = false;
parentPort.on("message", (message) => {
  if (ready) run(message[0], message[1], message[2], message[3]);
  else queued.push(message);
});

loadTasks(workerData.tasks).then(
  (loaded) => {
    tasks = loaded;
    ready = true;
    for (const message of queued.splice(0)) run(message[0], message[1], message[2], message[3]);
  },
  (error) => {
    const transfer = [];
    const { wire, tagged } = encode(error, transfer);
    parentPort.postMessage({ type: "startup-failed", wire, tagged });
  },
);
