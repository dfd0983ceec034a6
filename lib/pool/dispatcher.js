// The host's side of scheduling (docs/scheduling.md): every call goes into
// the pool's one CallQueue, from which any idle worker claims it; the host
// wakes a sleeping worker when nobody is spinning for calls, hands values that
// move or share memory to the worker that claimed their call (or straight to
// an idle worker), learns of results by polling briefly and then sleeping on
// its doorbell, and knows exactly which calls a dying worker had started.
import { decode } from "../codec/decode.js";
import { serialize } from "../codec/serialize.js";
import { payloadBytes } from "../codec/payload-size.js";
import { Errors } from "../errors.js";
import { untakeBuffer } from "../buffer-reference/buffer-reference.js";
import { CallQueue, Form, Payload } from "../transport/call-queue.js";
import { HostBell, Seat, Seats, poolBudgets } from "../transport/doorbell.js";
import { awakeLimit } from "./options.js";
import { CONTROL_BYTES, H_SEAT } from "../transport/layout.js";
import { F_JSON, F_TAGGED, fitsInSlot } from "../transport/slot-value.js";
import { CallTable, Flag } from "./call-table.js";
import { Inliner } from "./inliner.js";
import { heapPop, heapPush } from "./heap.js";
import { setLongTimeout } from "../timers.js";
import { DROPPED } from "../transport/slot-value.js";
import { deserialize } from "../codec/serialize.js";
import { hostMicros } from "../transport/call-clock.js";
import { CallSamples } from "../transport/call-samples.js";
import { NOT_STARTED } from "../transport/layout.js";
import { createHistogram } from "node:perf_hooks";
import { threadId } from "node:worker_threads";

const NO_TRANSFER = Object.freeze([]);

export class Dispatcher {
  #control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  #queue;
  #seats;
  #budgets;
  #settings;
  #bell = new HostBell(this.#control);
  #calls = new CallTable();
  /** @type {import("./lane.js").Lane[]} */
  #lanes = [];
  /** Calls waiting for room in the queue, oldest first: handle, serial, ... */
  #overflow = [];
  #overflowHead = 0;
  #pollScheduled = false;
  #spinNext = false;
  /** When the host last made progress (a result, a delivery, a call pushed). */
  #progressAt = 0;
  #sleeping = false;
  #sleepId = 0;
  #hooks;

  /**
   * @param {ReturnType<typeof import("./options.js").validatePoolOptions>} settings
   * @param {{ keepAlive(keep: boolean): void }} hooks keepAlive(true) when the first call starts, false when the last settles
   */
  constructor(settings, hooks) {
    this.#settings = settings;
    this.#queue = new CallQueue(this.#control, undefined, settings.payload.arenaBytes);
    // Process workers take calls on the host (their lanes claim for them): no thread has a seat.
    this.#processes = settings.processes !== undefined;
    this.#seats = new Seats(this.#control, this.#processes ? 0 : settings.threads, settings.balancer);
    this.#budgets = poolBudgets(settings.timers, settings.host);
    this.#hooks = hooks;
  }

  /** What every worker is given to open the pool's shared memory and follow the pool's settings. */
  get workerData() {
    const settings = this.#settings;
    return {
      control: this.#control.buffer,
      queue: this.#queue.shared,
      threads: settings.threads,
      // Workers spin only while those awake leave the host a core of its own.
      maxAwake: awakeLimit(),
      budgets: this.#budgets,
      strategy: settings.balancer,
      maxPayloadBytes: settings.payload.maxPayloadBytes,
      resolveAfterFinishingAll: settings.resolveAfterFinishingAll,
      bootstrap: settings.bootstrap,
      hostTimeOrigin: performance.timeOrigin,
    };
  }

  set lanes(lanes) {
    this.#lanes = lanes;
    if (this.#processes) this.#processLanes = lanes;
  }
  #processes;
  /** @type {import("../process/process-lane.js").ProcessLane[]} */
  #processLanes = [];

  /** What a process worker's lane needs of the pool (lib/process/process-lane.js). */
  get processHooks() {
    return {
      queue: this.#queue,
      held: (handle) => this.#takeHeld(handle),
      dropped: (handle, serial) => this.#settle(handle, serial, DROPPED),
      settleDecoded: (handle, serial, ok, value) => this.#settleDecoded(handle, serial, ok, value),
      requeue: (handle, serial, wire, tagged) => this.#requeue(handle, serial, wire, tagged),
      othersIdle: (lane) => this.#processLanes.some((other) => other !== lane && other.idle),
      laneFreed: (lane) => this.#laneFreed(lane),
      wake: () => this.#schedulePoll(),
    };
  }

  /** A call a process worker had not started goes back into the queue, its value held here. */
  #requeue(handle, serial, wire, tagged) {
    const calls = this.#calls;
    if (!calls.live(handle, serial)) return;
    this.#queue.markNotStarted(handle, serial);
    if (calls.settledEarly(handle)) {
      calls.delete(handle);
      if (calls.size === 0) this.#hooks.keepAlive(false);
      return;
    }
    calls.values[handle] = wire;
    calls.flags[handle] = (calls.flags[handle] | Flag.HELD) & ~Flag.DELIVERED;
    if (tagged) calls.flags[handle] |= Flag.TAGGED;
    calls.transfers[handle] = NO_TRANSFER;
    this.#enqueue(handle, wire);
  }

  /** A process worker answered calls: if it is now idle and nothing waits, it takes a busy worker's unstarted calls. */
  #laneFreed(lane) {
    if (!lane.idle || this.#queue.backlog() > 0) return;
    for (const other of this.#processLanes) {
      if (other !== lane && other.inFlight > 1 && other.takeBackUnstarted() > 0) return;
    }
  }

  /**
   * The host's own copies of the task functions (undefined for a task only
   * workers can import), for the inliner lane when the pool has one.
   */
  set hostFunctions(functions) {
    const inliner = this.#settings.inliner;
    if (inliner === undefined) return;
    this.#inliner = new Inliner(inliner, {
      queue: this.#queue,
      seats: this.#seats,
      functions,
      lane: this.#settings.threads + 1,
      held: (handle) => this.#takeHeld(handle),
      settle: (handle, serial, ok, value) => this.#settleDecoded(handle, serial, ok, value),
      dropped: (handle, serial) => this.#settle(handle, serial, DROPPED),
      stats: this.#settings.stats,
    });
  }
  #inliner = undefined;

  /** Calls in flight. */
  get size() {
    return this.#calls.size;
  }

  // ---- sending calls ----

  /** A call refused before it was sent (by the pool or here) counts as failed. */
  countFailed() {
    this.#calls.failed++;
  }

  #refuse(error, control) {
    this.countFailed();
    return withReject(Promise.reject(error), control);
  }

  /**
   * Sends a call of task `task` (`prepared`: the codec's output, see
   * prepare()) and returns its promise. `control`, when given:
   * { signal, hardTimeoutMs, abortable } (see #watch).
   */
  send(task, prepared, control) {
    let { wire, transfer } = prepared;
    const { tagged, shared, json, copied, taken } = prepared;
    const cap = this.#settings.payload.maxPayloadBytes;
    if (cap !== undefined) {
      const size = payloadBytes(wire, json, copied, transfer, shared);
      if (size > cap) {
        if (taken !== undefined) untakeBuffer(taken[0], taken[1]); // refused: the reference keeps its bytes
        return this.#refuse(Errors.payloadTooLarge("arg", cap, size), control);
      }
    }
    let flags = tagged ? Flag.TAGGED : 0;
    let value = wire;
    if (this.#processes) {
      // A process worker's lane encodes the wire for its child itself.
      flags |= Flag.HELD;
      transfer = NO_TRANSFER;
    } else if (transfer.length > 0 || shared) {
      flags |= Flag.HELD; // moves or shares memory: structured clone carries it, on a port
    } else if (typeof wire === "string") {
      if (!fitsInSlot(wire)) flags |= Flag.TEXT;
    } else if (json) {
      try {
        value = JSON.stringify(wire);
        flags |= Flag.TEXT | Flag.JSON;
      } catch {
        // Its text would be longer than a string can be: structured clone carries it, on a port.
        flags |= Flag.HELD;
        transfer = NO_TRANSFER;
      }
    } else if (tagged || !fitsInSlot(wire)) {
      try {
        value = serialize(wire);
      } catch (cause) {
        return this.#refuse(Errors.uncloneable(cause), control);
      }
      flags |= Flag.SERIALIZED;
    }
    const calls = this.#calls;
    const handle = calls.add(task, flags);
    this.#queue.ensureHandles(calls.capacity);
    this.#queue.stampSent(handle, this.#sendTime());
    if (calls.size === 1) this.#hooks.keepAlive(true);
    if (flags & Flag.HELD) {
      calls.values[handle] = value;
      calls.transfers[handle] = transfer;
      // Straight to an idle worker when there is one: it starts at once, even
      // if this thread then stays busy.
      const lane = this.#processes ? 0 : this.#seats.takeOpen();
      if (lane !== 0) this.#deliver(lane, handle);
      else this.#enqueue(handle, value);
    } else this.#enqueue(handle, value);
    this.#schedulePoll(true);
    const promise = calls.promise(handle);
    if (control !== undefined || this.#settings.hardTimeoutMs !== undefined) this.#watch(handle, calls.serials[handle], promise, control);
    return promise;
  }

  /**
   * When a call is sent (hostMicros), for its wait time and its task timeout.
   * The clock is read once per 16 calls in one synchronous run of the caller
   * (a read costs as much as a small call's whole dispatch): calls sent
   * together share a time, and the next run reads it afresh.
   */
  #sendTime() {
    if (this.#sendTimeUses > 0) {
      this.#sendTimeUses--;
      return this.#sendTimeValue;
    }
    if (this.#sendTimeUses < 0) queueMicrotask(this.#sendTimeExpires);
    this.#sendTimeUses = 15;
    return (this.#sendTimeValue = hostMicros(performance.now()));
  }
  #sendTimeValue = 0;
  /** Calls left to stamp with #sendTimeValue; -1: it expired (the caller's synchronous run ended). */
  #sendTimeUses = -1;
  #sendTimeExpires = () => {
    this.#sendTimeUses = -1;
  };

  // ---- aborting calls: cancellation and hard deadlines ----

  /**
   * Watches a call: its hard deadline (its own hardTimeoutMs, else the
   * pool's worker.hardTimeoutMs), its AbortSignal, and for a task defined with
   * abortSignal, the promise's reject(reason?).
   */
  #watch(handle, serial, promise, { signal, hardTimeoutMs, abortable } = {}) {
    const ms = hardTimeoutMs ?? this.#settings.hardTimeoutMs;
    if (ms !== undefined && ms !== Infinity) this.#addDeadline(handle, serial, ms);
    if (signal !== undefined) {
      const onAbort = () => this.abortCall(handle, serial, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#calls.onSettle[handle] = () => signal.removeEventListener("abort", onAbort);
    }
    if (abortable) {
      // Without a reason: the task is told (hasAborted(), its signal) and the
      // call still settles with what it returns. With one: also rejected now.
      promise.reject = (...reason) => this.abortCall(handle, serial, reason.length === 0 ? undefined : reason[0]);
    }
  }

  /**
   * Aborts a call. A call no worker has started is skipped (it never runs);
   * one running is told (its task's hasAborted() turns true, and its signal
   * fires). With a `reason` (not undefined), the call is also rejected with it
   * now; its worker's answer, if any comes, is dropped.
   */
  abortCall(handle, serial, reason) {
    const calls = this.#calls;
    if (!calls.live(handle, serial) || calls.settledEarly(handle)) return;
    if (calls.flags[handle] & Flag.WAITING) {
      // Still on this thread, waiting for queue room: it never left.
      if (reason === undefined) return void this.#queue.abort(handle, serial);
      calls.settle(handle, false, reason);
      if (calls.size === 0) this.#hooks.keepAlive(false);
      return;
    }
    const lane = this.#queue.abort(handle, serial);
    if (lane > 0 && lane <= this.#lanes.length) this.#lanes[lane - 1].tellAborted(handle, serial);
    else if (lane > 0 && lane === this.#inliner?.lane) this.#inliner.tellAborted(handle, serial);
    if (reason !== undefined) calls.settleEarly(handle, false, reason);
  }

  /** Pending hard deadlines: a binary heap of [time, handle, serial, ms], earliest first. */
  #deadlines = [];
  #deadlineAt = Infinity;
  #cancelDeadline = () => {};

  #addDeadline(handle, serial, ms) {
    const at = performance.now() + ms;
    heapPush(this.#deadlines, [at, handle, serial, ms]);
    if (at < this.#deadlineAt) this.#armDeadlines(at);
  }

  #armDeadlines(at) {
    this.#cancelDeadline();
    this.#deadlineAt = at;
    this.#cancelDeadline = setLongTimeout(this.#expire, Math.max(0, at - performance.now()), { unref: true });
  }

  #expire = () => {
    this.#deadlineAt = Infinity;
    const heap = this.#deadlines;
    const now = performance.now();
    while (heap.length > 0 && heap[0][0] <= now) {
      const [, handle, serial, ms] = heapPop(heap);
      this.#hardTimeout(handle, serial, ms);
    }
    if (heap.length > 0) this.#armDeadlines(heap[0][0]);
  };

  /**
   * A call outlived its hard deadline: it rejects with ERR_KNITTING_TASK_TIMEOUT,
   * and the worker running it (only that one) is stopped and replaced; the
   * other calls that worker had started fail with ERR_KNITTING_WORKER_EXITED,
   * calls it had not started run elsewhere. A call not started yet is skipped.
   */
  #hardTimeout(handle, serial, ms) {
    const calls = this.#calls;
    if (!calls.live(handle, serial) || calls.settledEarly(handle)) return;
    const lane = this.#queue.startedBy(handle, serial);
    const onWorker = lane > 0 && lane <= this.#lanes.length;
    this.abortCall(handle, serial, Errors.hardTimeout(ms, onWorker));
    if (onWorker) this.#lanes[lane - 1].stop(Errors.stoppedAfterHardTimeout(ms), handle, serial);
  }

  /** Publishes a call (or keeps it waiting for room), then makes sure a worker will look. */
  #enqueue(handle, value) {
    if (this.#overflowHead < this.#overflow.length || !this.#push(handle, value)) {
      this.#calls.values[handle] = value;
      this.#calls.flags[handle] |= Flag.WAITING;
      this.#overflow.push(handle, this.#calls.serials[handle]);
      this.#queue.setOverflowing(true);
      return;
    }
    // Nobody spinning for calls: wake a sleeper (one with nothing pending first).
    if (this.#seats.spinning === 0) this.#seats.wakeOne();
    // Process lanes forward in a microtask: never inside pool.call (a call
    // they refuse settles then), and a burst of calls goes out as one batch.
    if (this.#processes && !this.#considering) {
      this.#considering = true;
      queueMicrotask(this.#considerProcesses);
    }
    this.#inliner?.consider();
  }
  #considering = false;
  #considerProcesses = () => {
    this.#considering = false;
    for (const lane of this.#processLanes) lane.consider();
  };

  /** Pushes call `handle` into the queue; false when the queue is full. */
  #push(handle, value) {
    const calls = this.#calls;
    const flags = calls.flags[handle];
    const kind = flags & Flag.HELD ? Payload.HELD : flags & Flag.TEXT ? Payload.TEXT : flags & Flag.SERIALIZED ? Payload.SERIALIZED : Payload.PRIMITIVE;
    const slotFlags = (flags & Flag.TAGGED ? F_TAGGED : 0) | (flags & Flag.JSON ? F_JSON : 0);
    const pushed = this.#queue.push(handle, calls.serials[handle], calls.tasks[handle], kind, value, slotFlags);
    if (pushed !== "held") return pushed;
    // No room in the arena: the serialized bytes wait on the host instead.
    calls.flags[handle] |= Flag.HELD;
    calls.values[handle] = value;
    calls.transfers[handle] = NO_TRANSFER;
    return this.#push(handle, value);
  }

  /** Moves calls that waited for room into the queue, oldest first. */
  #flushOverflow() {
    const overflow = this.#overflow;
    const calls = this.#calls;
    let head = this.#overflowHead;
    let pushed = 0;
    while (head < overflow.length) {
      const handle = overflow[head];
      if (calls.live(handle, overflow[head + 1])) {
        if (!this.#push(handle, calls.values[handle])) break;
        calls.flags[handle] &= ~Flag.WAITING;
        if (!(calls.flags[handle] & Flag.HELD)) calls.values[handle] = undefined;
        pushed++;
      }
      head += 2;
    }
    if (head === overflow.length) {
      overflow.length = 0;
      head = 0;
      this.#queue.setOverflowing(false);
    }
    this.#overflowHead = head;
    if (pushed > 0 && this.#seats.spinning === 0) this.#seats.wakeOne();
    return pushed;
  }

  /** Posts a held call's value to `lane`, whose seat this thread holds (TAKEN). */
  #deliver(lane, handle) {
    const calls = this.#calls;
    const flags = calls.flags[handle];
    const value = calls.values[handle];
    const form = flags & Flag.SERIALIZED ? Form.SERIALIZED : flags & Flag.JSON ? Form.JSON : Form.WIRE;
    let transfer = calls.transfers[handle];
    // Serialized bytes in a buffer of their own move instead of being copied.
    if (form === Form.SERIALIZED && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) transfer = [value.buffer];
    const port = this.#lanes[lane - 1];
    this.#queue.markStarted(handle, calls.serials[handle], lane);
    try {
      port.post([handle, calls.serials[handle], calls.tasks[handle], value, (flags & Flag.TAGGED) !== 0, form], transfer);
      calls.flags[handle] = flags | Flag.DELIVERED;
      calls.values[handle] = undefined;
      calls.transfers[handle] = undefined;
    } catch (cause) {
      // The engine would not post it: the call fails, and the worker, which
      // waits on its seat, is told there is nothing to run.
      port.post([-1]);
      calls.settle(handle, false, Errors.uncloneable(cause));
      if (calls.size === 0) this.#hooks.keepAlive(false);
    }
    this.#seats.delivered(lane);
  }

  /** Whether `handle` is a held call not handed to a worker yet. */
  #waitsOnHost(handle) {
    return this.#calls.inFlight(handle) && (this.#calls.flags[handle] & (Flag.HELD | Flag.DELIVERED)) === Flag.HELD;
  }

  /** Hands held calls to the workers that claimed them and wait (AWAITING); invites those that stopped waiting. */
  #deliverAwaited() {
    const seats = this.#seats;
    let delivered = 0;
    for (let lane = 1; lane <= seats.threads; lane++) {
      const state = seats.state(lane);
      if (state === Seat.AWAITING) {
        const handle = seats.wanted(lane);
        if (this.#calls.inFlight(handle) && this.#calls.settledEarly(handle) && seats.move(lane, Seat.AWAITING, Seat.TAKEN)) {
          // Aborted while its worker waited for it: nothing to run.
          this.#lanes[lane - 1].post([-1]);
          this.#seats.delivered(lane);
          this.#calls.delete(handle);
          if (this.#calls.size === 0) this.#hooks.keepAlive(false);
          delivered++;
        } else if (this.#waitsOnHost(handle) && seats.move(lane, Seat.AWAITING, Seat.TAKEN)) {
          this.#deliver(lane, handle);
          delivered++;
        }
      } else if (state === Seat.AWAITING_ASYNC) {
        seats.move(lane, Seat.AWAITING_ASYNC, Seat.INVITED);
      }
    }
    return delivered;
  }

  // ---- learning of results: a bounded poll while calls are in flight, then the doorbell ----

  /** The inliner claimed held call `handle`: its value, decoded, as [wire, tagged]; undefined if it no longer waits. */
  #takeHeld(handle) {
    if (!this.#waitsOnHost(handle)) return undefined;
    const calls = this.#calls;
    const flags = calls.flags[handle];
    let wire = calls.values[handle];
    if (flags & Flag.SERIALIZED) wire = deserialize(wire);
    else if (flags & Flag.JSON) wire = JSON.parse(wire);
    calls.flags[handle] = flags | Flag.DELIVERED;
    calls.values[handle] = undefined;
    calls.transfers[handle] = undefined;
    return [wire, (flags & Flag.TAGGED) !== 0];
  }

  /** A call the inliner ran settles (its value is already decoded). */
  #settleDecoded(handle, serial, ok, value) {
    const calls = this.#calls;
    if (!calls.live(handle, serial)) return;
    calls.settle(handle, ok, value);
    if (calls.size === 0) this.#hooks.keepAlive(false);
  }

  #settle = (handle, serial, ok, wire, tagged) => {
    const calls = this.#calls;
    if (!calls.live(handle, serial)) return; // a late answer for a call that was settled otherwise
    if (calls.settledEarly(handle)) {
      // An answer (or the worker's skip) for a call settled already: free its handle.
      calls.delete(handle);
      if (calls.size === 0) this.#hooks.keepAlive(false);
      return;
    }
    if (ok === DROPPED) {
      // The worker skipped a call aborted without a reason before it started.
      calls.settle(handle, false, Errors.abortedBeforeStart());
      if (calls.size === 0) this.#hooks.keepAlive(false);
      return;
    }
    let value;
    try {
      value = decode(wire, tagged);
    } catch (error) {
      ok = 0;
      value = error;
    }
    calls.settle(handle, ok === 1, value);
    if (calls.size === 0) this.#hooks.keepAlive(false);
  };

  /**
   * Right after a call, the first poll is a microtask that spins briefly: a
   * caller awaiting one call at a time gets its result without waiting for a
   * turn of the event loop. Polls after that take turns with the event loop
   * (setImmediate) until hostPollMs pass without progress; then the host sleeps.
   */
  #schedulePoll(soon = false) {
    if (this.#sleeping) this.#wakeSelf();
    if (this.#pollScheduled) return;
    this.#pollScheduled = true;
    if (soon) {
      this.#progressAt = performance.now();
      this.#spinNext = true;
      queueMicrotask(this.#poll);
    } else setImmediate(this.#poll);
  }

  #poll = () => {
    this.#pollScheduled = false;
    const spin = this.#spinNext;
    this.#spinNext = false;
    if (this.#drain() > 0 || (spin && this.#spinForResults() && this.#drain() > 0)) {
      this.#progressAt = performance.now();
      this.#emptyPolls = 0;
    }
    if (this.#calls.size === 0) return;
    if (this.#stillPolling()) return this.#schedulePoll();
    this.#sleep();
  };

  /**
   * Whether to poll again: until hostPollMs pass without progress, or, with
   * host.stallFreeLoops, that many empty polls in a row.
   */
  #stillPolling() {
    const polls = this.#budgets.hostPolls;
    if (polls === undefined) return performance.now() - this.#progressAt < this.#budgets.hostPollMs;
    return ++this.#emptyPolls <= polls;
  }
  #emptyPolls = 0;

  /**
   * Everything the host does when it looks: calls waiting for room (first, so
   * the workers have work while this thread settles results and runs their
   * promise reactions), held calls workers wait for, results.
   */
  #drain() {
    let count = 0;
    if (this.#overflowHead < this.#overflow.length) count += this.#flushOverflow();
    if (this.#seats.awaiting > 0) count += this.#deliverAwaited();
    for (const lane of this.#lanes) count += lane.drainResults(this.#settle);
    if (this.#overflowHead < this.#overflow.length) count += this.#flushOverflow();
    for (const lane of this.#processLanes) lane.consider();
    this.#inliner?.consider();
    return count;
  }

  /** Spins up to hostSpinMs for something to do; true if it came. */
  #spinForResults() {
    const end = performance.now() + this.#budgets.hostSpinMs;
    do {
      for (let i = 0; i < 32; i++) {
        for (const lane of this.#lanes) if (lane.results.hasItems()) return true;
      }
      if (this.#seats.awaiting > 0) return true; // (less often: reading it delays the workers' writes)
    } while (performance.now() < end);
    return false;
  }

  #sleep() {
    this.#bell.prepareToSleep();
    if (this.#drain() > 0) {
      this.#bell.stayAwake();
      this.#progressAt = performance.now();
      return this.#schedulePoll();
    }
    this.#sleeping = true;
    const id = ++this.#sleepId;
    for (const lane of this.#processLanes) lane.beforeSleep();
    this.#bell.sleep(() => {
      if (id !== this.#sleepId) return; // this sleep was cut short by a new call
      this.#sleeping = false;
      this.#progressAt = performance.now();
      this.#poll();
    });
  }

  /** A new call while the host sleeps: poll now rather than wait for a bell. */
  #wakeSelf() {
    this.#sleeping = false;
    this.#sleepId++;
    this.#bell.stayAwake();
    Atomics.notify(this.#control, H_SEAT); // lets the pending wait finish (its callback does nothing)
  }

  // ---- stats ----

  /**
   * pool.stats(): counted from the calls in flight now (queued or running,
   * by who started them) and from what the lanes recorded (their run and wait
   * histograms, merged into fresh ones here). A call aborted before it
   * started is neither queued nor running.
   */
  stats() {
    const calls = this.#calls;
    const lanes = this.#lanes;
    const inliner = this.#inliner;
    const running = new Array(lanes.length + 1).fill(0); // the inliner's is last
    let queueSize = 0;
    for (const handle of calls.handles()) {
      const lane = this.#queue.startedBy(handle, calls.serials[handle]);
      if (lane !== NOT_STARTED) running[lane - 1]++;
      else if (!calls.settledEarly(handle)) queueSize++;
    }
    const now = performance.now();
    const on = this.#settings.stats;
    const runTime = on ? createHistogram() : undefined;
    const waitTime = on ? createHistogram() : undefined;
    let busyMs = 0;
    let openMs = 0;
    const lane = (thread, threadId, times, openedAt, count) => {
      if (!on) return { thread, threadId, running: count };
      const { run, wait, busyMs: busy } = new CallSamples(times.samples).snapshot(times);
      runTime.add(run);
      waitTime.add(wait);
      const open = Math.max(now - openedAt, 1e-3);
      busyMs += busy;
      openMs += open;
      return { thread, threadId, running: count, calls: run.count, utilization: Math.min(1, busy / open) };
    };
    const workers = lanes.map((l, i) => lane(i, l.threadId, l.times, l.openedAt, running[i]));
    if (inliner !== undefined) workers.push(lane("inliner", threadId, inliner.times, inliner.openedAt, running[lanes.length]));
    return {
      queueSize,
      running: running.reduce((a, b) => a + b, 0),
      completed: calls.completed,
      failed: calls.failed,
      ...(on ? { utilization: Math.min(1, busyMs / Math.max(openMs, 1e-3)), runTime, waitTime } : {}),
      workers,
    };
  }

  // ---- faults and shutdown ----

  /**
   * A worker died: `reject(error)` gets the calls it had started (the caller
   * builds the error); a held call it had claimed but never received goes
   * back into the queue for another worker. Its results written before it
   * died still count. Returns how many calls it had started.
   */
  laneExited(lane, error) {
    lane.drainResults(this.#settle);
    if (!this.#processes) this.#seats.vacate(lane.number);
    // A waker may have picked the dead worker's seat for calls still queued.
    if (this.#queue.backlog() > 0 && this.#seats.spinning === 0) this.#seats.wakeOne();
    let started = 0;
    for (const handle of this.#calls.handles()) {
      const serial = this.#calls.serials[handle];
      if (this.#queue.startedBy(handle, serial) !== lane.number) continue;
      started++;
      if (this.#waitsOnHost(handle)) {
        this.#queue.markNotStarted(handle, serial);
        this.#enqueue(handle, this.#calls.values[handle]);
      } else this.#calls.settle(handle, false, error());
    }
    if (this.#calls.size === 0) this.#hooks.keepAlive(false);
    else this.#schedulePoll();
    return started;
  }

  /** Rejects every call in flight with `error()`. */
  rejectAll(error) {
    for (const handle of this.#calls.handles()) this.#calls.settle(handle, false, error());
    this.#overflow.length = 0;
    this.#overflowHead = 0;
    this.#queue.setOverflowing(false);
    if (this.#calls.size === 0) this.#hooks.keepAlive(false);
  }

  /** Stops the workers' loops and wakes every sleeper (they are terminated next). */
  stop() {
    this.#queue.stop();
    this.#seats.wakeAll();
    this.#sleepId++;
  }
}

/** A call's promise that settled before it was sent: an abortable task's promise still has reject() (which does nothing). */
export function withReject(promise, control) {
  if (control?.abortable) promise.reject = () => {};
  return promise;
}
