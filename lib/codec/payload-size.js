// How many bytes a value copies on its way to the other thread, for
// payload.maxPayloadBytes. Moved bytes (a BufferReference) and shared memory
// are not copied, so they do not count; everything else next to them does.
import { Buffer } from "node:buffer";
import { copiedSize, serialize } from "./serialize.js";

/**
 * @param {unknown} wire the codec's wire value
 * @param {boolean} json whether it travels as JSON text
 * @param {number} copied bytes the codec copied into buffers of the transfer list
 * @param {ArrayBuffer[]} transfer the buffers moved with it
 * @param {boolean} shared whether it holds shared memory
 */
export function payloadBytes(wire, json, copied, transfer, shared) {
  if (transfer.length > 0 || shared) return copied + Math.max(0, copiedSize(wire, transfer));
  if (typeof wire === "string") return Buffer.byteLength(wire);
  if (json) return Buffer.byteLength(JSON.stringify(wire));
  if (wire === null || typeof wire !== "object") return 8;
  return serialize(wire).length;
}
