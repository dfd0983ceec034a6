// createPool(options)(tasks): the pool object users hold, with one
// `call.<name>(arg)` function per task, shutdown and dispose.
import { Errors } from "../errors.js";
import { kInPoolWorker } from "../symbols.js";
import { callerModuleUrl } from "./caller.js";
import { Lane } from "./lane.js";
import { CallTable } from "./call-table.js";
import { availableParallelism } from "node:os";
import { decode } from "../codec/decode.js";
import { prepare } from "../codec/prepare.js";
import { CallQueue, Q_HOST_BELL, Q_HOST_PARKED } from "../transport/call-queue.js";
import { validatePoolOptions } from "./options.js";
import { isTask, setCreatePool } from "./task.js";

/** Describes each task so a worker can import it: sorted by name. */
function describeTasks(tasks, callerHref) {
  if (tasks === null || typeof tasks !== "object") throw Errors.invalidTask("createPool(options)(tasks) expects an object of tasks, e.g. { invert }");
  return Object.keys(tasks)
    .sort()
    .map((name) => {
      const value = tasks[name];
      if (isTask(value)) {
        const href = value.href ?? callerHref;
        if (href === undefined) throw Errors.invalidTask(`cannot tell which module defines task "${name}"; define it in a module file`);
        // A task() definition carries its timeout in the module the workers
        // import; only importTask's has to travel with the description.
        const timeout = value.imported === true ? value.timeout : undefined;
        return { name, href, exportName: value.exportName ?? name, at: value.at, timeout };
      }
      if (typeof value === "function") {
        if (callerHref === undefined) throw Errors.invalidTask(`cannot tell which module exports function "${name}"`);
        return { name, href: callerHref, exportName: name, at: -1 };
      }
      throw Errors.invalidTask(`createPool task "${name}" must be a task definition or an exported function`);
    });
}

/** What createPool gives a module that a pool worker is importing. */
function workerStub(names, href) {
  const fail = () => Promise.reject(Errors.createPoolInWorker(href));
  const call = Object.fromEntries(names.map((name) => [name, fail]));
  return Object.freeze({
    call: Object.freeze(call),
    shutdown: () => Promise.resolve(),
    [Symbol.dispose]() {},
    [Symbol.asyncDispose]: () => Promise.resolve(),
  });
}


/** Empty polls for results before the host parks on its doorbell. */
const POLL_LIMIT = 32;
/** While calls wait to be claimed, the parked host looks again this often. */
const BACKLOG_RECHECK_MS = 1;
/** How long one empty poll spins for a result before yielding the event loop. */
const HOST_SPIN_MS = 0.005;

class Pool {
  #queue = new CallQueue();
  #lanes;
  /** id → { resolve, reject, lane } for every call in flight (lane 0: the shared queue) */
  #calls = new CallTable();
  /** Calls waiting for room in the CallQueue, flat: id, taskIndex, wire, tagged, ... */
  #overflow = [];
  #overflowHead = 0;
  #nextId = 1;
  #closed = false;
  #shutdown = undefined;
  #pollScheduled = false;
  #spinNext = false;
  #emptyPolls = 0;
  #parked = false;
  /** Lanes whose worker loaded its tasks (or is still starting). */
  #workingLanes;
  /** Queue claim position at the previous poll: no movement with a backlog wakes a worker. */
  #lastClaimed = 0;
  /** Called once when the last call in flight settles (shutdown with a delay). */
  #whenIdle = undefined;

  constructor(threads, tasks) {
    this.#workingLanes = threads;
    // Workers spin briefly for the next call, but never more of them at once
    // than leaves the host a core of its own.
    const workerData = { tasks, queue: this.#queue.sab, spinMicros: 50, maxSpinners: Math.max(1, availableParallelism() - 1) };
    const events = {
      onStartupFailed: (lane, message) => this.#laneFailed(lane, decode(message.wire, message.tagged)),
      onExit: (lane, code, cause) => this.#laneExited(lane, code, cause),
    };
    this.#lanes = Array.from({ length: threads }, (_, i) => new Lane(i + 1, workerData, events));
    const call = Object.create(null);
    tasks.forEach(({ name }, index) => {
      call[name] = (arg) => this.#call(index, arg);
    });
    this.call = Object.freeze(call);
    Object.freeze(this);
  }

  #call(index, arg) {
    if (this.#closed) return Promise.reject(Errors.poolClosed());
    if (arg instanceof Promise) return arg.then((value) => this.#call(index, value));
    const failure = this.#allLanesFailed();
    if (failure !== undefined) return Promise.reject(failure);
    let wire, tagged, transfer;
    try {
      ({ wire, tagged, transfer } = prepare(arg, "arg"));
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.#nextId;
    this.#nextId = (id + 1) & 0x7fffffff || 1;
    const call = Promise.withResolvers();
    call.id = id;
    call.lane = 0;
    if (this.#calls.size === 0) this.#keepAlive(true);
    this.#calls.set(id, call);
    if (transfer.length > 0) this.#sendToPort(id, index, wire, tagged, transfer);
    else if (this.#overflow.length > this.#overflowHead) this.#overflow.push(id, index, wire, tagged);
    else {
      const pushed = this.#queue.push(id, index, wire);
      if (pushed === true) this.#wakeIfAllParked();
      else if (pushed === "full") this.#overflow.push(id, index, wire, tagged);
      else this.#sendToPort(id, index, wire, tagged, transfer);
    }
    this.#schedulePoll(true);
    return call.promise;
  }

  /** Sends a call to one worker (moved buffers, values too large for a slot). */
  #sendToPort(id, index, wire, tagged, transfer) {
    const lane = this.#portLane();
    this.#calls.get(id).lane = lane.number;
    lane.sendDirect(id, index, wire, tagged, transfer);
  }

  /**
   * After a push: wakes a parked worker only when every working worker is
   * parked. Tiny calls are best served by the workers already awake (waking
   * one costs tens of microseconds and takes a core from the host); #drain
   * wakes more when the awake ones make no progress (a slow task).
   */
  #wakeIfAllParked() {
    if (this.#queue.parkedWorkers() >= this.#workingLanes) this.#wakeOne();
  }

  /** Wakes one parked worker, if any. */
  #wakeOne() {
    for (const lane of this.#lanes) if (lane.startupError === undefined && lane.wake()) return;
  }

  /** Moves calls that waited for room into the CallQueue, oldest first. */
  #flushOverflow() {
    const overflow = this.#overflow;
    let head = this.#overflowHead;
    let pushed = 0;
    while (head < overflow.length) {
      const id = overflow[head];
      if (this.#calls.has(id)) {
        const result = this.#queue.push(id, overflow[head + 1], overflow[head + 2]);
        if (result === "full") break;
        if (result === "large") this.#sendToPort(id, overflow[head + 1], overflow[head + 2], overflow[head + 3], []);
        else pushed++;
      }
      head += 4;
    }
    if (head === overflow.length) {
      overflow.length = 0;
      head = 0;
    }
    this.#overflowHead = head;
    if (pushed > 0) this.#wakeIfAllParked();
  }

  /** The working lane with the fewest direct calls in flight. */
  #portLane() {
    let best;
    for (const lane of this.#lanes) {
      if (lane.startupError !== undefined) continue;
      if (best === undefined || lane.directCalls < best.directCalls) best = lane;
    }
    return best ?? this.#lanes[0];
  }

  #allLanesFailed() {
    const first = this.#lanes[0].startupError;
    return first !== undefined && this.#lanes.every((lane) => lane.startupError !== undefined) ? first : undefined;
  }

  #settle = (id, ok, wire, tagged) => {
    const call = this.#calls.get(id);
    if (call === undefined) return;
    this.#calls.delete(id);
    if (call.lane !== 0) this.#lanes[call.lane - 1].directCalls--;
    if (this.#calls.size === 0) this.#becameIdle();
    const value = decode(wire, tagged);
    if (ok === 1) call.resolve(value);
    else call.reject(value);
  };

  // ---- learning of results: a bounded poll while calls are in flight, then a doorbell ----

  /**
   * Right after a call, the first poll is a microtask: a caller awaiting one
   * call at a time gets its result without waiting for a turn of the event
   * loop. Polls after that take turns with the event loop (setImmediate).
   */
  #schedulePoll(soon = false) {
    if (this.#pollScheduled || this.#parked) return;
    this.#pollScheduled = true;
    if (soon) {
      this.#spinNext = true;
      queueMicrotask(this.#poll);
    }
    else setImmediate(this.#poll);
  }

  #drain() {
    const claimed = this.#queue.claimed();
    if (claimed === this.#lastClaimed && this.#queue.backlog() > 0) this.#wakeOne();
    this.#lastClaimed = claimed;
    let count = 0;
    for (const lane of this.#lanes) {
      count += lane.drainResults(this.#settle);
      lane.announce();
    }
    if (this.#overflow.length > this.#overflowHead) this.#flushOverflow();
    return count;
  }

  #poll = () => {
    this.#pollScheduled = false;
    this.#parked = false;
    // Only the first poll after a call spins (a caller awaiting one call at a
    // time); later polls just take turns with the event loop, then park.
    const spin = this.#spinNext;
    this.#spinNext = false;
    if (this.#drain() > 0 || (spin && this.#spinForResults() && this.#drain() > 0)) this.#emptyPolls = 0;
    else this.#emptyPolls++;
    if (this.#calls.size === 0) return;
    if (this.#emptyPolls < POLL_LIMIT) return this.#schedulePoll();
    this.#park();
  };

  /** Spins a few microseconds for a result (calls are in flight); true if one came. */
  #spinForResults() {
    const end = performance.now() + HOST_SPIN_MS;
    do {
      for (let i = 0; i < 32; i++) {
        for (const lane of this.#lanes) if (lane.results.hasItems()) return true;
      }
    } while (performance.now() < end);
    return false;
  }

  #park() {
    const i32 = this.#queue.i32;
    const bell = Atomics.load(i32, Q_HOST_BELL);
    Atomics.store(i32, Q_HOST_PARKED, 1);
    if (this.#drain() > 0) {
      Atomics.store(i32, Q_HOST_PARKED, 0);
      this.#emptyPolls = 0;
      if (this.#calls.size > 0) this.#schedulePoll();
      return;
    }
    // Calls still waiting to be claimed: the awake workers may all be busy
    // with slow tasks. Wake a parked one, and look again soon rather than
    // only when a result rings the bell.
    const backlog = this.#queue.backlog() > 0 || this.#overflow.length > this.#overflowHead;
    if (backlog) this.#wakeOne();
    this.#parked = true;
    const waiting = Atomics.waitAsync(i32, Q_HOST_BELL, bell, backlog ? BACKLOG_RECHECK_MS : Infinity);
    const wake = () => {
      this.#emptyPolls = 0;
      this.#poll();
    };
    if (waiting.async) waiting.value.then(wake);
    else wake();
  }

  #becameIdle() {
    this.#keepAlive(false);
    const whenIdle = this.#whenIdle;
    this.#whenIdle = undefined;
    whenIdle?.();
  }

  #keepAlive(keep) {
    for (const lane of this.#lanes) lane.keepAlive(keep);
  }

  // ---- lanes failing ----

  #laneFailed(lane, error) {
    lane.startupError = error;
    this.#workingLanes--;
    lane.close();
    this.#rejectWhere((call) => call.lane === lane.number, () => error);
    if (this.#allLanesFailed() !== undefined) {
      this.#overflow.length = 0;
      this.#overflowHead = 0;
      this.#rejectWhere(() => true, () => error);
    }
  }

  #laneExited(lane, code, cause) {
    lane.drainResults(this.#settle); // results it wrote before dying still count
    this.#rejectWhere(
      (call, id) => call.lane === lane.number || (call.lane === 0 && this.#queue.ownerOf(id) === lane.number),
      () => Errors.workerExited(code, cause),
    );
  }

  #rejectWhere(matches, makeError) {
    const rejected = [];
    for (const call of this.#calls.values()) {
      if (!matches(call, call.id)) continue;
      this.#calls.delete(call.id);
      rejected.push(call);
    }
    if (this.#calls.size === 0) this.#becameIdle();
    for (const call of rejected) call.reject(makeError());
  }

  /**
   * Stops accepting calls, gives calls in flight `delayMs` to finish, rejects
   * the rest with "Thread closed" and stops the workers. Idempotent.
   */
  shutdown(delayMs = 0) {
    if (this.#shutdown) return this.#shutdown;
    this.#closed = true;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.#shutdown = new Promise((resolve) => {
      const finish = () => {
        this.#queue.stop();
        this.#overflow.length = 0;
        this.#overflowHead = 0;
        this.#rejectWhere(() => true, () => Errors.threadClosed());
        resolve(Promise.all(this.#lanes.map((lane) => lane.close())).then(() => undefined));
      };
      if (delay === 0 || this.#calls.size === 0) return finish();
      // Calls in flight get the delay to finish; close as soon as they have.
      const timer = setTimeout(finish, delay);
      this.#whenIdle = () => {
        clearTimeout(timer);
        finish();
      };
    });
    return this.#shutdown;
  }

  [Symbol.dispose]() {
    this.shutdown();
  }

  [Symbol.asyncDispose]() {
    return this.shutdown();
  }
}

/** createPool({ threads, unsafe })({ ...tasks }) */
export function createPool(options) {
  const { threads } = validatePoolOptions(options);
  const callerHref = callerModuleUrl();
  return (tasks) => {
    if (globalThis[kInPoolWorker]) return workerStub(Object.keys(tasks ?? {}), callerHref);
    return new Pool(threads, describeTasks(tasks, callerHref));
  };
}

setCreatePool(createPool);
