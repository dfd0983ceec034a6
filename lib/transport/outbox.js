// How a worker sends its results: into its result ring when the value is a
// primitive that fits a slot, else on its result port announced by a PORT
// item; and when the ring is full, into a backlog kept in order until the host
// makes room. The one type for "ring, or port when it does not fit, with a
// backlog".
import { PORT } from "./spsc-ring.js";
import { F_JSON, F_TAGGED, fitsInSlot } from "./slot-value.js";

export class Outbox {
  /** Items waiting for ring space, flat: handle, serial, meta, wire (PORT: already posted), flags. */
  #backlog = [];
  #head = 0;

  /** @param {import("./spsc-ring.js").SpscRing} ring @param {MessagePort} port */
  constructor(ring, port) {
    this.ring = ring;
    this.port = port;
  }

  /** Items still waiting for ring space. */
  get waiting() {
    return (this.#backlog.length - this.#head) / 5;
  }

  /**
   * Sends one item (the codec's output: wire, tagged, json, transfer).
   * Returns true if it reached the ring (ring the consumer), false if it waits
   * in the backlog (flush() later).
   */
  send(handle, serial, meta, wire, tagged, json, transfer) {
    // The usual case first: a primitive that fits, nothing waiting before it.
    if (!tagged && !json && transfer.length === 0 && this.#head === this.#backlog.length) {
      const written = this.ring.push(handle, serial, meta, wire);
      if (written === true) return true;
    }
    let flags = tagged ? F_TAGGED : 0;
    // A value JSON carries exactly travels as JSON text: in the slot when it
    // fits, else on the port (a string is the cheapest thing to post).
    if (json) {
      try {
        wire = JSON.stringify(wire);
        flags |= F_JSON;
      } catch {
        // Its text would be longer than a string can be: it goes on the port as it is.
      }
    }
    const inline = transfer.length === 0 && !tagged && (typeof wire === "string" || fitsInSlot(wire));
    if (this.#head === this.#backlog.length) {
      let written = "large";
      if (inline) written = typeof wire === "string" ? this.ring.pushText(handle, serial, meta, wire, flags) : this.ring.push(handle, serial, meta, wire);
      if (written === true) return true;
      if (written === "large") {
        this.port.postMessage(wire, transfer);
        if (this.ring.pushPort(handle, serial, meta, flags) === true) return true;
        this.#backlog.push(handle, serial, meta, PORT, flags);
        return false;
      }
    }
    // The ring is full (or others wait before this one): keep the item, in
    // order. A value that needs the port is posted now, so that port messages
    // keep the order of their items.
    if (inline && (typeof wire !== "string" || fitsInSlot(wire))) this.#backlog.push(handle, serial, meta, wire, flags);
    else {
      this.port.postMessage(wire, transfer);
      this.#backlog.push(handle, serial, meta, PORT, flags);
    }
    return false;
  }

  /**
   * Writes what the ring has room for, oldest first. Returns true if it wrote
   * anything, so the caller rings the consumer: a sleeping consumer learns of
   * these items only from that bell.
   */
  flush() {
    const items = this.#backlog;
    const start = this.#head;
    if (start === items.length) return false;
    let head = start;
    while (head < items.length) {
      const wire = items[head + 3];
      const written =
        wire === PORT ? this.ring.pushPort(items[head], items[head + 1], items[head + 2], items[head + 4])
        : typeof wire === "string" ? this.ring.pushText(items[head], items[head + 1], items[head + 2], wire, items[head + 4])
        : this.ring.push(items[head], items[head + 1], items[head + 2], wire);
      if (written !== true) break;
      head += 5;
    }
    if (head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else this.#head = head;
    return head !== start;
  }
}
