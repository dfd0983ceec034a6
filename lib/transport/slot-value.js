// Writes one encoded value (see lib/codec) into a transport slot and reads it
// back. Numbers, booleans, null, undefined and short strings are stored as
// they are. Longer strings, and values that JSON carries exactly (plain
// objects and arrays of strings, finite numbers, booleans and null) as JSON
// text, are stored as UTF-8 (UTF-16 for strings with lone surrogates); other
// values as the engine's serialized bytes. Text and bytes go in the slot, or
// in the arena when larger. The rest stays with its sender: a call's value
// that moves or shares memory waits on the host (HELD) until a worker claims
// the call, and a result that does not fit travels on the worker's port (PORT).
import { Buffer } from "node:buffer";
import { S_ARENA, S_FLAGS, S_KIND, S_LENGTH, SLOT_BYTES, VALUE_AT, VALUE_CAPACITY } from "./layout.js";
import { deserialize } from "../codec/serialize.js";

export const K_UNDEFINED = 0;
export const K_NULL = 1;
export const K_TRUE = 2;
export const K_FALSE = 3;
export const K_NUMBER = 4;
export const K_UTF8 = 5;
export const K_UTF16 = 6;
export const K_PORT = 7; // the value travels on the worker's result port
export const K_SERIAL = 8; // serialized bytes in the slot
export const K_ARENA = 9; // serialized bytes in the arena
export const K_HELD = 10; // the value waits on the host until the claiming worker asks for it
export const K_UTF8_ARENA = 11; // a string's UTF-8 bytes in the arena
export const K_UTF16_ARENA = 12; // a string's UTF-16 code units in the arena

/** A result item's ok flag for a call its worker skipped because the host aborted it (no value). */
export const DROPPED = 2;

/** Slot flags: the wire carries tag nodes (decode it with tagged = true). */
export const F_TAGGED = 1;
/** Slot flags: the string is JSON text of the wire (JSON.parse it). */
export const F_JSON = 2;

/** What readValue returns for a PORT item. */
export const PORT = Symbol("knitting.port");
/** What readValue returns for a HELD call. */
export const HELD = Symbol("knitting.held");

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
 * useful) when it is not a primitive that fits.
 */
export function writeValue(views, at, wire) {
  const i = at >> 2;
  views.i32[i + S_FLAGS] = 0;
  switch (typeof wire) {
    case "number":
      views.i32[i + S_KIND] = K_NUMBER;
      views.f64[(at + VALUE_AT) >> 3] = wire;
      return true;
    case "string": {
      const length = wire.length;
      if (length * 3 <= VALUE_CAPACITY && wire.isWellFormed()) {
        views.i32[i + S_KIND] = K_UTF8;
        views.i32[i + S_LENGTH] = views.bytes.utf8Write(wire, at + VALUE_AT);
        return true;
      }
      if (length * 2 <= VALUE_CAPACITY) {
        views.i32[i + S_KIND] = K_UTF16;
        views.i32[i + S_LENGTH] = views.bytes.ucs2Write(wire, at + VALUE_AT);
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

/** Marks the slot at `at` as holding no value (PORT or HELD: the value comes another way). */
export function writeElsewhere(views, at, kind, flags) {
  views.i32[(at >> 2) + S_KIND] = kind;
  views.i32[(at >> 2) + S_FLAGS] = flags;
}

/** Whether `text` should be stored as UTF-8 (it has no lone surrogates; JSON text never has). */
export const utf8Safe = (text, flags) => (flags & F_JSON) !== 0 || text.isWellFormed();

/**
 * Stores a string (a long primitive, or JSON text with F_JSON) in the slot.
 * Returns false, writing nothing useful, when it does not fit.
 */
export function writeText(views, at, text, flags) {
  const i = at >> 2;
  const length = text.length;
  if (utf8Safe(text, flags)) {
    if (length * 3 > VALUE_CAPACITY && (length > VALUE_CAPACITY || Buffer.byteLength(text) > VALUE_CAPACITY)) return false;
    views.i32[i + S_KIND] = K_UTF8;
    views.i32[i + S_LENGTH] = views.bytes.utf8Write(text, at + VALUE_AT);
  } else {
    if (length * 2 > VALUE_CAPACITY) return false;
    views.i32[i + S_KIND] = K_UTF16;
    views.i32[i + S_LENGTH] = views.bytes.ucs2Write(text, at + VALUE_AT);
  }
  views.i32[i + S_FLAGS] = flags;
  return true;
}

/** Stores serialized bytes in the slot (they must fit: bytes.length <= VALUE_CAPACITY). */
export function writeSerialized(views, at, bytes, flags) {
  const i = at >> 2;
  views.bytes.set(bytes, at + VALUE_AT);
  views.i32[i + S_KIND] = K_SERIAL;
  views.i32[i + S_LENGTH] = bytes.length;
  views.i32[i + S_FLAGS] = flags;
}

/** Records that the slot's value lies in the arena: `kind` K_ARENA, K_UTF8_ARENA or K_UTF16_ARENA. */
export function writeArenaRef(views, at, kind, offset, length, flags) {
  const i = at >> 2;
  views.i32[i + S_KIND] = kind;
  views.i32[i + S_ARENA] = offset;
  views.i32[i + S_LENGTH] = length;
  views.i32[i + S_FLAGS] = flags;
}

/** Whether the value in the slot carries tag nodes (decode it with decode(wire, true)). */
export function readTagged(views, at) {
  return (views.i32[(at >> 2) + S_FLAGS] & F_TAGGED) !== 0;
}

/** A string read from a slot: the value itself, or JSON text to parse. */
function textValue(views, i, text) {
  return (views.i32[i + S_FLAGS] & F_JSON) !== 0 ? JSON.parse(text) : text;
}

/**
 * Reads the value at slot byte offset `at`: the wire value, or PORT / HELD
 * when it comes another way. `arena` is a Buffer over the arena (calls only).
 */
export function readValue(views, at, arena) {
  const i = at >> 2;
  const start = at + VALUE_AT;
  switch (views.i32[i + S_KIND]) {
    case K_NUMBER:
      return views.f64[start >> 3];
    case K_UTF8:
      return textValue(views, i, views.bytes.utf8Slice(start, start + views.i32[i + S_LENGTH]));
    case K_UTF16:
      return textValue(views, i, views.bytes.ucs2Slice(start, start + views.i32[i + S_LENGTH]));
    case K_UTF8_ARENA: {
      const offset = views.i32[i + S_ARENA];
      return textValue(views, i, arena.utf8Slice(offset, offset + views.i32[i + S_LENGTH]));
    }
    case K_UTF16_ARENA: {
      const offset = views.i32[i + S_ARENA];
      return textValue(views, i, arena.ucs2Slice(offset, offset + views.i32[i + S_LENGTH]));
    }
    case K_TRUE:
      return true;
    case K_FALSE:
      return false;
    case K_NULL:
      return null;
    case K_UNDEFINED:
      return undefined;
    case K_SERIAL:
      return deserialize(views.bytes.subarray(start, start + views.i32[i + S_LENGTH]));
    case K_ARENA: {
      const offset = views.i32[i + S_ARENA];
      return deserialize(arena.subarray(offset, offset + views.i32[i + S_LENGTH]));
    }
    case K_PORT:
      return PORT;
    case K_HELD:
      return HELD;
    default:
      throw new Error(`knitting transport: unknown slot kind ${views.i32[i + S_KIND]}`);
  }
}
