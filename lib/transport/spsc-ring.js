// A single-producer, single-consumer ring over shared memory: each worker
// writes its results to one, and only the host reads it. The producer writes
// at the tail, the consumer reads from the head.
//
// An item whose value travels on the worker's result port (values that are
// not primitives fitting a slot) is a PORT item: the producer posts the value
// on the port first, then pushes the item; the consumer reads the value
// synchronously with receiveMessageOnPort when it reaches the item. Both are
// FIFO, so they pair up without waking anybody's event loop.
import { RING_HEAD, RING_SLOTS, RING_SLOTS_AT, RING_TAIL, S_HANDLE, S_META, S_SERIAL, SLOT_BYTES } from "./layout.js";
import { K_PORT, PORT, SlotViews, readValue, writeElsewhere, writeText, writeValue } from "./slot-value.js";
import { S_FLAGS } from "./layout.js";
import { Errors } from "../errors.js";

const MASK = RING_SLOTS - 1;

export class SpscRing {
  constructor(sab = new SharedArrayBuffer(RING_SLOTS_AT + RING_SLOTS * SLOT_BYTES)) {
    this.sab = sab;
    this.views = new SlotViews(sab, RING_SLOTS_AT);
    this.i32 = this.views.i32;
    this.tail = Atomics.load(this.i32, RING_TAIL); // producer's copy
    this.head = Atomics.load(this.i32, RING_HEAD); // consumer's copy
  }

  // ---- producer ----

  /** Writes an item. Returns "full", "large" (use pushPort: not a primitive that fits) or true. */
  push(handle, serial, meta, wire) {
    const tail = this.tail;
    if (((tail - Atomics.load(this.i32, RING_HEAD)) | 0) >= RING_SLOTS) return "full";
    const at = this.views.at(tail & MASK);
    if (!writeValue(this.views, at, wire)) return "large";
    this.#publish(at, handle, serial, meta);
    return true;
  }

  /** Writes a string (JSON text with F_JSON in `flags`). Returns "full", "large" or true. */
  pushText(handle, serial, meta, text, flags) {
    const tail = this.tail;
    if (((tail - Atomics.load(this.i32, RING_HEAD)) | 0) >= RING_SLOTS) return "full";
    const at = this.views.at(tail & MASK);
    if (!writeText(this.views, at, text, flags)) return "large";
    this.#publish(at, handle, serial, meta);
    return true;
  }

  /** Writes a PORT item (its value was just posted on the port), with slot flags. Returns "full" or true. */
  pushPort(handle, serial, meta, flags) {
    const tail = this.tail;
    if (((tail - Atomics.load(this.i32, RING_HEAD)) | 0) >= RING_SLOTS) return "full";
    const at = this.views.at(tail & MASK);
    writeElsewhere(this.views, at, K_PORT, flags);
    this.#publish(at, handle, serial, meta);
    return true;
  }

  #publish(at, handle, serial, meta) {
    const i = at >> 2;
    this.i32[i + S_HANDLE] = handle;
    this.i32[i + S_SERIAL] = serial;
    this.i32[i + S_META] = meta;
    this.tail = (this.tail + 1) | 0;
    Atomics.store(this.i32, RING_TAIL, this.tail);
  }

  // ---- consumer ----

  /**
   * Reads every item written so far: each(handle, serial, meta, wire, flags),
   * where wire is PORT for a PORT item (then flags says how to read the port's
   * message; text in the slot is already parsed). Returns how many.
   */
  drain(each) {
    const tail = Atomics.load(this.i32, RING_TAIL);
    let head = this.head;
    let count = 0;
    while (head !== tail) {
      const at = this.views.at(head & MASK);
      const i = at >> 2;
      const handle = this.i32[i + S_HANDLE];
      const serial = this.i32[i + S_SERIAL];
      let meta = this.i32[i + S_META];
      const flags = this.i32[i + S_FLAGS];
      let wire;
      try {
        wire = readValue(this.views, at);
      } catch (error) {
        // Reading can fail (text nested deeper than this thread's stack can
        // parse): the item is delivered as a failure of its own call.
        wire = Errors.corruptPayload(error?.message ?? String(error), error);
        meta = 0;
      }
      head = (head + 1) | 0;
      count++;
      each(handle, serial, meta, wire, flags);
    }
    // One store per batch: the producer reads RING_HEAD only when it runs out
    // of room, and a store per item would bounce its cache line between cores.
    if (count > 0) {
      this.head = head;
      Atomics.store(this.i32, RING_HEAD, head);
    }
    return count;
  }

  hasItems() {
    return Atomics.load(this.i32, RING_TAIL) !== this.head;
  }

  /** Forget everything (the worker on the other side is gone). */
  reset() {
    Atomics.store(this.i32, RING_HEAD, 0);
    Atomics.store(this.i32, RING_TAIL, 0);
    this.head = 0;
    this.tail = 0;
  }
}

export { PORT };
