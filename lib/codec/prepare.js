// The codec's entry point for sending: plain primitives travel exactly as
// they are (no encoding, no validation, no allocation), everything else goes
// through encode(). Both the host (arguments) and the workers (results) use it.
import { encode } from "./encode.js";

const NO_TRANSFER = Object.freeze([]);

/** One reused result: read its fields before the next call. */
const prepared = { wire: undefined, tagged: false, shared: false, json: false, copied: 0, transfer: NO_TRANSFER, taken: undefined };

function isPlainPrimitive(value) {
  const type = typeof value;
  return type === "number" || type === "string" || type === "boolean" || type === "undefined" || value === null;
}

/**
 * Encodes `value` for sending: { wire, tagged, shared, json, copied, transfer, taken } (a shared
 * object, valid until the next call). Throws what encode() throws (`beforeTake`: see encode()).
 */
export function prepare(value, label, acrossProcesses = false, beforeTake = undefined) {
  if (isPlainPrimitive(value)) {
    prepared.wire = value;
    prepared.tagged = false;
    prepared.shared = false;
    prepared.json = false;
    prepared.copied = 0;
    prepared.transfer = NO_TRANSFER;
    prepared.taken = undefined;
    return prepared;
  }
  const transfer = [];
  const { wire, tagged, shared, json, copied, taken } = encode(value, transfer, label, acrossProcesses, beforeTake);
  prepared.wire = wire;
  prepared.tagged = tagged;
  prepared.shared = shared;
  prepared.json = json;
  prepared.copied = copied;
  prepared.transfer = transfer;
  prepared.taken = taken;
  return prepared;
}
