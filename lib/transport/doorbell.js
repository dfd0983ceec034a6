// Every wait and every wake-up of the pool, in one place: the host's doorbell,
// one seat per worker, the counters that let anybody decide whom to wake, and
// the spin and poll budgets. docs/scheduling.md explains the protocol and why
// no wake-up can be lost; read it before changing anything here.
//
// A seat is one int32 in shared memory that says what its worker is doing.
// It is also the word the worker sleeps on: whoever moves a sleeping seat to
// another state notifies it, so a sleeper can never miss its wake-up (it
// sleeps only while the word still holds the state it wrote).
import { C_ASLEEP, C_AWAITING, C_OPEN, C_SPINNING, H_SEAT, eagerIndex, seatIndex, wantedIndex } from "./layout.js";

export const Seat = Object.freeze({
  /** Loading its tasks, or not running at all. Counts nowhere. */
  STARTING: 0,
  /** Running calls or looking for them. Only the worker moves it on. */
  BUSY: 1,
  /** Idle, awake, spinning for work; no async task pending. The host may deliver a call (→ TAKEN). */
  SPINNING: 2,
  /** About to claim from the queue (woken, or spinning and saw a call): still counts as idle until it claimed. */
  CLAIMING: 10,
  /** Idle in Atomics.wait; no async task or user timer pending. Deliverable (→ TAKEN) and wakeable (→ CLAIMING). */
  OPEN_ASLEEP: 3,
  /** Idle in Atomics.waitAsync: async tasks or user timers pending, so its event loop must run. Wakeable, never delivered to. */
  ASYNC_ASLEEP: 4,
  /** Claimed a call whose value waits on the host (the wanted word names it) and waits for it synchronously. The host delivers (→ TAKEN). */
  AWAITING: 5,
  /** The same, but the host was slow, so the worker gave its event loop back. The host invites it (→ INVITED) when it can deliver. */
  AWAITING_ASYNC: 6,
  /** The host is ready to deliver; the worker returns to AWAITING. */
  INVITED: 7,
  /** The host is posting a call to this worker's port. */
  TAKEN: 8,
  /** The call is on the worker's port: receive it and run it. */
  DELIVERED: 9,
});

const { STARTING, SPINNING, CLAIMING, OPEN_ASLEEP, ASYNC_ASLEEP, AWAITING, AWAITING_ASYNC, INVITED } = Seat;

/** Spin and poll budgets: how long each side stays awake before it sleeps. */
export const Budgets = Object.freeze({
  /**
   * A worker that runs out of calls spins this long (when a core is spare and
   * no async task is pending), but only if its previous idle stretch was
   * shorter than spinAfterIdleMs: calls that come back to back are caught
   * without a wake-up, and a worker that idles between calls sleeps at once.
   * (Measured here: spinning after every call made the next wake-up after a
   * quiet gap 4-8x slower, 56-93 µs instead of 8-20 µs.)
   */
  workerSpinMs: 0.05,
  spinAfterIdleMs: 0.1,
  /** The first poll after a call spins this long for its result. */
  hostSpinMs: 0.005,
  /**
   * The host keeps polling (one event-loop turn each) until this long has
   * passed without progress, then sleeps on its doorbell. A call after a
   * quiet gap is answered within it (a worker wakes in ~5-20 µs here), and a
   * sleeping host would add its own wake-up (~10-60 µs) to the round trip.
   */
  hostPollMs: 0.1,
  /** A worker with async work waits this long, blocking, for a held call before it gives its event loop back. */
  deliveryWaitMs: 1,
  /** Longest a worker sleeps blocking before it gives its event loop a turn (Infinity: until woken). */
  parkMs: Infinity,
  /** Empty polls before the host sleeps, instead of hostPollMs (undefined: use hostPollMs). */
  hostPolls: undefined,
  /** Whether spin loops give the CPU the pause hint. */
  pause: true,
});

/**
 * The budgets of one pool: the defaults above, changed by the options
 * worker.timers { spinMicroseconds, parkMs, pauseNanoseconds } and
 * host.stallFreeLoops (a value of 0 or less turns spinning, bounded parking,
 * or pausing off).
 */
export function poolBudgets({ spinMicroseconds, parkMs, pauseNanoseconds } = {}, { stallFreeLoops } = {}) {
  return Object.freeze({
    ...Budgets,
    workerSpinMs: spinMicroseconds === undefined ? Budgets.workerSpinMs : Math.max(0, spinMicroseconds) / 1000,
    parkMs: parkMs === undefined || parkMs <= 0 ? Infinity : parkMs,
    pause: pauseNanoseconds === undefined || pauseNanoseconds > 0,
    hostPolls: stallFreeLoops,
  });
}

/** A spin-wait hint to the CPU (Node 24+); a no-op where missing (Node 22). */
export const pause = Atomics.pause ?? (() => {});
const noPause = () => {};

// The counters each seat state counts in (see layout.js), as bits.
const SPIN_BIT = 1;
const OPEN_BIT = 2;
const ASLEEP_BIT = 4;
const AWAIT_BIT = 8;
const COUNTERS = [
  [SPIN_BIT, C_SPINNING],
  [OPEN_BIT, C_OPEN],
  [ASLEEP_BIT, C_ASLEEP],
  [AWAIT_BIT, C_AWAITING],
];
const countedIn = new Int32Array(16);
countedIn[SPINNING] = SPIN_BIT | OPEN_BIT;
countedIn[CLAIMING] = SPIN_BIT | OPEN_BIT;
countedIn[OPEN_ASLEEP] = OPEN_BIT | ASLEEP_BIT;
countedIn[ASYNC_ASLEEP] = ASLEEP_BIT;
countedIn[AWAITING] = AWAIT_BIT;
countedIn[AWAITING_ASYNC] = AWAIT_BIT;
countedIn[INVITED] = AWAIT_BIT;

/** Moves the counters from state `from` to state `to`: only those that differ change. */
function recount(i32, from, to) {
  const before = countedIn[from];
  const after = countedIn[to];
  if (before === after) return;
  for (const [bit, index] of COUNTERS) {
    if ((after & bit) !== 0 && (before & bit) === 0) Atomics.add(i32, index, 1);
    else if ((before & bit) !== 0 && (after & bit) === 0) Atomics.sub(i32, index, 1);
  }
}

/** The seats of every worker of a pool, over the control buffer. Used by the host and the workers alike. */
export class Seats {
  /**
   * @param {Int32Array} i32 the control buffer
   * @param {number} threads
   * @param {number} [strategy] which idle worker a call goes to when several could (Strategy in options.js:
   *   0 first idle, 1 round robin, 2 random, 3 first idle or random)
   */
  constructor(i32, threads, strategy = 0) {
    this.i32 = i32;
    this.threads = threads;
    this.strategy = strategy;
    this.next = 0; // round robin: where the next search starts
  }

  /** The spin-wait hint to use under `budgets`. */
  static pauseFor(budgets) {
    return budgets.pause ? pause : noPause;
  }

  state(lane) {
    return Atomics.load(this.i32, seatIndex(lane));
  }

  /**
   * Moves `lane`'s seat from `from` to `to` if it still holds `from`, keeping
   * the counters in step, and wakes the worker if it slept there. Exactly one
   * party wins each transition, and only the winner touches the counters.
   */
  move(lane, from, to) {
    const i32 = this.i32;
    const index = seatIndex(lane);
    if (Atomics.compareExchange(i32, index, from, to) !== from) return false;
    recount(i32, from, to);
    // The states a worker sleeps in (TAKEN is notified by delivered()).
    if (from === OPEN_ASLEEP || from === ASYNC_ASLEEP || from === AWAITING || from === AWAITING_ASYNC) {
      Atomics.notify(i32, index);
    }
    return true;
  }

  /** After `lane`'s worker died: its seat counts nowhere, and says nothing, until its replacement is up. */
  vacate(lane) {
    Atomics.store(this.i32, eagerIndex(lane), 0);
    Atomics.store(this.i32, wantedIndex(lane), -1);
    for (;;) {
      const state = this.state(lane);
      if (state === STARTING || this.move(lane, state, STARTING)) return;
    }
  }

  /** Wakes every sleeping worker (shutdown). */
  wakeAll() {
    for (let lane = 1; lane <= this.threads; lane++) Atomics.notify(this.i32, seatIndex(lane));
  }

  get spinning() {
    return Atomics.load(this.i32, C_SPINNING);
  }
  get open() {
    return Atomics.load(this.i32, C_OPEN);
  }
  get asleep() {
    return Atomics.load(this.i32, C_ASLEEP);
  }
  get awaiting() {
    return Atomics.load(this.i32, C_AWAITING);
  }

  /**
   * Wakes one sleeping worker so it looks at the queue: one with no async work
   * first (it starts at once and delays nobody's results), else, unless
   * `openOnly`, one whose event loop has async work. Returns its lane or 0.
   */
  wakeOne(openOnly = false) {
    if (this.asleep === 0) return 0;
    return this.#moveFirst(OPEN_ASLEEP, CLAIMING) || (openOnly ? 0 : this.#moveFirst(ASYNC_ASLEEP, Seat.BUSY));
  }

  /** Host: finds an idle worker that can start a call at once and takes its seat (→ TAKEN). Returns its lane or 0. */
  takeOpen() {
    if (this.open === 0) return 0;
    return this.#moveFirst(SPINNING, Seat.TAKEN) || this.#moveFirst(OPEN_ASLEEP, Seat.TAKEN);
  }

  /**
   * Moves the first seat found in `from` to `to`. By default (firstIdle) the
   * lowest lane first: the same few workers take the calls when the pool is
   * not saturated, so the one woken after a quiet gap is the one that ran last
   * (warm caches, a core that is quicker to wake). roundRobin starts each
   * search after the lane chosen last; random at a random lane.
   */
  #moveFirst(from, to) {
    const n = this.threads;
    let start = 0;
    if (this.strategy === 1) start = this.next;
    else if (this.strategy === 2 || (this.strategy === 3 && from !== SPINNING)) start = Math.floor(Math.random() * n);
    for (let k = 0; k < n; k++) {
      const lane = ((start + k) % n) + 1;
      if (this.state(lane) === from && this.move(lane, from, to)) {
        this.next = lane % n;
        return lane;
      }
    }
    return 0;
  }

  /**
   * Worker: publishes whether it is between calls with no async task pending.
   * "Eager" is a plain store (it changes twice per call), published before a
   * result by the ring's atomic store that follows it; seen late it only
   * makes a peer take a call itself. "Not eager" is an atomic store: a peer
   * that still saw it eager would leave a call to a worker that is about to
   * run something long, and the store must come before this worker reads
   * who sleeps (the chain rule), or both could miss each other.
   */
  setEager(lane, eager) {
    if (eager) this.i32[eagerIndex(lane)] = 1;
    else Atomics.store(this.i32, eagerIndex(lane), 0);
  }

  /**
   * Whether a worker other than `lane` will take a waiting call without being
   * woken or delaying async results of its own: one that is idle (open), or
   * eager between two calls.
   */
  othersAvailable(lane) {
    if (Atomics.load(this.i32, C_OPEN) > 0) return true;
    for (let other = 1; other <= this.threads; other++) {
      if (other !== lane && Atomics.load(this.i32, eagerIndex(other)) === 1) return true;
    }
    return false;
  }

  /**
   * Whether `lane` may spin: only while the workers awake (spinning, claiming
   * or running calls) leave the host a core of its own (`awakeLimit`). A
   * spinner beside busy workers would take the core the host needs to make
   * and settle calls.
   */
  maySpin(lane, awakeLimit) {
    let awake = Atomics.load(this.i32, C_SPINNING);
    if (awake >= awakeLimit) return false;
    for (let other = 1; other <= this.threads; other++) {
      if (other !== lane && this.state(other) === Seat.BUSY && ++awake >= awakeLimit) return false;
    }
    return true;
  }

  /** The call handle `lane` awaits (valid while its seat is AWAITING, AWAITING_ASYNC or INVITED). */
  wanted(lane) {
    return Atomics.load(this.i32, wantedIndex(lane));
  }

  setWanted(lane, handle) {
    Atomics.store(this.i32, wantedIndex(lane), handle);
  }

  /** Host: a call was posted to `lane`'s port (its seat was TAKEN). */
  delivered(lane) {
    const i32 = this.i32;
    Atomics.store(i32, seatIndex(lane), Seat.DELIVERED);
    Atomics.notify(i32, seatIndex(lane));
  }

  /** Worker: sleeps while its seat holds `state` (at most `ms`); returns the state it then holds. */
  sleep(lane, state, ms = Infinity) {
    Atomics.wait(this.i32, seatIndex(lane), state, ms);
    return this.state(lane);
  }

  /**
   * Worker: like sleep, without blocking its event loop; `then(state)` runs
   * once woken, always from a later microtask (never on the caller's stack,
   * even when the seat already changed: the caller must unwind first).
   */
  sleepAsync(lane, state, then) {
    const waiting = Atomics.waitAsync(this.i32, seatIndex(lane), state);
    if (waiting.async) waiting.value.then(() => then(this.state(lane)));
    else queueMicrotask(() => then(this.state(lane)));
  }
}

/** The host's doorbell: workers ring it when they write a result or await a held call. */
export class HostBell {
  static AWAKE = 0;
  static ASLEEP = 1;

  /** @param {Int32Array} i32 the control buffer */
  constructor(i32) {
    this.i32 = i32;
  }

  /** Worker: wakes the host if it sleeps. */
  ring() {
    const i32 = this.i32;
    if (Atomics.load(i32, H_SEAT) === HostBell.ASLEEP && Atomics.compareExchange(i32, H_SEAT, HostBell.ASLEEP, HostBell.AWAKE) === HostBell.ASLEEP) {
      Atomics.notify(i32, H_SEAT);
    }
  }

  /** Host: announces that it is about to sleep. Look for work once more after this, then call sleep(). */
  prepareToSleep() {
    Atomics.store(this.i32, H_SEAT, HostBell.ASLEEP);
  }

  /** Host: stays awake after all (work turned up after prepareToSleep). */
  stayAwake() {
    Atomics.store(this.i32, H_SEAT, HostBell.AWAKE);
  }

  /** Host: sleeps without blocking the event loop until a worker rings; then `then()` runs. */
  sleep(then) {
    const waiting = Atomics.waitAsync(this.i32, H_SEAT, HostBell.ASLEEP);
    if (waiting.async) waiting.value.then(then);
    else then();
  }
}
