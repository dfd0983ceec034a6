// Bytes of serialized calls too large for a queue slot. Only the host
// allocates, in queue order, around a ring; a region is free again once the
// worker that claimed its call has released the queue slot (workers read the
// bytes before they release it). So nobody but the host writes the arena's
// bookkeeping, and workers only read: there is nothing to synchronize beyond
// the queue slot's own sequence number.
import { Buffer } from "node:buffer";
import { ARENA_BYTES } from "./layout.js";

const ALIGN = 8;

export class PayloadArena {
  /**
   * @param {SharedArrayBuffer} [shared] an existing arena (workers); omitted, a new one (host)
   * @param {number} [size] bytes of a new arena; values above a quarter of it wait on the host instead
   */
  constructor(shared, size = ARENA_BYTES) {
    this.sab = shared ?? new SharedArrayBuffer(size);
    this.bytes = Buffer.from(this.sab);
    this.size = this.sab.byteLength;
    this.maxValue = Math.floor(this.size / 4);
    // host only: live regions, oldest first, flat [position, end, ...]
    this.regions = [];
    this.first = 0;
    this.head = 0; // next free byte
    this.tail = 0; // start of the oldest live region (head === tail: empty)
  }

  /**
   * Host: copies `bytes` into the arena for the call at queue `position`.
   * Returns the offset, or -1 when there is no room (the caller keeps the
   * value on the host instead). `released(position)` says whether a worker
   * has released a position's queue slot.
   */
  store(bytes, position, released) {
    const offset = this.reserve(bytes.length, position, released);
    if (offset >= 0) this.bytes.set(bytes, offset);
    return offset;
  }

  /** Host: like store, for a string written as UTF-8 (or UTF-16); returns [offset, byte length] or undefined. */
  storeText(text, utf16, position, released) {
    const length = utf16 ? text.length * 2 : Buffer.byteLength(text);
    const offset = this.reserve(length, position, released);
    if (offset < 0) return undefined;
    if (utf16) this.bytes.ucs2Write(text, offset);
    else this.bytes.utf8Write(text, offset);
    return [offset, length];
  }

  /** Host: reserves `length` bytes for the call at queue `position`; the offset, or -1. */
  reserve(length, position, released) {
    if (length > this.maxValue) return -1;
    this.#reclaim(released);
    const size = (length + ALIGN - 1) & ~(ALIGN - 1);
    let offset;
    if (this.first === this.regions.length) {
      this.head = this.tail = 0;
      offset = 0;
    } else if (this.head > this.tail) {
      // Live bytes are [tail, head): room at the end, else from the start up to tail.
      if (this.head + size <= this.size) offset = this.head;
      else if (size < this.tail) offset = 0;
      else return -1;
    } else {
      // Wrapped: live bytes are [tail, end) and [0, head).
      if (this.head + size < this.tail) offset = this.head;
      else return -1;
    }
    this.head = offset + size;
    this.regions.push(position, this.head);
    return offset;
  }

  /** Frees the regions whose calls were claimed, oldest first. */
  #reclaim(released) {
    const regions = this.regions;
    let first = this.first;
    while (first < regions.length && released(regions[first])) {
      this.tail = regions[first + 1];
      first += 2;
    }
    if (first === regions.length) {
      regions.length = 0;
      first = 0;
    }
    this.first = first;
  }
}
