// The engine's own structured serialization (the serializer postMessage
// uses), for wire values that contain nothing to move or share: the bytes go
// into shared memory, where any worker can read them. On Node and Deno the
// plain v8.Serializer keeps typed arrays, ArrayBuffers, Dates, bigints and
// sparse arrays exactly as structured clone does (node's DefaultSerializer
// would instead turn views into slices of one shared buffer). Bun has no
// v8.Serializer; its bun:jsc serialize/deserialize are the same structured
// clone, written by JavaScriptCore.
import { createRequire } from "node:module";
import v8 from "node:v8";
import { runtime } from "../runtime/runtime.js";

const jsc = runtime === "bun" ? createRequire(import.meta.url)("bun:jsc") : undefined;
const { Serializer, Deserializer } = v8;

/** @returns {Buffer} the serialized bytes of `wire` */
export function serialize(wire) {
  if (jsc !== undefined) return jsc.serialize(wire, { binaryType: "nodebuffer" });
  const serializer = new Serializer();
  serializer.writeHeader();
  serializer.writeValue(wire);
  return serializer.releaseBuffer();
}

/**
 * Its serialized size in bytes, leaving out the buffers of `transfer` (moved,
 * not copied) and SharedArrayBuffers (shared): what the value copies. On Bun,
 * whose serializer cannot be told that, -1 when the wire holds either.
 */
export function copiedSize(wire, transfer) {
  if (jsc !== undefined) {
    try {
      return transfer.length === 0 ? jsc.serialize(wire).byteLength : -1;
    } catch {
      return -1;
    }
  }
  const serializer = new SizeSerializer();
  serializer.writeHeader();
  for (let i = 0; i < transfer.length; i++) serializer.transferArrayBuffer(i, transfer[i]);
  serializer.writeValue(wire);
  return serializer.releaseBuffer().length;
}

class SizeSerializer extends Serializer {
  _getSharedArrayBufferId() {
    return 0;
  }
}

/** @param {Uint8Array} bytes read before this returns (they may be reused afterwards) */
export function deserialize(bytes) {
  if (jsc !== undefined) return jsc.deserialize(bytes);
  const deserializer = new Deserializer(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}
