// One worker's results, on their way to the host: a single-producer,
// single-consumer ring over shared memory (the worker writes at the tail,
// the host reads from the head).
import { R_HEAD, R_TAIL, RESULT_RING_SLOTS, S_ID, S_META, SLOTS_AT, resultRingBytes } from "./layout.js";
import { SlotViews, isTagged, readValue, writeValue } from "./slot-value.js";

const MASK = RESULT_RING_SLOTS - 1;

export class ResultRing {
  constructor(sab = new SharedArrayBuffer(resultRingBytes())) {
    this.sab = sab;
    this.views = new SlotViews(sab, SLOTS_AT);
    this.i32 = this.views.i32;
    this.tail = Atomics.load(this.i32, R_TAIL); // worker's cached copy
    this.head = Atomics.load(this.i32, R_HEAD); // host's cached copy
  }

  // ---- worker side ----

  /** Writes a result. Returns "full", "large" (use the MessagePort) or true. */
  push(id, ok, wire, tagged) {
    const tail = this.tail;
    if (((tail - Atomics.load(this.i32, R_HEAD)) | 0) >= RESULT_RING_SLOTS) return "full";
    const at = this.views.at(tail & MASK);
    if (!writeValue(this.views, at, wire, tagged)) return "large";
    const i = at >> 2;
    this.i32[i + S_ID] = id;
    this.i32[i + S_META] = ok;
    this.tail = (tail + 1) | 0;
    Atomics.store(this.i32, R_TAIL, this.tail);
    return true;
  }

  // ---- host side ----

  /** Reads every result written so far: settle(id, ok, wire, tagged) each. Returns how many. */
  drain(settle) {
    const tail = Atomics.load(this.i32, R_TAIL);
    let head = this.head;
    if (head === tail) return 0;
    let count = 0;
    while (head !== tail) {
      const at = this.views.at(head & MASK);
      const i = at >> 2;
      const id = this.i32[i + S_ID];
      const ok = this.i32[i + S_META];
      const wire = readValue(this.views, at);
      const tagged = isTagged(this.views, at);
      head = (head + 1) | 0;
      count++;
      settle(id, ok, wire, tagged);
    }
    this.head = head;
    Atomics.store(this.i32, R_HEAD, head);
    return count;
  }

  /** Host: whether a result is waiting to be read. */
  hasResults() {
    return Atomics.load(this.i32, R_TAIL) !== this.head;
  }

  /** Host: forget everything (the worker behind it is gone). */
  reset() {
    Atomics.store(this.i32, R_HEAD, 0);
    Atomics.store(this.i32, R_TAIL, 0);
    this.head = 0;
    this.tail = 0;
  }
}
