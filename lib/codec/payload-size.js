// How many bytes a value copies on its way to the other thread, for
// payload.maxPayloadBytes. Moved bytes (a BufferReference) and shared memory
// are not copied, so they do not count.
import { Buffer } from "node:buffer";
import { serialize } from "./serialize.js";

/**
 * @param {unknown} wire the codec's wire value
 * @param {boolean} json whether it travels as JSON text
 * @param {number} copied bytes the codec copied into buffers of the transfer list
 * @param {boolean} held whether it travels by structured clone with a transfer list or shared memory
 */
export function payloadBytes(wire, json, copied, held) {
  if (held) return copied;
  if (typeof wire === "string") return Buffer.byteLength(wire);
  if (json) return Buffer.byteLength(JSON.stringify(wire));
  if (wire === null || typeof wire !== "object") return 8;
  return serialize(wire).length;
}
