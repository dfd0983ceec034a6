// Entry point of `knitting/unsafe`.
import { types } from "node:util";
import { addressOf as nativeAddressOf } from "./native.js";
import { Errors, describe } from "./errors.js";

export { BufferReference, BufferReferenceReturn } from "./buffer-reference/buffer-reference.js";
export { referenceStats } from "./native.js";
export { BUFFER_REFERENCE_KIND, BUFFER_REFERENCE_CODEC_ID, isBufferReferenceMetadata } from "./buffer-reference/metadata.js";

/**
 * Address of the first byte `value` exposes, read from that very object in
 * the calling thread (0n when it has none). For tests that prove a move did
 * not copy.
 */
export function addressOf(value) {
  if (!types.isAnyArrayBuffer(value) && !ArrayBuffer.isView(value)) throw Errors.notABuffer("addressOf", describe(value));
  return nativeAddressOf(value);
}
