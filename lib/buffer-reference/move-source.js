// Checks a BufferReference source and moves its bytes out of it.
//
// The move is `ArrayBuffer.prototype.transfer()`, which keeps the data pointer
// (O(1) at any size) and detaches the source: every view of it reads as
// length 0 from then on. The intrinsics come from ../intrinsics.js, captured
// when the library loads.

import { Buffer } from "node:buffer";
import { types } from "node:util";
import { Errors, describe } from "../errors.js";
import {
  bufferByteLength, bufferDetached, bufferResizable, dataViewBuffer, dataViewByteLength, dataViewByteOffset,
  transfer, typedArrayBuffer, typedArrayByteLength, typedArrayByteOffset,
} from "../intrinsics.js";

const { isArrayBuffer, isSharedArrayBuffer, isTypedArray, isDataView } = types;
const isNodeBuffer = Buffer.isBuffer;

/**
 * Validates `source` and moves the bytes it covers.
 * @returns {[ArrayBuffer, number, number]} the moved buffer (owned by the
 *   caller alone), and the byte offset and length of the source's region in it.
 */
export function moveSource(source) {
  let buffer, byteOffset, byteLength;
  if (isArrayBuffer(source)) {
    buffer = source;
    byteOffset = 0;
    byteLength = null;
  } else if (isTypedArray(source)) {
    buffer = typedArrayBuffer.call(source);
    byteOffset = typedArrayByteOffset.call(source);
    byteLength = typedArrayByteLength.call(source);
  } else if (isDataView(source)) {
    buffer = dataViewBuffer.call(source);
    byteOffset = dataViewByteOffset.call(source);
    byteLength = dataViewByteLength.call(source);
  } else if (isSharedArrayBuffer(source)) {
    throw Errors.sharedSource();
  } else if (source === undefined) {
    throw Errors.missingSource();
  } else {
    throw Errors.notABufferSource(describe(source));
  }

  if (isSharedArrayBuffer(buffer)) throw Errors.sharedSource();
  if (bufferDetached.call(buffer)) throw Errors.detachedSource();
  if (bufferResizable.call(buffer)) throw Errors.resizableSource();
  const total = bufferByteLength.call(buffer);
  byteLength ??= total;
  if (isNodeBuffer(source) && byteLength !== total) throw Errors.pooledBufferSource();

  let moved;
  try {
    moved = transfer.call(buffer);
  } catch (cause) {
    throw Errors.nonDetachableSource(cause);
  }
  return [moved, byteOffset, byteLength];
}

