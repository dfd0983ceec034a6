// The engine's own structured serialization (the serializer postMessage
// uses), for wire values that contain nothing to move or share: the bytes go
// into shared memory, where any worker can read them. The plain
// v8.Serializer keeps typed arrays, ArrayBuffers, Dates, bigints and sparse
// arrays exactly as structured clone does (node's DefaultSerializer would
// instead turn views into slices of one shared buffer).
import v8 from "node:v8";

const { Serializer, Deserializer } = v8;

/** @returns {Buffer} the serialized bytes of `wire` */
export function serialize(wire) {
  const serializer = new Serializer();
  serializer.writeHeader();
  serializer.writeValue(wire);
  return serializer.releaseBuffer();
}

/** @param {Uint8Array} bytes read before this returns (they may be reused afterwards) */
export function deserialize(bytes) {
  const deserializer = new Deserializer(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}
