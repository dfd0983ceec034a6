// The memory a process worker shares with its host: one ProcessSharedBuffer
// per child, holding a few control words and two byte rings (calls to the
// child, results to the host). Each ring has one writer and one reader, so a
// message is published by one store of the writer's position. Messages are
// framed as [u32 length][bytes]; a frame never wraps (a marker sends the
// reader back to the start instead).
//
// Waking (docs/process-workers.md): a side that finds nothing to read
// announces it will park (PARKED = 1), reads the other side's sequence word,
// looks at its ring once more, and only then waits on that word. The writer
// bumps its sequence word after publishing and wakes the reader only if it
// announced a park (exchanging PARKED back to 0, so one wake per park). With
// sequentially consistent atomics either the reader sees the new message, or
// the writer sees PARKED and the wait returns at once on a changed word.
import { ProcessSharedBuffer, receiveAcross } from "../shared-memory/process-shared-buffer.js";

/** Control words, one per cache line (Int32 indexes). */
export const W = Object.freeze({
  /** Calls the host published (bumped per batch); the child waits on it. */
  CALL_SEQ: 0,
  /** 1 while the child is about to wait on CALL_SEQ. */
  CHILD_PARKED: 16,
  /** Results the child published; the host waits on it. */
  RESULT_SEQ: 32,
  /** 1 while the host is about to wait on RESULT_SEQ. */
  HOST_PARKED: 48,
  /** Index of the next call the child may start, or REVOKED | first call it must skip up to (see ProcessLane). */
  NEXT: 64,
  /** 1: the pool is closing, the child exits. */
  STOP: 80,
  CALLS_HEAD: 96,
  CALLS_TAIL: 112,
  RESULTS_HEAD: 128,
  RESULTS_TAIL: 144,
  /** 1 while the host has calls the calls ring had no room for (the child rings RESULT_SEQ after reading). */
  CALLS_WANT_ROOM: 160,
  /** 1 while the child has results the results ring had no room for (the host rings CALL_SEQ after reading). */
  RESULTS_WANT_ROOM: 176,
});
export const HEADER_BYTES = 1024;
/** NEXT's flag: calls from the stored index on were taken back by the host. */
export const REVOKED = 1 << 30;
export const INDEX_MASK = REVOKED - 1;
/** Bytes of each ring (a power of two). Pages are touched only as they are used. */
export const RING_BYTES = 8 << 20;
/** The largest message a ring carries; a larger one travels in a shared-memory object of its own. */
export const MAX_MESSAGE = RING_BYTES / 2 - 8;
/** First byte of a message that says where a large one is: [SPILLED][i32 pid][i32 fd][u32 length]. */
const SPILLED = 0xff;

const WRAP = 0xffffffff;
const MASK = RING_BYTES - 1;

/** One direction's ring over the channel's memory. */
export class ByteRing {
  #i32;
  #u8;
  #view;
  #head;
  #tail;
  #base;

  constructor(buffer, byteOffset, head, tail, base) {
    this.#i32 = new Int32Array(buffer, byteOffset, HEADER_BYTES / 4);
    this.#u8 = new Uint8Array(buffer, byteOffset + base, RING_BYTES);
    this.#view = new DataView(buffer, byteOffset + base, RING_BYTES);
    this.#head = head;
    this.#tail = tail;
    this.#base = base;
  }

  /** Writer: publishes `bytes` as one message; false when the reader has not freed room for it yet. */
  write(bytes) {
    const length = bytes.byteLength;
    const need = 4 + ((length + 3) & ~3);
    let head = Atomics.load(this.#i32, this.#head);
    const used = (head - Atomics.load(this.#i32, this.#tail)) >>> 0;
    let pos = head & MASK;
    const contiguous = RING_BYTES - pos;
    if (need > contiguous) {
      if (used + contiguous + need > RING_BYTES) return false;
      this.#view.setUint32(pos, WRAP, true);
      head = (head + contiguous) | 0;
      pos = 0;
    } else if (used + need > RING_BYTES) return false;
    this.#view.setUint32(pos, length, true);
    this.#u8.set(bytes, pos + 4);
    Atomics.store(this.#i32, this.#head, (head + need) | 0);
    return true;
  }

  /** Writer: the position after the last message written. */
  get written() {
    return Atomics.load(this.#i32, this.#head);
  }

  /** Writer: whether the reader has read everything up to `position`. */
  passed(position) {
    return ((Atomics.load(this.#i32, this.#tail) - position) | 0) >= 0;
  }

  /** Reader: whether a message waits. */
  hasItems() {
    return Atomics.load(this.#i32, this.#head) !== Atomics.load(this.#i32, this.#tail);
  }

  /**
   * Reader: passes up to `max` messages to `each(bytes)` (a view valid only
   * during the call), freeing each after it; returns how many.
   */
  read(each, max = Infinity) {
    const head = Atomics.load(this.#i32, this.#head);
    let tail = Atomics.load(this.#i32, this.#tail);
    let count = 0;
    while (tail !== head && count < max) {
      const pos = tail & MASK;
      const length = this.#view.getUint32(pos, true);
      if (length === WRAP) {
        tail = (tail + (RING_BYTES - pos)) | 0;
        continue;
      }
      try {
        each(this.#u8.subarray(pos + 4, pos + 4 + length));
      } finally {
        tail = (tail + 4 + ((length + 3) & ~3)) | 0;
        Atomics.store(this.#i32, this.#tail, tail);
      }
      count++;
    }
    Atomics.store(this.#i32, this.#tail, tail);
    return count;
  }
}

/** A channel's memory and its two rings, as the host or the child sees it. */
export class Channel {
  /** @param {ProcessSharedBuffer} psb */
  constructor(psb) {
    this.psb = psb;
    this.words = psb.view(Int32Array).subarray(0, HEADER_BYTES / 4);
    const buffer = psb.getBuffer();
    this.calls = new ByteRing(buffer, psb.byteOffset, W.CALLS_HEAD, W.CALLS_TAIL, HEADER_BYTES);
    this.results = new ByteRing(buffer, psb.byteOffset, W.RESULTS_HEAD, W.RESULTS_TAIL, HEADER_BYTES + RING_BYTES);
  }

  /** A new channel's memory: anonymous, or named `name` (for children that reopen it by name). */
  /**
   * Writer: publishes `bytes` on `ring` (one of this channel's); false when
   * the reader has not freed room yet. A message larger than MAX_MESSAGE is
   * copied into an anonymous shared-memory object of its own, which the
   * reader maps through /proc; it is closed here once the reader is past it.
   */
  write(ring, bytes) {
    this.#closeSpilled();
    if (bytes.byteLength <= MAX_MESSAGE) return ring.write(bytes);
    const psb = ProcessSharedBuffer.create(bytes.byteLength);
    psb.bytes().set(bytes);
    const note = new Uint8Array(13);
    const view = new DataView(note.buffer);
    note[0] = SPILLED;
    view.setInt32(1, process.pid, true);
    view.setInt32(5, psb.fd, true);
    view.setUint32(9, bytes.byteLength, true);
    if (!ring.write(note)) {
      psb.descriptor.mapping.close();
      return false;
    }
    this.#spilled.push({ ring, psb, position: ring.written });
    return true;
  }
  #spilled = [];

  #closeSpilled() {
    while (this.#spilled.length > 0 && this.#spilled[0].ring.passed(this.#spilled[0].position)) {
      this.#spilled.shift().psb.descriptor.mapping.close();
    }
  }

  /** Reader: passes up to `max` messages of `ring` to `each(bytes)`, large ones mapped from their own object. */
  read(ring, each, max) {
    return ring.read((bytes) => {
      if (bytes[0] !== SPILLED) return each(bytes);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let psb;
      try {
        psb = receiveAcross({ d: { n: null, p: view.getInt32(1, true), f: view.getInt32(5, true) }, o: 0, l: view.getUint32(9, true) });
      } catch {
        // Its writer died before we could map it: the message is lost with it (a call it
        // carried was started by the dead child, and is rejected as such).
        return;
      }
      try {
        each(psb.bytes());
      } finally {
        psb.descriptor.mapping.close();
      }
    }, max);
  }

  static create(name) {
    const size = HEADER_BYTES + 2 * RING_BYTES;
    return new Channel(name === undefined ? ProcessSharedBuffer.create(size) : ProcessSharedBuffer.create({ size, mode: "create", name }));
  }

  /** Writer side: bumps `seq` and wakes the reader if it announced a park on `parked`. */
  ring(seq, parked) {
    const words = this.words;
    Atomics.add(words, seq, 1);
    if (Atomics.load(words, parked) === 1 && Atomics.exchange(words, parked, 0) === 1) this.psb.notify(seq, 1);
  }

  /**
   * Reader side, before waiting: announces the park and returns the sequence
   * value to wait on, or undefined if `ring` has messages after all.
   */
  prepareToPark(seq, parked, ring) {
    const words = this.words;
    Atomics.store(words, parked, 1);
    const value = Atomics.load(words, seq);
    if (ring.hasItems() || Atomics.load(words, W.STOP) === 1) {
      Atomics.store(words, parked, 0);
      return undefined;
    }
    return value;
  }

  closed = false;

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const { psb } of this.#spilled) psb.descriptor.mapping.close();
    this.#spilled.length = 0;
    this.psb.descriptor.mapping.close();
  }
}
