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

/**
 * Internal: takes the bytes out of `ref` for a move to another thread. Returns
 * the ArrayBuffer holding exactly its region (to be put in a transfer list at
 * once) and leaves `ref` released. Throws ERR_KNITTING_RELEASED if it was.
 */
export function takeBuffer(ref) {
  return ref.take();
}
