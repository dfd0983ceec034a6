// The pool's call queue: one producer (the host) and many consumers (the
// workers), over shared memory. A bounded queue in the style of Dmitry
// Vyukov's MPMC ring: each slot carries a sequence number that says whether
// it is free for position p (seq == p), holds the call for position p
// (seq == p + 1), or was consumed (seq == p + SLOTS). Workers claim a
// position with one compare-and-swap, so a worker busy with a slow task
// simply claims nothing and the others take the calls.
import {
  CALL_QUEUE_SLOTS, OWNERS_AT, OWNER_MASK, Q_DEQUEUE, Q_HOST_BELL, Q_HOST_PARKED, Q_PARKED,
  Q_SPINNING, Q_STOP, S_ID, S_META, S_SEQ, SLOTS_AT, callQueueBytes,
} from "./layout.js";
import { SlotViews, readValue, writeValue } from "./slot-value.js";

const MASK = CALL_QUEUE_SLOTS - 1;

export class CallQueue {
  /** @param {SharedArrayBuffer} [shared] an existing queue (workers); omitted, a new one (host) */
  constructor(shared) {
    const sab = shared ?? new SharedArrayBuffer(callQueueBytes());
    this.sab = sab;
    this.views = new SlotViews(sab, SLOTS_AT);
    this.i32 = this.views.i32;
    this.owners = new Int32Array(sab, OWNERS_AT);
    this.enqueue = 0; // host only
    if (shared === undefined) {
      for (let p = 0; p < CALL_QUEUE_SLOTS; p++) this.i32[this.views.at(p) >> 2] = p;
    }
  }

  // ---- host side ----

  /**
   * Publishes a call. Returns "full" when every slot is taken, "large" when
   * the value is not a primitive that fits a slot, or true.
   */
  push(id, taskIndex, wire) {
    const pos = this.enqueue;
    const at = this.views.at(pos & MASK);
    const i = at >> 2;
    if (Atomics.load(this.i32, i + S_SEQ) !== pos) return "full";
    if (!writeValue(this.views, at, wire)) return "large";
    this.i32[i + S_ID] = id;
    this.i32[i + S_META] = taskIndex;
    this.owners[id & OWNER_MASK] = 0;
    Atomics.store(this.i32, i + S_SEQ, (pos + 1) | 0);
    this.enqueue = (pos + 1) | 0;
    return true;
  }

  /** Calls published but not yet claimed. */
  backlog() {
    return (this.enqueue - Atomics.load(this.i32, Q_DEQUEUE)) | 0;
  }

  /** Position of the next call to be claimed (moves as workers make progress). */
  claimed() {
    return Atomics.load(this.i32, Q_DEQUEUE);
  }

  /** How many workers are parked right now. */
  parkedWorkers() {
    return Atomics.load(this.i32, Q_PARKED);
  }

  /** Worker: counts itself parked (or awake again). */
  countParked(delta) {
    Atomics.add(this.i32, Q_PARKED, delta);
  }

  /**
   * Worker: asks to spin for calls. At most `limit` workers spin at once, so
   * spinning never takes the cores the host and the busy workers need.
   * Returns false when the limit is reached; call endSpin() after a true.
   */
  beginSpin(limit) {
    if (Atomics.add(this.i32, Q_SPINNING, 1) < limit) return true;
    Atomics.sub(this.i32, Q_SPINNING, 1);
    return false;
  }

  endSpin() {
    Atomics.sub(this.i32, Q_SPINNING, 1);
  }

  /** The worker (1-based lane number) that claimed call `id`, or 0. */
  ownerOf(id) {
    return this.owners[id & OWNER_MASK];
  }

  // ---- worker side ----

  /**
   * Claims the next call, if any, for worker `lane` (1-based) and passes it to
   * `run(id, taskIndex, wire, false)`. Returns false when the queue is empty.
   */
  pop(lane, run) {
    const i32 = this.i32;
    for (;;) {
      const pos = Atomics.load(i32, Q_DEQUEUE);
      const at = this.views.at(pos & MASK);
      const i = at >> 2;
      const dif = (Atomics.load(i32, i + S_SEQ) - ((pos + 1) | 0)) | 0;
      if (dif < 0) return false;
      if (dif > 0) continue; // another worker took it; try the next position
      if (Atomics.compareExchange(i32, Q_DEQUEUE, pos, (pos + 1) | 0) !== pos) continue;
      const id = i32[i + S_ID];
      const taskIndex = i32[i + S_META];
      const wire = readValue(this.views, at);
      this.owners[id & OWNER_MASK] = lane;
      Atomics.store(i32, i + S_SEQ, (pos + CALL_QUEUE_SLOTS) | 0);
      run(id, taskIndex, wire, false);
      return true;
    }
  }

  /** True when a call is waiting to be claimed. */
  hasCalls() {
    const pos = Atomics.load(this.i32, Q_DEQUEUE);
    const at = this.views.at(pos & MASK);
    return Atomics.load(this.i32, (at >> 2) + S_SEQ) === ((pos + 1) | 0);
  }

  get stopped() {
    return Atomics.load(this.i32, Q_STOP) === 1;
  }

  stop() {
    Atomics.store(this.i32, Q_STOP, 1);
  }

  // ---- doorbells ----

  /** Worker: wakes the host if it is parked waiting for results. */
  ringHost() {
    if (Atomics.load(this.i32, Q_HOST_PARKED) === 1 && Atomics.compareExchange(this.i32, Q_HOST_PARKED, 1, 0) === 1) {
      Atomics.add(this.i32, Q_HOST_BELL, 1);
      Atomics.notify(this.i32, Q_HOST_BELL);
    }
  }
}

export { Q_HOST_BELL, Q_HOST_PARKED };
