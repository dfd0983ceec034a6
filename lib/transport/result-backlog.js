// A worker's results that found its result ring full, kept in order until the
// host drains the ring: flat triples id, ok flag, wire (PORT: the value is
// already on the result port, which keeps port messages in ring order).
import { PORT } from "./spsc-ring.js";

export class ResultBacklog {
  #items = [];
  #head = 0;

  get size() {
    return (this.#items.length - this.#head) / 3;
  }

  push(id, flag, wire) {
    this.#items.push(id, flag, wire);
  }

  /**
   * Writes what the ring has room for, oldest first. Returns true if it wrote
   * anything, so the caller rings the host: a parked host learns of these
   * results only from that bell.
   */
  flushInto(ring) {
    const items = this.#items;
    const start = this.#head;
    let head = start;
    while (head < items.length) {
      const id = items[head];
      const flag = items[head + 1];
      const wire = items[head + 2];
      if ((wire === PORT ? ring.pushPort(id, flag) : ring.push(id, flag, wire)) !== true) break;
      head += 3;
    }
    if (head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else this.#head = head;
    return head !== start;
  }
}
