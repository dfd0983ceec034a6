// Writes one encoded value (see lib/codec) into a transport slot and reads it
// back. Numbers, booleans, null, undefined and short strings are stored as
// they are. Anything else is not written: the caller sends it through the
// worker's MessagePort (structured clone), announced by a PORT item. Measured
// here: a post + receiveMessageOnPort of a small object costs ~2 µs and of a
// 1 KiB one ~20 µs, less than v8.serialize + deserialize into a slot (~5 µs
// and ~26 µs), so objects never take the slot path.
import { Buffer } from "node:buffer";
import { S_KIND, S_LENGTH, SLOT_BYTES, VALUE_BYTES_AT, VALUE_CAPACITY } from "./layout.js";

export const K_UNDEFINED = 0;
export const K_NULL = 1;
export const K_TRUE = 2;
export const K_FALSE = 3;
export const K_NUMBER = 4;
export const K_UTF8 = 5;
export const K_UTF16 = 6;
export const K_PORT = 7; // the value travels on the ring's MessagePort

/** What readValue returns for a PORT item. */
export const PORT = Symbol("knitting.port");

/** Marks the slot at `at` as a PORT item. */
export function writePort(views, at) {
  views.i32[(at >> 2) + S_KIND] = K_PORT;
}

/** Views over one SharedArrayBuffer, built once per buffer. */
export class SlotViews {
  constructor(sab, slotsAt) {
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    this.bytes = Buffer.from(sab);
    this.slotsAt = slotsAt;
  }
  /** Byte offset of slot `index`. */
  at(index) {
    return this.slotsAt + index * SLOT_BYTES;
  }
}

/** Whether writeValue would store `wire` (a primitive that fits a slot). */
export function fitsInSlot(wire) {
  switch (typeof wire) {
    case "number":
    case "boolean":
    case "undefined":
      return true;
    case "string":
      return wire.length * 2 <= VALUE_CAPACITY || (wire.length * 3 <= VALUE_CAPACITY && wire.isWellFormed());
    default:
      return wire === null;
  }
}

/**
 * Stores `wire` at slot byte offset `at`. Returns false (writing nothing
 * useful) when it is not a primitive that fits, so the caller takes the
 * MessagePort path.
 */
export function writeValue(views, at, wire) {
  const i = at >> 2;
  switch (typeof wire) {
    case "number":
      views.i32[i + S_KIND] = K_NUMBER;
      views.f64[(at + 16) >> 3] = wire;
      return true;
    case "string": {
      const length = wire.length;
      if (length * 3 <= VALUE_CAPACITY && wire.isWellFormed()) {
        views.i32[i + S_KIND] = K_UTF8;
        views.i32[i + S_LENGTH] = views.bytes.utf8Write(wire, at + VALUE_BYTES_AT);
        return true;
      }
      if (length * 2 <= VALUE_CAPACITY) {
        views.i32[i + S_KIND] = K_UTF16;
        views.i32[i + S_LENGTH] = views.bytes.ucs2Write(wire, at + VALUE_BYTES_AT);
        return true;
      }
      return false;
    }
    case "boolean":
      views.i32[i + S_KIND] = wire ? K_TRUE : K_FALSE;
      return true;
    case "undefined":
      views.i32[i + S_KIND] = K_UNDEFINED;
      return true;
    default:
      if (wire === null) {
        views.i32[i + S_KIND] = K_NULL;
        return true;
      }
      return false;
  }
}

/** Reads the value at slot byte offset `at` (never tagged: tagged values take the port). */
export function readValue(views, at) {
  const i = at >> 2;
  const start = at + VALUE_BYTES_AT;
  switch (views.i32[i + S_KIND]) {
    case K_NUMBER:
      return views.f64[(at + 16) >> 3];
    case K_UTF8:
      return views.bytes.utf8Slice(start, start + views.i32[i + S_LENGTH]);
    case K_UTF16:
      return views.bytes.ucs2Slice(start, start + views.i32[i + S_LENGTH]);
    case K_TRUE:
      return true;
    case K_FALSE:
      return false;
    case K_NULL:
      return null;
    case K_UNDEFINED:
      return undefined;
    case K_PORT:
      return PORT;
    default:
      throw new Error(`knitting transport: unknown slot kind ${views.i32[i + S_KIND]}`);
  }
}
