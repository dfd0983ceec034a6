// The user-facing BufferReference. The source checks and the move happen here
// (only JS can call the engine's transfer); ownership bookkeeping lives in the
// native half it holds privately (src/bindings/buffer_reference.rs): the
// registry entry, and the region's buffer for a sub-view until it is compacted.
//
// Plain state (length, released, the buffer once materialized) is kept here,
// so the accessors cost no N-API crossing: the native half is called to
// construct, to compact a sub-view's region once, and to hand the bytes over
// or free them.

import { NativeBufferReference, addressOf } from "../native.js";
import { runtime } from "../runtime/runtime.js";
import { BUFFER_REFERENCE_KIND, isBufferReferenceMetadata } from "./metadata.js";
import { moveSource } from "./move-source.js";
import { Errors } from "../errors.js";
import { bufferByteLength, bufferDetached } from "../intrinsics.js";

/** Tokens handed out by toMetadata(). */
let tokens = 0;
/** Internal: see takeBuffer. */
let take;
/** Internal: see untakeBuffer. */
let untake;
/** Internal: see isBufferReference. */
let isGenuine;

export class BufferReference {
  /** The native half (null once released or sent away). */
  #native;
  /** The ArrayBuffer holding exactly the region, once known (undefined before, or for a sub-view until read). */
  #buffer;
  #length;
  /** Its token in metadata (made on first toMetadata()). */
  #token;

  /** @param {ArrayBuffer | ArrayBufferView} source moved (detached) at once */
  constructor(source) {
    const [moved, byteOffset, byteLength] = moveSource(source);
    this.#native = new NativeBufferReference(moved, byteOffset, byteLength);
    this.#length = byteLength;
    if (byteOffset === 0 && byteLength === bufferByteLength.call(moved)) this.#buffer = moved;
  }

  /** Length of the region in bytes; 0 once released. */
  get byteLength() {
    if (!isGenuine(this)) throw Errors.notABufferReference("byteLength");
    return this.#live() ? this.#length : 0;
  }

  /** True once released, sent, or its buffer was moved away (transfer() of toArrayBuffer()). */
  get released() {
    if (!isGenuine(this)) throw Errors.notABufferReference("released");
    return !this.#live();
  }

  /** A Uint8Array over exactly the region (every call a view of the same buffer). */
  toUint8Array() {
    if (!isGenuine(this)) throw Errors.notABufferReference("toUint8Array");
    return new Uint8Array(this.#materialize());
  }

  /** The ArrayBuffer holding exactly the region (the same object every call). */
  toArrayBuffer() {
    if (!isGenuine(this)) throw Errors.notABufferReference("toArrayBuffer");
    return this.#materialize();
  }

  /** Frees the bytes now and detaches every view handed out. Idempotent. */
  release() {
    if (!isGenuine(this)) throw Errors.notABufferReference("release");
    const native = this.#native;
    if (native === null) return;
    this.#native = null;
    this.#buffer = undefined;
    native.release();
  }

  [Symbol.dispose]() {
    if (!isGenuine(this)) throw Errors.notABufferReference("[Symbol.dispose]");
    this.release();
  }

  /**
   * What this reference is, for logs and diagnostics: `{ kind, origin,
   * runtime, pointer, token, byteOffset, byteLength }` (pointer and token as
   * decimal strings). Throws ERR_KNITTING_RELEASED after release.
   */
  toMetadata() {
    if (!isGenuine(this)) throw Errors.notABufferReference("toMetadata");
    const buffer = this.#materialize();
    this.#token ??= String(++tokens);
    return {
      kind: BUFFER_REFERENCE_KIND,
      origin: `${runtime}:${process.pid}`,
      runtime,
      pointer: String(addressOf(buffer)),
      token: this.#token,
      byteOffset: 0,
      byteLength: this.#length,
    };
  }

  /**
   * Not supported: a reference rebuilt from metadata would hold a raw address
   * without knowing whether its bytes still exist. Throws
   * ERR_KNITTING_UNSUPPORTED_OPTION (a TypeError for metadata of the wrong
   * shape): send the BufferReference itself, which moves without a copy.
   */
  static fromMetadata(metadata) {
    if (!isBufferReferenceMetadata(metadata)) throw Errors.invalidArgument("BufferReference.fromMetadata", "valid BufferReferenceMetadata (see isBufferReferenceMetadata)", "Invalid BufferReferenceMetadata");
    throw Errors.unsupportedOption(
      "BufferReference.fromMetadata",
      "a reference rebuilt from a raw address could read freed memory. Send the BufferReference itself in a call (it moves without a copy), or share memory with a ProcessSharedBuffer",
    );
  }

  get [Symbol.toStringTag]() {
    return "BufferReference";
  }

  /** Whether it still owns its bytes. A buffer the user moved away (detached) ends it. */
  #live() {
    if (this.#native === null) return false;
    if (this.#buffer !== undefined && bufferDetached.call(this.#buffer)) {
      this.release(); // its bytes are gone: drop the registry entry too
      return false;
    }
    return true;
  }

  #materialize() {
    if (!this.#live()) throw Errors.referenceReleased();
    this.#buffer ??= this.#native.toArrayBuffer();
    return this.#buffer;
  }

  static {
    take = (ref) => {
      if (!ref.#live()) throw Errors.referenceReleased();
      const native = ref.#native;
      ref.#native = null;
      ref.#buffer = undefined;
      return native.take();
    };
    untake = (ref, buffer) => {
      ref.#native = new NativeBufferReference(buffer, 0, bufferByteLength.call(buffer));
      ref.#buffer = buffer;
    };
    isGenuine = (value) => value !== null && typeof value === "object" && #native in value;
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
  return take(ref);
}

/**
 * Internal: gives `ref` back the buffer takeBuffer() took from it, for a call
 * refused after its value was encoded (the buffer was never sent).
 */
export function untakeBuffer(ref, buffer) {
  untake(ref, buffer);
}

/** Whether `value` is a BufferReference made by this library (not merely one by its prototype). */
export function isBufferReference(value) {
  return isGenuine(value);
}
