// Entry point of every pool worker thread: imports the modules that define
// the pool's tasks, then runs the calls addressed to it (its own call ring)
// and claims calls from the pool's shared CallQueue, and writes each result
// to its own result ring. Values that move buffers or do not fit a slot come
// and go on the worker's two MessagePorts, read synchronously.
//
// Waiting for work: after a burst the worker spins for a bounded time (only
// when the machine has a core to spare and no async task is pending), then
// parks with Atomics.waitAsync, which leaves its event loop free to run the
// timers and promises of async tasks, and to be terminated.
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { decode } from "../codec/decode.js";
import { Errors } from "../errors.js";
import { kInPoolWorker } from "../symbols.js";
import { isTask } from "./task.js";
import { prepare } from "../codec/prepare.js";
import { Envelope } from "../envelope.js";
import { BufferReference } from "../buffer-reference/buffer-reference.js";
import { CallQueue } from "../transport/call-queue.js";
import { PORT, SpscRing } from "../transport/spsc-ring.js";
import { R_BELL } from "../transport/layout.js";
import { fitsInSlot } from "../transport/slot-value.js";
import { RingBacklog } from "../transport/ring-backlog.js";

globalThis[kInPoolWorker] = true;

/** A spin-wait hint to the CPU (Node 24+); a no-op where missing (Node 22). */
const pause = Atomics.pause ?? (() => {});


const queue = new CallQueue(workerData.queue);
const calls = new SpscRing(workerData.calls);
const results = new SpscRing(workerData.results);
const { callPort, resultPort } = workerData;
const lane = workerData.lane;
const spinMs = workerData.spinMicros / 1000;
/** Longest stretch of calls run before yielding to the event loop. */
const SLICE_MS = 2;

/** @type {{ f: Function, timeout: unknown }[]} */
let tasks = [];
/** Results waiting for room in the result ring. */
const unwritten = new RingBacklog();
let asyncPending = 0;

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
    // The export under the task's name; failing that, the task defined at the
    // same position in the module (a task exported under another name).
    let found = namespace[entry.exportName];
    if (!isTask(found) && typeof found !== "function" && entry.at >= 0) {
      found = Object.values(namespace).find((value) => isTask(value) && value.at === entry.at);
    }
    if (isTask(found)) loaded.push({ f: found.f, timeout: found.timeout ?? entry.timeout });
    else if (typeof found === "function") loaded.push({ f: found, timeout: entry.timeout });
    else throw Errors.taskNotExported(entry.name, entry.exportName, entry.href, Object.keys(namespace));
  }
  return loaded;
}

function post(id, ok, value) {
  let wire, tagged, transfer;
  try {
    ({ wire, tagged, transfer } = prepare(value, "result"));
  } catch (error) {
    ok = false; // an unsupported result rejects its call, with the reason
    ({ wire, tagged, transfer } = prepare(error, "result"));
  }
  const flag = ok ? 1 : 0;
  if (unwritten.size === 0) {
    const written = transfer.length === 0 ? results.push(id, flag, wire) : "large";
    if (written === true) return queue.ringHost();
    if (written === "large") {
      resultPort.postMessage([wire, tagged], transfer);
      if (results.pushPort(id, flag) === true) return queue.ringHost();
      return void unwritten.push(id, flag, PORT);
    }
  }
  // The ring is full: keep the result to write later, in order. A value that
  // needs the port is posted now, so port messages keep the order of their items.
  if (transfer.length === 0 && fitsInSlot(wire)) return void unwritten.push(id, flag, wire);
  resultPort.postMessage([wire, tagged], transfer);
  unwritten.push(id, flag, PORT);
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

/** Runs a call from this worker's own ring (its value may wait on the call port). */
function runDirect(id, index, wire) {
  if (wire === PORT) {
    const [value, tagged] = receiveMessageOnPort(callPort).message;
    run(id, index, value, tagged);
  } else run(id, index, wire, false);
}

/**
 * The one call site of every task. V8 is made to see it as megamorphic before
 * the first task runs, so it never inlines a task into the dispatch loop.
 * Inlined there, a task's own loop runs inside the dispatch loop's Maglev code:
 * it cannot tier up to Turbofan on its own (OSR does not enter inlined loops)
 * and, once the isolate has detached an ArrayBuffer (every worker that moves
 * bytes has), Maglev calls the TypedArray length getter on every iteration.
 * Measured here (perf, npm run bench:references (a)): a task inverting 1 MiB
 * took 9.8 ms per call inlined and 2.2 ms called from here, where it tiers up
 * on its own as it would on the main thread.
 */
function invokeTask(f, arg) {
  return f(arg);
}
// Distinct functions (not closures of one), called often enough for V8 to
// allocate the feedback vector and record the site as megamorphic, which is final.
{
  const primers = [() => 0, () => 1, () => 2];
  for (let i = 0; i < 60; i++) invokeTask(primers[i % 3], i);
}

function run(id, index, wire, tagged) {
  const arg = decode(wire, tagged);
  const { f, timeout } = tasks[index];
  let result;
  try {
    result = invokeTask(f, arg);
  } catch (error) {
    post(id, false, error);
    releaseInput(arg);
    return;
  }
  if (result !== null && typeof result?.then === "function") {
    asyncPending++;
    settleWithTimeout(Promise.resolve(result), timeout)
      .then(
        (value) => post(id, true, value),
        (error) => post(id, false, error),
      )
      .finally(() => {
        asyncPending--;
        releaseInput(arg);
      });
    return;
  }
  post(id, true, result);
  releaseInput(arg);
}

// ---- the loop ----

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setImmediate(work);
}

function work() {
  scheduled = false;
  if (queue.stopped) return;
  const sliceEnd = performance.now() + SLICE_MS;
  let ran = 0;
  for (;;) {
    if (unwritten.flushInto(results)) queue.ringHost();
    const direct = calls.drain(runDirect);
    if (direct > 0) ran += direct;
    if (queue.pop(lane, run)) {
      ran++;
      if ((ran & 31) === 0 && performance.now() > sliceEnd) return schedule();
      continue;
    }
    if (direct > 0) continue;
    if (ran > 0 && spinMs > 0 && asyncPending === 0 && spin()) continue;
    break;
  }
  if (unwritten.size > 0) return schedule(); // the host is draining; try again soon
  park();
}

/** Spins up to spinMs for another call (if few enough workers spin); true if one arrived. */
function spin() {
  if (!queue.beginSpin(workerData.maxSpinners)) return false;
  try {
    const end = performance.now() + spinMs;
    do {
      for (let i = 0; i < 64; i++) {
        if (queue.hasCalls() || calls.hasItems()) return true;
      }
      pause();
    } while (performance.now() < end);
    return false;
  } finally {
    queue.endSpin();
  }
}

function park() {
  const bell = calls.bell();
  calls.setParked(true);
  queue.countParked(1);
  const awake = () => {
    calls.setParked(false);
    queue.countParked(-1);
  };
  if (queue.hasCalls() || calls.hasItems() || queue.stopped) {
    awake();
    return schedule();
  }
  const waiting = Atomics.waitAsync(calls.i32, R_BELL, bell);
  const wake = () => {
    awake();
    work();
  };
  if (waiting.async) waiting.value.then(wake);
  else wake();
}

// A listener on the parent port keeps this worker alive while it waits
// (a pending Atomics.waitAsync does not).
parentPort.on("message", () => {});

loadTasks(workerData.tasks).then(
  (loaded) => {
    tasks = loaded;
    work();
  },
  (error) => {
    const { wire, tagged } = prepare(error, "error");
    parentPort.postMessage({ type: "startup-failed", wire, tagged });
  },
);
