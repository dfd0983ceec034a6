// The pool's call queue: one producer (the host) and many consumers (the
// workers), over shared memory. Every call goes through it, whatever its
// argument, so any idle worker can take any call and a worker busy with a
// slow task simply takes nothing.
//
// A bounded queue in the style of Dmitry Vyukov's MPMC ring: each slot carries
// a sequence number that says whether it is free for position p (seq == p),
// holds the call for position p (seq == p + 1), or was consumed
// (seq == p + SLOTS). A worker claims a position with one compare-and-swap,
// reads the call (its bytes, in the slot or the arena), then releases the slot.
//
// Who started which call is kept per call handle in the claims table (a
// growable SharedArrayBuffer), four words per handle: the serial of the call
// that was claimed and the worker that claimed it, written by that worker
// (lane first, then serial), and the serial of a call the host aborted. A
// word names a call only if it holds that call's serial, so entries never
// need clearing, the host writes nothing there on the hot path, and a
// worker's death is attributed exactly whatever the number of calls in flight
// or made.
//
// Aborting (a cancelled call, a hard deadline) is a race the claims table
// settles: the host stores the aborted serial, then reads the claimed one; a
// worker stores the claimed serial, then reads the aborted one. Sequentially
// consistent, at least one sees the other: a call the host saw unclaimed is
// skipped by whoever claims it, and a worker checks again right before it
// runs any call.
import { CALL_QUEUE_SLOTS, CLAIMS_INITIAL, CLAIMS_MAX, NOT_STARTED, Q_DEQUEUE, Q_OVERFLOW, Q_STOP, S_HANDLE, S_META, S_SEQ, S_SERIAL, VALUE_CAPACITY } from "./layout.js";
import {
  K_ARENA, K_HELD, K_UTF16_ARENA, K_UTF8_ARENA, SlotViews, readTagged, readValue, utf8Safe, writeArenaRef, writeElsewhere,
  writeSerialized, writeText, writeValue,
} from "./slot-value.js";
import { PayloadArena } from "./payload-arena.js";
import { Errors } from "../errors.js";

const MASK = CALL_QUEUE_SLOTS - 1;

/** What pop returns when it left a call to an idle worker. */
export const DECLINED = "declined";

/**
 * What the host pushes: a primitive that fits a slot, a string (long, or JSON
 * text with F_JSON), serialized bytes, or nothing (the value is held on the host).
 */
export const Payload = Object.freeze({ PRIMITIVE: 0, TEXT: 1, SERIALIZED: 2, HELD: 3 });

/**
 * A held call's value, when the host delivers it on the worker's call port
 * ([handle, serial, taskIndex, value, tagged, form]): the wire itself
 * (structured clone carried it), serialized bytes, or JSON text.
 */
export const Form = Object.freeze({ WIRE: 0, SERIALIZED: 1, JSON: 2 });

export class CallQueue {
  /**
   * @param {Int32Array} control the pool's control words
   * @param {{ queue: SharedArrayBuffer, arena: SharedArrayBuffer, claims: SharedArrayBuffer }} [shared]
   *   an existing queue (workers); omitted, a new one (host)
   * @param {number} [arenaBytes] size of a new queue's arena (payload.payloadMaxByteLength)
   */
  constructor(control, shared, arenaBytes) {
    this.control = control;
    this.views = new SlotViews(shared?.queue ?? new SharedArrayBuffer(CALL_QUEUE_SLOTS * 128), 0);
    this.i32 = this.views.i32;
    this.arena = new PayloadArena(shared?.arena, arenaBytes);
    this.claimsSab = shared?.claims ?? new SharedArrayBuffer(CLAIMS_INITIAL * 4, { maxByteLength: CLAIMS_MAX * 4 });
    // A fixed-length view, made again when the buffer grows: a length-tracking
    // view of a growable buffer measured ~5x slower per access.
    this.claims = new Int32Array(this.claimsSab, 0, this.claimsSab.byteLength / 4);
    this.claimsLength = this.claims.length;
    this.enqueue = 0; // host only
    if (shared === undefined) {
      for (let p = 0; p < CALL_QUEUE_SLOTS; p++) this.i32[this.views.at(p) >> 2] = p;
    }
  }

  /** What a worker needs to open the same queue. */
  get shared() {
    return { queue: this.views.i32.buffer, arena: this.arena.sab, claims: this.claimsSab };
  }

  // ---- host side ----

  /** Host: makes room in the claims table for handles below `count`. */
  ensureHandles(count) {
    if (count * 4 <= this.claimsLength) return;
    const needed = count * 16;
    let size = this.claimsSab.byteLength;
    while (size < needed) size *= 2;
    if (size > this.claimsSab.maxByteLength) throw new RangeError(`knitting: more than ${CLAIMS_MAX / 4} calls in flight`);
    this.claimsSab.grow(size);
    this.claims = new Int32Array(this.claimsSab, 0, size / 4);
    this.claimsLength = size / 4;
  }

  /** Worker: a handle beyond the view means the host grew the table; look again. */
  #claimsFor(handle) {
    if (handle * 4 + 3 >= this.claimsLength) {
      this.claims = new Int32Array(this.claimsSab, 0, this.claimsSab.byteLength / 4);
      this.claimsLength = this.claims.length;
    }
    return this.claims;
  }

  /** Records that worker `lane` started call (handle, serial). */
  #claim(handle, serial, lane) {
    const claims = this.#claimsFor(handle);
    // A plain store, published by the atomic store after it: whoever sees the
    // serial (Atomics.load) sees this lane too.
    claims[handle * 4 + 1] = lane;
    Atomics.store(claims, handle * 4, serial);
  }

  /**
   * Publishes a call: `kind` and `value` as Payload says, `flags` the slot
   * flags (F_TAGGED, F_JSON). Returns false when every slot is
   * taken (try again after workers have claimed some), or "held" when the
   * value found no room in the arena (keep it on the host and push the call
   * again as HELD).
   */
  push(handle, serial, taskIndex, kind, value, flags) {
    const pos = this.enqueue;
    const views = this.views;
    const at = views.at(pos & MASK);
    const i = at >> 2;
    if (Atomics.load(this.i32, i + S_SEQ) !== pos) return false;
    if (kind === Payload.PRIMITIVE) writeValue(views, at, value);
    else if (kind === Payload.HELD) writeElsewhere(views, at, K_HELD, flags);
    else if (kind === Payload.TEXT) {
      if (!writeText(views, at, value, flags)) {
        const utf16 = !utf8Safe(value, flags);
        const stored = this.arena.storeText(value, utf16, pos, this.#released);
        if (stored === undefined) return "held";
        writeArenaRef(views, at, utf16 ? K_UTF16_ARENA : K_UTF8_ARENA, stored[0], stored[1], flags);
      }
    } else if (value.length <= VALUE_CAPACITY) writeSerialized(views, at, value, flags);
    else {
      const offset = this.arena.store(value, pos, this.#released);
      if (offset < 0) return "held";
      writeArenaRef(views, at, K_ARENA, offset, value.length, flags);
    }
    this.i32[i + S_HANDLE] = handle;
    this.i32[i + S_SERIAL] = serial;
    this.i32[i + S_META] = taskIndex;
    Atomics.store(this.i32, i + S_SEQ, (pos + 1) | 0);
    this.enqueue = (pos + 1) | 0;
    return true;
  }

  /** Whether a worker has released the slot of queue position `pos` (read its value). */
  #released = (pos) => ((Atomics.load(this.i32, (this.views.at(pos & MASK) >> 2) + S_SEQ) - pos - CALL_QUEUE_SLOTS) | 0) >= 0;

  /** Calls published but not yet claimed. */
  backlog() {
    return (this.enqueue - Atomics.load(this.control, Q_DEQUEUE)) | 0;
  }

  /** The worker (1-based lane number) that started call (handle, serial), or 0. */
  startedBy(handle, serial) {
    const claims = this.#claimsFor(handle);
    return Atomics.load(claims, handle * 4) === serial ? Atomics.load(claims, handle * 4 + 1) : NOT_STARTED;
  }

  /**
   * Host: aborts call (handle, serial). Returns the worker that had already
   * claimed it (it is told through aborted(); its answer still comes), or 0:
   * then whoever claims it skips it.
   */
  abort(handle, serial) {
    const claims = this.#claimsFor(handle);
    Atomics.store(claims, handle * 4 + 2, serial);
    return this.startedBy(handle, serial);
  }

  /** Whether the host aborted call (handle, serial): checked before a call runs, and by the task's hasAborted(). */
  aborted(handle, serial) {
    return Atomics.load(this.#claimsFor(handle), handle * 4 + 2) === serial;
  }

  /**
   * Host: when call `handle` was sent, in microseconds of the host's
   * performance.now(), wrapped to int32 (see hostMicros). Published with the
   * call (the slot's or the port's release).
   */
  stampSent(handle, micros) {
    this.#claimsFor(handle)[handle * 4 + 3] = micros;
  }

  /** When call `handle` (claimed by this thread) was sent (see stampSent). */
  sentAt(handle) {
    return this.#claimsFor(handle)[handle * 4 + 3];
  }

  /** Host: records that `lane` starts call (handle, serial) (a call the host delivers itself). */
  markStarted(handle, serial, lane) {
    this.#claim(handle, serial, lane);
  }

  /** Host: call (handle, serial) was not started after all (its value is still on the host). */
  markNotStarted(handle, serial) {
    Atomics.store(this.#claimsFor(handle), handle * 4, ~serial);
  }

  // ---- worker side ----

  /**
   * Claims the next call, if any, for worker `lane` (1-based) and passes it to
   * `take(handle, serial, taskIndex, wire, tagged, failure)`, where wire is
   * HELD when the value waits on the host, and `failure` is the error that
   * reading the value threw (the call is claimed all the same, so that it can
   * be rejected). Returns false when the queue is empty.
   *
   * With `leaveIf`, a call is left in the queue (returns DECLINED) when
   * leaveIf(taskIndex) says so: the decision is taken with the call in sight,
   * so a call published a moment earlier cannot slip past it.
   */
  pop(lane, take, leaveIf = null) {
    const i32 = this.i32;
    const control = this.control;
    for (;;) {
      const pos = Atomics.load(control, Q_DEQUEUE);
      const at = this.views.at(pos & MASK);
      const i = at >> 2;
      const dif = (Atomics.load(i32, i + S_SEQ) - ((pos + 1) | 0)) | 0;
      if (dif < 0) return false;
      if (dif > 0) continue; // another worker took it; try the next position
      if (leaveIf !== null && leaveIf(i32[i + S_META])) return DECLINED;
      if (Atomics.compareExchange(control, Q_DEQUEUE, pos, (pos + 1) | 0) !== pos) continue;
      const handle = i32[i + S_HANDLE];
      const serial = i32[i + S_SERIAL];
      const taskIndex = i32[i + S_META];
      // Recorded before anything else can happen: a worker killed from
      // outside after its claim leaves a call rejected, never one lost.
      this.#claim(handle, serial, lane);
      const tagged = readTagged(this.views, at);
      let wire, failure;
      try {
        wire = readValue(this.views, at, this.arena.bytes);
      } catch (error) {
        failure = Errors.corruptPayload(error?.message ?? String(error), error);
      }
      Atomics.store(i32, i + S_SEQ, (pos + CALL_QUEUE_SLOTS) | 0);
      take(handle, serial, taskIndex, wire, tagged, failure);
      return true;
    }
  }

  /** True when a call is waiting to be claimed. */
  hasCalls() {
    const pos = Atomics.load(this.control, Q_DEQUEUE);
    return Atomics.load(this.i32, (this.views.at(pos & MASK) >> 2) + S_SEQ) === ((pos + 1) | 0);
  }

  /** Whether calls wait on the host for queue room (workers then ring the host as they claim). */
  get overflowing() {
    return Atomics.load(this.control, Q_OVERFLOW) === 1;
  }

  /** Host: calls wait (or no longer wait) for queue room. Stored only when it changes (workers read it often). */
  setOverflowing(waiting) {
    if (this.#overflowing === waiting) return;
    this.#overflowing = waiting;
    Atomics.store(this.control, Q_OVERFLOW, waiting ? 1 : 0);
  }
  #overflowing = false;

  get stopped() {
    return Atomics.load(this.control, Q_STOP) === 1;
  }

  stop() {
    Atomics.store(this.control, Q_STOP, 1);
  }
}
