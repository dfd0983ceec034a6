// The user-facing BufferReference: the source checks and the move happen here
// (only JS can call the engine's transfer), ownership lives in the native
// class it extends (src/bindings/buffer_reference.rs).

import { NativeBufferReference } from "../native.js";
import { moveSource } from "./move-source.js";

export class BufferReference extends NativeBufferReference {
  /** @param {ArrayBuffer | ArrayBufferView} source moved (detached) at once */
  constructor(source) {
    super(...moveSource(source));
  }

  [Symbol.dispose]() {
    this.release();
  }

  get [Symbol.toStringTag]() {
    return "BufferReference";
  }
}

/** How the host takes possession of a BufferReference a worker returns. */
export const BufferReferenceReturn = Object.freeze({ Copy: "copy", Borrow: "borrow" });

// How a reference crosses threads (both directions, both return modes).
//
// The sender takes the ArrayBuffer that holds exactly the region (takeBuffer)
// and posts it to the other thread in a MessagePort transfer list; the
// receiver wraps what arrives in a new BufferReference. The engine moves the
// backing store: same memory, no copy (tests check the address on both
// sides), and afterwards only the receiving isolate owns it. So a returned
// reference stays valid however the worker ends (terminate, crash, shutdown),
// a stale view on the sending side reads length 0, and there is no pin, no
// finalizer and nothing to free on another thread. This is the engine-level
// transfer of the platform facts; the two alternatives lose: an external
// buffer aliasing worker memory dies with the worker (use-after-free), and a
// copy costs O(size) where the transfer costs a few microseconds at any size
// (benches/references.bench.mjs). "copy" and "borrow" therefore behave the
// same on Node: both are zero-copy and safe.

/**
 * Internal: takes the bytes out of `ref` for a move to another thread. Returns
 * the ArrayBuffer holding exactly its region (to be put in a transfer list at
 * once) and leaves `ref` released. Throws ERR_KNITTING_RELEASED if it was.
 */
export function takeBuffer(ref) {
  return ref.take();
}
