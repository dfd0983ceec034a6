// Entry of a process worker (worker: { runtime: "process" }): a Node, Deno
// or Bun child that maps its channel (an inherited descriptor on stdin, or a
// name), imports the pool's tasks, and runs the calls its host forwards,
// writing each result back. It parks on a futex in the channel when there is
// nothing to run, and exits when the host says stop, or dies with the host.
import { kImportingTasks } from "../symbols.js";
import { Channel, INDEX_MASK, REVOKED, W } from "./channel.js";
import { Kind, readFrame, resultFrame } from "./frames.js";
import { ProcessSharedBuffer } from "../shared-memory/process-shared-buffer.js";
import { Runner, prepareFailure } from "../worker/run.js";
import { loadTasks } from "../worker/load-tasks.js";
import { Errors } from "../errors.js";
import { runBootstrap } from "../worker/bootstrap.js";
import { decode } from "../codec/decode.js";
import { readWire } from "./wire-bytes.js";
import { dieWithParent, unlinkSharedMemory } from "../native.js";
import { BOOT_ENV } from "../runtime/is-main.js";

// The environment holds only what it takes to map the channel (and this worker's number);
// the rest waits in the channel, read below.
const boot = JSON.parse(process.env[BOOT_ENV]);
// (This process's own children are not pool workers.)
delete process.env[BOOT_ENV];
globalThis[kImportingTasks] = true;
const psb = boot.name === undefined ? ProcessSharedBuffer.fromDescriptor({ fd: 0 }) : ProcessSharedBuffer.create({ mode: "open", name: boot.name });
if (boot.name !== undefined && boot.unlinkName) {
  // Mapped: the name is no longer needed, and nothing is left behind even if the host dies now.
  try {
    unlinkSharedMemory(boot.name);
  } catch {
    // (the host unlinks it too)
  }
}
// (Mapped and unlinked first: even a child whose host is already gone leaves no name behind.)
// The kernel kills this process when its parent exits. A parent that exited
// before that was set leaves this process reparented already: then it exits.
const tiedToParent = dieWithParent();
const parent = process.ppid;
if (boot.hostPid !== undefined ? parent !== boot.hostPid : parent === 1) process.exit(1);
/** Whether the parent is gone (checked where the OS cannot tie this process to it, and after each idle second). */
const orphaned = () => process.ppid !== parent;
if (!tiedToParent) {
  setInterval(() => {
    if (orphaned()) process.exit(1);
  }, 500).unref();
}

const channel = new Channel(psb);
const words = channel.words;

/**
 * The host's first message on the calls ring, written before this process
 * started (ProcessLane's boot message): tasks, worker.bootstrap with its
 * data, threads, maxPayloadBytes, spinMs, as the codec carried them (exact).
 */
let settings;
/** Why the boot message could not be read (the start then fails with it). */
let bootFailure;
try {
  channel.read(channel.calls, (bytes) => {
    settings = decode(readWire(bytes.subarray(1)), bytes[0] === 1);
  }, 1);
  if (settings === undefined) throw new Error("its host's startup message was not in the channel");
} catch (error) {
  bootFailure = Errors.corruptPayload(`the process worker could not read its startup data (${error?.message ?? error})`, error);
  settings = { tasks: [], bootstrap: undefined, threads: 1, maxPayloadBytes: undefined, spinMs: 0 };
}

/** Results the ring had no room for yet, in order. */
const pending = [];
let wrote = false;

function send(bytes) {
  if (pending.length > 0 || !channel.write(channel.results, bytes)) {
    Atomics.store(words, W.RESULTS_WANT_ROOM, 1); // the host rings when it has read some
    pending.push(bytes.slice());
  } else wrote = true;
}

/** flush(), and whether it wrote anything that waited. */
function flushed() {
  const before = pending.length;
  flush();
  return pending.length < before;
}

/** Writes what waited for room, and wakes the host if anything was written. */
function flush() {
  for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
    while (pending.length > 0 && channel.write(channel.results, pending[0])) {
      pending.shift();
      wrote = true;
    }
    // Still no room: ask the host to ring when it has read, then look once more
    // (it may have read everything between the write that failed and the ask).
    if (pending.length > 0) Atomics.store(words, W.RESULTS_WANT_ROOM, 1);
  }
  if (wrote) {
    wrote = false;
    channel.ring(W.RESULT_SEQ, W.HOST_PARKED);
  }
}

/** Calls the host aborted, by "handle:serial" (checked before a call starts, and by hasAborted()). */
const aborted = new Set();
const times = { wait: 0, started: () => 0, ended() {}, waitedMs: () => 0 };
const runner = new Runner(
  {
    send: (handle, serial, ok, wire, tagged) => {
      if (aborted.size > 0) aborted.delete(`${handle}:${serial}`);
      send(resultFrame(Kind.RESULT, handle, serial, ok, tagged, wire));
      return true;
    },
  },
  // (a result written while calls run is announced once their batch ends; one an async task settles, at once)
  () => {
    if (inBatch === 0) flush();
  },
  () => {},
  () => {},
  (handle, serial) => aborted.has(`${handle}:${serial}`),
  times,
);
runner.acrossProcesses = true;
runner.maxPayloadBytes = settings.maxPayloadBytes;

/** Call messages read so far: the index of the next one. */
let index = 0;

/**
 * Claims call `k` before it runs. The host may take back calls this child
 * has not started (for an idle worker): it stores REVOKED | r in NEXT, and
 * calls before index r are skipped here; r is the next call it forwards.
 */
function claim(k) {
  for (;;) {
    const next = Atomics.load(words, W.NEXT);
    if (next & REVOKED && ((k - (next & INDEX_MASK)) << 2) < 0) return false;
    if (Atomics.compareExchange(words, W.NEXT, next, (k + 1) & INDEX_MASK) === next) return true;
  }
}

function onMessage(bytes) {
  const frame = readFrame(bytes);
  if (frame.kind === Kind.ABORT) {
    aborted.add(`${frame.handle}:${frame.serial}`);
    runner.abortRunning(frame.handle, frame.serial);
    return;
  }
  const k = index;
  index = (index + 1) & INDEX_MASK;
  if (!claim(k)) return;
  let wire;
  try {
    wire = frame.wire();
  } catch (error) {
    runner.post(frame.handle, frame.serial, false, Errors.corruptPayload(error?.message ?? String(error), error));
    return;
  }
  runner.run(frame.handle, frame.serial, frame.task, wire, frame.tagged);
}

const SPIN_MS = settings.spinMs;
let turns = 0;
/** Handles and timers of the runtime itself; more means a task left a timer or I/O behind, which needs the event loop. */
let baseline = 0;
const userResources = () => process.getActiveResourcesInfo().length > baseline;
let inBatch = 0;
let parkedAsync = false;

function stop() {
  process.exit(0);
}

function work() {
  for (;;) {
    if (Atomics.load(words, W.STOP) === 1) return stop();
    inBatch++;
    let count;
    try {
      count = channel.read(channel.calls, onMessage, 256);
    } finally {
      inBatch--;
    }
    // The host waits for room for its calls: there is some now.
    if (count > 0 && Atomics.load(words, W.CALLS_WANT_ROOM) === 1 && Atomics.exchange(words, W.CALLS_WANT_ROOM, 0) === 1) {
      channel.ring(W.RESULT_SEQ, W.HOST_PARKED);
    }
    flush();
    if (count > 0) {
      // Let promises and timers of async tasks run now and then.
      if (runner.asyncPending > 0 || (++turns & 63) === 0) return void setImmediate(work);
      continue;
    }
    if (spin()) continue;
    const value = channel.prepareToPark(W.CALL_SEQ, W.CHILD_PARKED, channel.calls);
    if (value === undefined) continue;
    // Results waiting for room: the host may have made some just before the park was announced.
    if (pending.length > 0 && flushed()) {
      Atomics.store(words, W.CHILD_PARKED, 0);
      continue;
    }
    if (runner.asyncPending === 0 && pending.length === 0 && !userResources()) {
      // Nothing of this child's needs its event loop: block until called.
      // (At most a second at a time: a child whose host vanished unnoticed exits.)
      if (psb.wait(W.CALL_SEQ, value, 1000) === "timed-out" && orphaned()) process.exit(1);
      Atomics.store(words, W.CHILD_PARKED, 0);
      continue;
    }
    if (parkedAsync) return;
    parkedAsync = true;
    psb.waitAsync(W.CALL_SEQ, value).then(() => {
      parkedAsync = false;
      Atomics.store(words, W.CHILD_PARKED, 0);
      work();
    });
    return;
  }
}

/** Waits briefly for a call before parking; true if one came. */
function spin() {
  const end = performance.now() + SPIN_MS;
  do {
    for (let i = 0; i < 64; i++) if (channel.calls.hasItems()) return true;
  } while (performance.now() < end);
  return false;
}


// Alive while the tasks load, as a worker thread is (a top-level await that
// never settles then meets the host's startup timeout, with its message).
// What the event loop holds before user code runs: ours (timers or I/O a
// task module starts as it loads are the user's, and keep running).
baseline = process.getActiveResourcesInfo().length;
const loading = setInterval(() => {}, 1 << 30);
const bootstrapped = bootFailure === undefined ? runBootstrap(settings.bootstrap, boot.lane, settings.threads) : Promise.reject(bootFailure);
bootstrapped.then(() => loadTasks(settings.tasks, () => {})).then(
  (tasks) => {
    clearInterval(loading);
    globalThis[kImportingTasks] = false;
    runner.tasks = tasks;
    send(resultFrame(Kind.READY, 0, 0, 1, false, process.pid));
    flush();
    work();
  },
  (error) => {
    clearInterval(loading);
    // The host reads this before it handles the exit.
    const { wire, tagged } = prepareFailure(error, true);
    send(resultFrame(Kind.STARTUP_FAILED, 0, 0, 0, tagged, wire));
    flush();
    process.exit(1);
  },
);
