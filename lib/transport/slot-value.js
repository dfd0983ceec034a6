// Writes one encoded value (see lib/codec) into a transport slot and reads it
// back. Numbers, booleans, null, undefined and short strings are stored as
// they are; other small values as v8-serialized bytes. A value that does not
// fit (or that moves ArrayBuffers) is not written: the caller sends it through
// the worker's MessagePort instead.
import { Buffer } from "node:buffer";
import { serialize, deserialize } from "node:v8";
import { S_KIND, S_LENGTH, SLOT_BYTES, VALUE_BYTES_AT, VALUE_CAPACITY } from "./layout.js";

export const K_UNDEFINED = 0;
export const K_NULL = 1;
export const K_TRUE = 2;
export const K_FALSE = 3;
export const K_NUMBER = 4;
export const K_UTF8 = 5;
export const K_UTF16 = 6;
export const K_SERIALIZED = 7; // tagged=false
export const K_SERIALIZED_TAGGED = 8; // tagged=true (decode must revive it)
export const K_PORT = 9; // the value travels on the ring's MessagePort

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

/**
 * Stores `wire` at slot byte offset `at`. Returns false (writing nothing
 * useful) when it does not fit, so the caller takes the MessagePort path.
 */
export function writeValue(views, at, wire, tagged) {
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
    default: {
      if (wire === null) {
        views.i32[i + S_KIND] = K_NULL;
        return true;
      }
      let bytes;
      try {
        bytes = serialize(wire);
      } catch {
        return false; // e.g. a SharedArrayBuffer: the MessagePort path shares it
      }
      if (bytes.length > VALUE_CAPACITY) return false;
      bytes.copy(views.bytes, at + VALUE_BYTES_AT);
      views.i32[i + S_KIND] = tagged ? K_SERIALIZED_TAGGED : K_SERIALIZED;
      views.i32[i + S_LENGTH] = bytes.length;
      return true;
    }
  }
}

/** Reads the value at slot byte offset `at`: [wire, tagged]. */
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
      // A private copy: deserialize must not read bytes the sender may reuse.
      return deserialize(Buffer.from(views.bytes.subarray(start, start + views.i32[i + S_LENGTH])));
  }
}

/** Whether the value at `at` needs decode() to revive tag nodes. */
export const isTagged = (views, at) => views.i32[(at >> 2) + S_KIND] === K_SERIALIZED_TAGGED;
