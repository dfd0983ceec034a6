// One process worker of a pool (worker: { runtime: "process" }), as the
// host sees it: a child process (Node, Deno or Bun) and the channel it maps.
// Like the inliner lane, it claims calls from the pool's queue on the host
// (so attribution, cancellation and the queue's order are the pool's own),
// then forwards them to its child over the channel.
//
// It claims a call only while its child has nothing to run, or while no other
// process worker is idle (then up to WINDOW calls wait at the child, so a
// stream of small calls never waits for a round trip). The child claims each
// forwarded call before it starts it (NEXT in the channel); the host can take
// back the calls a busy child has not started, for a worker that became idle,
// and does so with one compare-and-swap, so a call runs at most once and
// never waits behind a slow one while another worker is free. When the child
// dies, the calls it started are rejected with ERR_KNITTING_WORKER_EXITED and
// the ones it had not started go back into the queue.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Channel, INDEX_MASK, REVOKED, W } from "./channel.js";
import { Kind, abortFrame, callFrame, readFrame } from "./frames.js";
import { Errors } from "../errors.js";
import { HELD } from "../transport/slot-value.js";
import { BOOT_ENV } from "../runtime/is-main.js";
import { unlinkSharedMemory } from "../native.js";
import { runtime } from "../runtime/runtime.js";
import { decode } from "../codec/decode.js";
import { prepare } from "../codec/prepare.js";
import { ByteWriter, writeWire } from "./wire-bytes.js";
import { STARTUP_ATTEMPTS, STARTUP_BACKOFF_MS, quickExitReason, quickExits } from "../pool/restarts.js";

/** Calls forwarded to a child that has not started them, at most, while no other worker is idle. */
const WINDOW = 1024;
/** How long a closing child gets to exit on its own before it is killed (ms). */
const EXIT_GRACE_MS = 1000;
const childEntry = fileURLToPath(new URL("./child.js", import.meta.url));

/** The command that runs a child of runtime `name`: this process's own binary when it is that runtime. */
function command(name) {
  if (name === runtime) return process.execPath;
  return name;
}

function runtimeArgs(name, execArgv) {
  if (name === "deno") return ["run", "--allow-env", "--allow-read", "--allow-ffi", ...execArgv, childEntry];
  return [...execArgv, childEntry];
}

let names = 0;
function uniqueName(prefix) {
  const random = Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36)).join("");
  return `${prefix}${process.pid}-${++names}-${random}`;
}

/**
 * What every child of a pool is told through its channel (the calls ring's
 * first message, written before the child starts): tasks (with importTask
 * timeouts), worker.bootstrap (with its data), threads, maxPayloadBytes,
 * spinMs. [u8 tagged][wire], the wire made by the codec as for a call
 * argument, so the child gets these values exactly, of any size (the
 * environment carries only what the child needs to map its channel). Made
 * once per pool (keyed by its boot object).
 */
const bootMessages = new WeakMap();

function bootMessage(boot) {
  let bytes = bootMessages.get(boot);
  if (bytes === undefined) {
    bytes = encodeBoot(boot);
    bootMessages.set(boot, bytes);
  }
  return bytes;
}

/** Encodes the boot message; a value the codec cannot carry exactly is refused with ERR_KNITTING_INVALID_OPTION. */
function encodeBoot({ tasks, bootstrap, threads, maxPayloadBytes, spinMs }) {
  let tagged = false;
  const across = (value, label, what, instead) => {
    let prepared;
    try {
      prepared = prepare(value, label, true);
    } catch (cause) {
      const why = String(cause?.message ?? cause).replace(/\.$/, "");
      throw Object.assign(Errors.invalidOption(`${what} reaches process workers as a call argument does, and this one cannot (${why}); ${instead}`), { cause });
    }
    tagged ||= prepared.tagged;
    return prepared.wire;
  };
  const wire = {
    tasks: tasks.map((task) => ({
      ...task,
      timeout: across(task.timeout, "timeout", `the importTask timeout of task "${task.name}"`, "define the task with task({ f, timeout }) in its module to use any value"),
    })),
    bootstrap: bootstrap === undefined ? undefined : {
      ...bootstrap,
      data: across(bootstrap.data, "worker.bootstrap.data", "worker.bootstrap.data", "give it values a call argument may be, or use worker threads"),
    },
    threads,
    maxPayloadBytes,
    spinMs,
  };
  const writer = new ByteWriter();
  writer.u8(tagged ? 1 : 0);
  writeWire(writer, wire);
  return writer.bytes.slice(0, writer.length);
}

export class ProcessLane {
  /** Set when the child could not load its tasks: this lane is out of service. */
  startupError = undefined;
  times = undefined;
  openedAt = performance.now();
  #settings;
  #pool;
  #events;
  #log;
  #boot;
  /** @type {import("node:child_process").ChildProcess} */
  #child;
  /** @type {Channel} */
  #channel;
  #name;
  #ready = false;
  #closing = false;
  #kept = false;
  #crash;
  #failedStarts = 0;
  /** Ready children in a row that died soon after starting, while they ran no call (see restarts.js). */
  #quickExits = 0;
  #startedAt = 0;
  /** Calls forwarded and not answered, by handle: { serial, index, wire, tagged, keep }. */
  #forwarded = new Map();
  /** Index of the next call forwarded. */
  #index = 0;
  /** Index of the next call written to the ring (calls from it on wait in the outbox). */
  #writtenIndex = 0;
  /** Frames the ring had no room for yet: { bytes, call } (call: a call's, else an abort's). */
  #outbox = [];
  #armed = false;
  #exited;

  /**
   * @param {number} number 1-based lane number (claims and stats name it)
   * @param {object} boot what the child needs: tasks, bootstrap, threads, spinMs, maxPayloadBytes
   * @param {{ runtime: string, prefix: string[], memory: { mode: string, namePrefix: string, unlinkOnShutdown: boolean } }} settings
   * @param {object} pool the dispatcher's hooks (see Dispatcher.processHooks)
   * @param {{ onStartupFailed(lane, error), onExit(lane, code, cause) }} events
   */
  constructor(number, boot, settings, execArgv, startupTimeoutMs, pool, events, log) {
    this.#startupTimeoutMs = startupTimeoutMs;
    this.number = number;
    this.#boot = boot;
    // (Throws ERR_KNITTING_INVALID_OPTION for data that cannot reach a child: before anything starts.)
    this.#bootBytes = bootMessage(boot);
    this.#settings = settings;
    this.#execArgv = execArgv ?? [];
    this.#pool = pool;
    this.#events = events;
    this.#log = log;
    // (A closed channel, between a child's exit and its replacement's start, has nothing.)
    this.results = { hasItems: () => !this.#channel.closed && this.#channel.results.hasItems() };
    this.#start();
  }
  #execArgv;
  #bootBytes;
  #startupTimeoutMs;
  #timedOut = false;
  #startupTimer;

  /** The child's pid (stats call it threadId, as for thread workers). */
  get threadId() {
    return this.#child?.pid ?? -1;
  }

  /** Calls at the child (forwarded and not answered). */
  get inFlight() {
    return this.#forwarded.size;
  }

  /** Whether this lane could run a call at once. */
  get idle() {
    return this.#ready && this.#forwarded.size === 0 && !this.#closing;
  }

  #start() {
    this.#startedAt = performance.now();
    const { memory, prefix } = this.#settings;
    this.#ready = false;
    this.#crash = undefined;
    this.#index = 0;
    this.#writtenIndex = 0;
    this.#outbox.length = 0;
    this.#armed = false; // (a wait on the previous channel ends on its own)
    const named = memory.mode === "named";
    this.#name = named ? uniqueName(memory.namePrefix) : undefined;
    this.#channel = Channel.create(this.#name);
    // The rest of what the child needs waits in its calls ring (an empty ring: there is room;
    // a message over MAX_MESSAGE travels in a shared-memory object of its own).
    this.#channel.write(this.#channel.calls, this.#bootBytes);
    // In the environment, only what the child needs to map its channel (and small numbers).
    // (hostPid: the child's parent, unless a command prefix stands between them)
    const boot = JSON.stringify({
      lane: this.number, name: this.#name, unlinkName: memory.unlinkOnShutdown, hostPid: prefix.length === 0 ? process.pid : undefined,
    });
    const argv = [...prefix, command(this.#settings.runtime), ...runtimeArgs(this.#settings.runtime, this.#execArgv)];
    const child = spawn(argv[0], argv.slice(1), {
      stdio: [named ? "ignore" : this.#channel.psb.fd, "inherit", "inherit"],
      env: { ...process.env, [BOOT_ENV]: boot },
    });
    this.#child = child;
    this.#log(`process worker ${this.number} started`, `(pid ${child.pid}, ${this.#settings.runtime})`);
    const exited = new Promise((resolve) => {
      child.once("exit", resolve);
      child.once("error", () => child.pid === undefined && resolve()); // (a command that never started)
    });
    this.#exited = exited;
    child.once("error", (error) => {
      this.#crash = error;
      if (child.pid === undefined) this.#onExit(child, null, null); // it never started (no such command)
    });
    child.once("exit", (code, signal) => this.#onExit(child, code, signal));
    this.#armWatch(); // the child's ready message wakes it
    // A child not ready in time (a top-level await that never settles) is killed, and the lane fails.
    this.#timedOut = false;
    if (this.#startupTimeoutMs !== Infinity) {
      this.#startupTimer = setTimeout(() => {
        if (this.#ready || this.#closing || child !== this.#child) return;
        this.#timedOut = true;
        child.kill("SIGKILL");
      }, this.#startupTimeoutMs).unref();
    }
    if (!this.#kept) child.unref();
  }

  #onExit(child, code, signal) {
    if (child !== this.#child || child.handled) return;
    child.handled = true;
    this.#disarm();
    const channel = this.#channel;
    this.drainResults(this.#settle ?? (() => {}));
    if (this.#name !== undefined) this.#unlink();
    if (this.#closing) return channel.close();
    const wasReady = this.#ready;
    this.#ready = false;
    const cause = this.#crash;
    this.#log(`process worker ${this.number} exited`, `with ${signal ?? `code ${code}`}${wasReady ? "; replacing it" : " while starting"}`);
    // Calls it had not started go back into the queue; the pool rejects those it had.
    this.#takeBack(true);
    const started = this.startupError === undefined ? this.#events.onExit(this, signal ?? code, cause) : 0;
    channel.close();
    if (this.startupError !== undefined) return;
    if (wasReady) {
      this.#failedStarts = 0;
      this.#quickExits = quickExits(this.#quickExits, started, performance.now() - this.#startedAt);
      if (this.#quickExits === 0) return this.#start();
      if (this.#quickExits >= STARTUP_ATTEMPTS) {
        return this.#failStartup(Errors.workerStartupFailed(undefined, quickExitReason(signal ?? `code ${code}`, cause), this.#quickExits, cause));
      }
      return this.#restartAfter(STARTUP_BACKOFF_MS[this.#quickExits - 1]);
    }
    const missing = child.pid === undefined && cause?.code === "ENOENT";
    if (missing || this.#timedOut || ++this.#failedStarts >= STARTUP_ATTEMPTS) {
      const why = missing
        ? `its command ${JSON.stringify(child.spawnfile)} was not found: install ${this.#settings.runtime} (on PATH) or choose another worker.processRuntime`
        : this.#timedOut
          ? `it did not finish loading its tasks within ${this.#startupTimeoutMs} ms (a top-level await that never settles?)`
          : `it exited with ${signal ?? `code ${code}`} before it was ready${cause ? ` (${cause.message ?? cause})` : ""}`;
      return this.#failStartup(Errors.workerStartupFailed(this.#boot.tasks[0]?.href, why, this.#failedStarts, cause));
    }
    this.#restartAfter(STARTUP_BACKOFF_MS[this.#failedStarts - 1]);
  }

  /** Starts a child again after a pause (keeping the process alive only while calls wait: then no worker does). */
  #restartAfter(ms) {
    const retry = setTimeout(() => {
      if (!this.#closing) this.#start();
    }, ms);
    if (!this.#kept) retry.unref();
  }

  #failStartup(error) {
    if (this.startupError !== undefined) return;
    this.#log(`process worker ${this.number} failed to start`, error?.message);
    this.#events.onStartupFailed(this, error);
  }

  #unlink() {
    if (!this.#settings.memory.unlinkOnShutdown || this.#name === undefined) return;
    try {
      unlinkSharedMemory(this.#name);
    } catch {
      // (already unlinked: at ready, then again at exit)
    }
  }

  // ---- calls ----

  /** The dispatcher published calls or looked for work: take what this lane should. */
  consider() {
    if (!this.#ready || this.#closing) return;
    let took = 0;
    while (this.#wants()) {
      const popped = this.#pool.queue.pop(this.number, this.#take);
      if (popped !== true) break;
      took++;
    }
    if (took > 0) this.#flushCalls();
  }

  /** Room for another call: nothing at the child, or a window's worth while no other worker is idle. */
  #wants() {
    const at = this.#forwarded.size;
    if (at === 0) return true;
    return at < WINDOW && this.#outbox.length === 0 && !this.#pool.othersIdle(this);
  }

  #take = (handle, serial, taskIndex, wire, tagged, failure) => {
    const pool = this.#pool;
    if (failure !== undefined) return pool.settleDecoded(handle, serial, false, failure);
    if (pool.queue.aborted(handle, serial)) return pool.dropped(handle, serial);
    let keep;
    if (wire === HELD) {
      const held = pool.held(handle);
      if (held === undefined) return;
      [wire, tagged, keep] = held;
    }
    this.#forward(handle, serial, taskIndex, wire, tagged, keep);
  };

  #forward(handle, serial, taskIndex, wire, tagged, keep) {
    let bytes;
    try {
      bytes = callFrame(handle, serial, taskIndex, tagged, wire);
    } catch (cause) {
      // What the checks passed could not be written (a getter detached a buffer after it was copied, say).
      return this.#pool.settleDecoded(handle, serial, false, cause?.code === undefined ? Errors.uncloneable(cause) : cause);
    }
    const index = this.#index;
    this.#index = (index + 1) & INDEX_MASK;
    this.#forwarded.set(handle, { serial, index, taskIndex, wire, tagged, keep });
    this.#write(bytes, true);
  }

  /** Writes a frame to the ring, or keeps it for when the child has made room. */
  #write(bytes, call) {
    if (this.#outbox.length > 0 || !this.#channel.write(this.#channel.calls, bytes)) {
      Atomics.store(this.#channel.words, W.CALLS_WANT_ROOM, 1); // the child rings when it has read some
      return void this.#outbox.push({ bytes: bytes.slice(), call });
    }
    if (call) this.#writtenIndex = (this.#writtenIndex + 1) & INDEX_MASK;
    this.#written = true;
  }
  #written = false;

  /** Writes frames that waited for room and wakes the child if anything was written. */
  #flushCalls() {
    const outbox = this.#outbox;
    for (let attempt = 0; attempt < 2 && outbox.length > 0; attempt++) {
      while (outbox.length > 0 && this.#channel.write(this.#channel.calls, outbox[0].bytes)) {
        if (outbox.shift().call) this.#writtenIndex = (this.#writtenIndex + 1) & INDEX_MASK;
        this.#written = true;
      }
      // Still no room: ask the child to ring when it has read, then look once more.
      if (outbox.length > 0) Atomics.store(this.#channel.words, W.CALLS_WANT_ROOM, 1);
    }
    if (this.#written) {
      this.#written = false;
      this.#channel.ring(W.CALL_SEQ, W.CHILD_PARKED);
      this.#armWatch();
    }
  }

  /**
   * Takes back the calls the child has not started: all of them when it died
   * (`dead`), else those it can still be kept from starting. They go back into
   * the queue. Returns how many.
   */
  #takeBack(dead) {
    if (this.#forwarded.size === 0) return 0;
    const words = this.#channel.words;
    let from;
    for (;;) {
      const next = Atomics.load(words, W.NEXT);
      from = next & INDEX_MASK;
      if (from === this.#index) break;
      // The child skips what was written from `from` on; calls still in the outbox are never written.
      // (Also when it died: a process behind a command prefix may outlive the one we saw exit.)
      if (Atomics.compareExchange(words, W.NEXT, next, REVOKED | this.#writtenIndex) === next) break;
    }
    if (from === this.#index && !dead) return 0;
    const back = [];
    for (const [handle, call] of this.#forwarded) {
      // (indexes wrap at 2^30: compare by distance)
      if (((call.index - from) << 2) >= 0 && ((this.#index - call.index) << 2) > 0) back.push(handle);
    }
    // Calls not yet written never reach the child: the next one written gets the index it expects.
    this.#outbox = this.#outbox.filter((frame) => !frame.call);
    this.#index = this.#writtenIndex;
    for (const handle of back) {
      const call = this.#forwarded.get(handle);
      this.#forwarded.delete(handle);
      this.#pool.requeue(handle, call.serial, call.wire, call.tagged, call.keep);
    }
    if (dead) this.#forwarded.clear(); // (the pool rejects the calls it had started)
    return back.length;
  }

  /** This lane is idle: takes back a busy lane's unstarted calls for it. Returns how many came back. */
  takeBackUnstarted() {
    if (!this.#ready || this.#closing) return 0;
    return this.#takeBack(false);
  }

  /** Whether the child has begun call (handle, serial) (false: it waits at the child, or is not there). */
  #startedAtChild(handle, serial) {
    const call = this.#forwarded.get(handle);
    if (call === undefined || call.serial !== serial || this.#channel.closed) return false;
    const from = Atomics.load(this.#channel.words, W.NEXT) & INDEX_MASK;
    return ((call.index - from) << 2) < 0;
  }

  /** Tells the child that the host aborted call (handle, serial) (its task's hasAborted() and signal). */
  tellAborted(handle, serial) {
    if (!this.#ready || !this.#forwarded.has(handle)) return;
    this.#write(abortFrame(handle, serial), false);
    this.#flushCalls();
  }

  // ---- results ----

  /** Reads the child's messages: results settle(handle, serial, ok, wire, tagged). Returns how many. */
  drainResults(settle) {
    this.#settle = settle;
    if (this.#channel.closed) return 0;
    const channel = this.#channel;
    const count = channel.read(channel.results, this.#onMessage);
    // The child waits for room for its results: there is some now.
    if (count > 0 && Atomics.load(channel.words, W.RESULTS_WANT_ROOM) === 1 && Atomics.exchange(channel.words, W.RESULTS_WANT_ROOM, 0) === 1) {
      channel.ring(W.CALL_SEQ, W.CHILD_PARKED);
    }
    if (this.#outbox.length > 0) this.#flushCalls();
    if (count > 0) this.#pool.laneFreed(this);
    return count;
  }
  #settle;

  #onMessage = (bytes) => {
    const frame = readFrame(bytes);
    if (frame.kind === Kind.RESULT) {
      const call = this.#forwarded.get(frame.handle);
      if (call !== undefined && call.serial === frame.serial) this.#forwarded.delete(frame.handle);
      let wire;
      try {
        wire = frame.wire();
      } catch (error) {
        return this.#settle(frame.handle, frame.serial, 0, Errors.corruptPayload(error?.message ?? String(error), error), false);
      }
      return this.#settle(frame.handle, frame.serial, frame.ok, wire, frame.tagged);
    }
    if (frame.kind === Kind.READY) {
      this.#ready = true;
      this.#failedStarts = 0;
      clearTimeout(this.#startupTimer);
      // The child has mapped its channel: the name is no longer needed (nobody else can open it now).
      this.#unlink();
      this.#log(`process worker ${this.number} ready`);
      return;
    }
    if (frame.kind === Kind.STARTUP_FAILED) {
      let error;
      try {
        error = decode(frame.wire(), frame.tagged);
      } catch (cause) {
        error = cause;
      }
      this.#failStartup(error);
    }
  };

  // ---- waking the host ----

  /**
   * Arms a wait for the child's next message (the host's poll may have
   * stopped): when it comes, the pool drains and looks again. One wait at a
   * time, and only while the child has something to answer.
   */
  #armWatch() {
    if (this.#armed || this.#closing || this.#channel.closed) return;
    if (this.#ready && this.#forwarded.size === 0) return;
    const channel = this.#channel;
    const value = channel.prepareToPark(W.RESULT_SEQ, W.HOST_PARKED, channel.results);
    if (value === undefined) return void queueMicrotask(() => this.#pool.wake());
    // Calls waiting for room: the child may have made some just before the park was announced.
    if (this.#outbox.length > 0) {
      const before = this.#outbox.length;
      this.#flushCalls();
      if (this.#outbox.length < before) {
        Atomics.store(channel.words, W.HOST_PARKED, 0);
        return void queueMicrotask(() => this.#pool.wake());
      }
    }
    this.#armed = true;
    const watched = channel;
    channel.psb.waitAsync(W.RESULT_SEQ, value).then(() => {
      if (watched !== this.#channel || watched.closed) return;
      this.#armed = false;
      Atomics.store(watched.words, W.HOST_PARKED, 0);
      if (this.#closing) return;
      this.#pool.wake();
      this.#armWatch();
    });
  }

  /** Ends a pending wait (the child is gone, or the pool closes). */
  #disarm() {
    if (!this.#armed) return;
    this.#armed = false;
    const channel = this.#channel;
    Atomics.add(channel.words, W.RESULT_SEQ, 1);
    channel.psb.notify(W.RESULT_SEQ);
  }

  /** The dispatcher is about to sleep: a message from the child must wake it. */
  beforeSleep() {
    this.#armWatch();
  }

  // ---- lifecycle ----

  keepAlive(keep) {
    this.#kept = keep;
    if (this.#child.pid === undefined) return; // (it never started)
    if (keep) this.#child.ref();
    else this.#child.unref();
  }

  /** Kills the child (a call outlived its hard deadline); it is replaced, and `cause` explains its calls' failure. */
  stop(cause, handle, serial) {
    // A call still waiting at the child is not its fault: it is not stopped for it.
    if (handle !== undefined && !this.#startedAtChild(handle, serial)) return;
    this.#crash = cause;
    this.#log(`process worker ${this.number} stopped`, cause?.message);
    this.#child.kill("SIGKILL");
  }

  /** Stops the child for good: asks it to exit, kills it if it has not within a second; reaps it. */
  async close() {
    if (this.#closing) return this.#exited;
    this.#closing = true;
    const child = this.#child;
    const channel = this.#channel;
    this.#disarm();
    if (!child.handled && !channel.closed && child.pid !== undefined) {
      Atomics.store(channel.words, W.STOP, 1);
      channel.ring(W.CALL_SEQ, W.CHILD_PARKED);
      Atomics.store(channel.words, W.CHILD_PARKED, 0);
      channel.psb.notify(W.CALL_SEQ);
      const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    // (Not while a drain of this channel may be on the stack: a startup failure read from it closes the lane.)
    await undefined;
    this.#unlink();
    channel.close();
  }
}
