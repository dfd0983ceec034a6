// A single-producer, single-consumer ring over shared memory: each worker has
// one for its results (worker → host) and one for calls addressed to it alone
// (host → worker: calls that move buffers or do not fit a slot). The producer
// writes at the tail, the consumer reads from the head.
//
// An item whose value travels through the lane's MessagePort (moved buffers,
// large values) is a PORT item: the producer posts the value on the port
// first, then pushes the item; the consumer reads the value synchronously with
// receiveMessageOnPort when it reaches the item. Both are FIFO, so they pair
// up without waking anybody's event loop.
//
// The ring also holds the consumer's parking words, used by the request ring:
// a worker parks on its own bell, so the host can wake exactly the worker a
// call is addressed to.
import { R_BELL, R_HEAD, R_PARKED, R_TAIL, RING_SLOTS, S_ID, S_META, SLOTS_AT, ringBytes } from "./layout.js";
import { PORT, SlotViews, readValue, writePort, writeValue } from "./slot-value.js";

const MASK = RING_SLOTS - 1;

export class SpscRing {
  constructor(sab = new SharedArrayBuffer(ringBytes())) {
    this.sab = sab;
    this.views = new SlotViews(sab, SLOTS_AT);
    this.i32 = this.views.i32;
    this.tail = Atomics.load(this.i32, R_TAIL); // producer's copy
    this.head = Atomics.load(this.i32, R_HEAD); // consumer's copy
  }

  // ---- producer ----

  /** Writes an item. Returns "full", "large" (use pushPort: not a primitive that fits) or true. */
  push(id, meta, wire) {
    const tail = this.tail;
    if (((tail - Atomics.load(this.i32, R_HEAD)) | 0) >= RING_SLOTS) return "full";
    const at = this.views.at(tail & MASK);
    if (!writeValue(this.views, at, wire)) return "large";
    this.#publish(at, id, meta);
    return true;
  }

  /** Writes a PORT item (its value was just posted on the port). Returns "full" or true. */
  pushPort(id, meta) {
    const tail = this.tail;
    if (((tail - Atomics.load(this.i32, R_HEAD)) | 0) >= RING_SLOTS) return "full";
    const at = this.views.at(tail & MASK);
    writePort(this.views, at);
    this.#publish(at, id, meta);
    return true;
  }

  #publish(at, id, meta) {
    const i = at >> 2;
    this.i32[i + S_ID] = id;
    this.i32[i + S_META] = meta;
    this.tail = (this.tail + 1) | 0;
    Atomics.store(this.i32, R_TAIL, this.tail);
  }

  // ---- consumer ----

  /**
   * Reads every item written so far: each(id, meta, wire), where wire is PORT
   * for a PORT item. Returns how many.
   */
  drain(each) {
    const tail = Atomics.load(this.i32, R_TAIL);
    let head = this.head;
    let count = 0;
    while (head !== tail) {
      const at = this.views.at(head & MASK);
      const i = at >> 2;
      const id = this.i32[i + S_ID];
      const meta = this.i32[i + S_META];
      const wire = readValue(this.views, at);
      head = (head + 1) | 0;
      count++;
      each(id, meta, wire);
    }
    // One store per batch: the producer reads R_HEAD only when it runs out
    // of room, and a store per item would bounce its cache line between cores.
    if (count > 0) {
      this.head = head;
      Atomics.store(this.i32, R_HEAD, head);
    }
    return count;
  }

  hasItems() {
    return Atomics.load(this.i32, R_TAIL) !== this.head;
  }

  /** Forget everything (the worker on the other side is gone). */
  reset() {
    Atomics.store(this.i32, R_HEAD, 0);
    Atomics.store(this.i32, R_TAIL, 0);
    Atomics.store(this.i32, R_PARKED, 0);
    this.head = 0;
    this.tail = 0;
  }

  // ---- parking (request ring) ----

  /** Producer: wakes the consumer if it is parked. */
  wakeConsumer() {
    if (Atomics.load(this.i32, R_PARKED) === 1) {
      Atomics.add(this.i32, R_BELL, 1);
      Atomics.notify(this.i32, R_BELL);
      return true;
    }
    return false;
  }

  /** Consumer: the bell value to wait on, read before the last check for work. */
  bell() {
    return Atomics.load(this.i32, R_BELL);
  }

  setParked(parked) {
    Atomics.store(this.i32, R_PARKED, parked ? 1 : 0);
  }
}

export { PORT };
