// Items that found an SpscRing full, kept in order until its consumer makes
// room: flat triples id, meta, wire (PORT: the value is already on the ring's
// port, which keeps port messages in ring order). A worker keeps its results
// here; the host keeps the announcements of direct calls (always PORT items).
import { PORT } from "./spsc-ring.js";

export class RingBacklog {
  #items = [];
  #head = 0;

  get size() {
    return (this.#items.length - this.#head) / 3;
  }

  /** Forget everything (the consumer on the other side is gone). */
  clear() {
    this.#items.length = 0;
    this.#head = 0;
  }

  push(id, meta, wire) {
    this.#items.push(id, meta, wire);
  }

  /**
   * Writes what the ring has room for, oldest first. Returns true if it wrote
   * anything, so the caller wakes the consumer: a parked consumer learns of
   * these items only from that bell.
   */
  flushInto(ring) {
    const items = this.#items;
    const start = this.#head;
    if (start === items.length) return false;
    let head = start;
    while (head < items.length) {
      const id = items[head];
      const meta = items[head + 1];
      const wire = items[head + 2];
      if ((wire === PORT ? ring.pushPort(id, meta) : ring.push(id, meta, wire)) !== true) break;
      head += 3;
    }
    if (head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else this.#head = head;
    return head !== start;
  }
}
