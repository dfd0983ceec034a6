// The wire (what codec/encode.js makes of a value) as bytes, for process
// workers. Threads hand the wire to structured clone; a process worker may be
// another runtime (a Deno or Bun child of a Node host), whose engine reads no
// serialization of ours, so the wire crosses as this small format that every
// runtime decodes the same way. It covers exactly what the encoder leaves in
// a wire meant for another process: primitives, bigints, strings, arrays
// (holes kept), plain objects (tag nodes are plain objects), Dates,
// ArrayBuffers (resizable ones keep their maximum), typed arrays and DataViews.
// Everything decoded is a copy: the bytes it came from may be reused at once.
// A sparse array costs what it holds, not its length: a run of holes is one
// hole-run item, and from its first hole on the encoder visits only the
// elements present (as codec/encode.js does).
//
// Little-endian. One type byte, then:
//   int32 (4), float64 (8), bigint/string (u32 byte length + UTF-8),
//   array (u32 length + items, where a hole run, its type byte then u32 count,
//   stands for that many holes; the items and runs cover the length exactly),
//   object (u32 count + [key string, value]...),
//   date (float64), buffer (u32 length + bytes), resizable buffer (u32 length,
//   u32 maximum + bytes), typed array (u8 class + u32 byte length + bytes),
//   data view (u32 length + bytes),
//   reference (u32: the nth object of this message, counted in the order they
//   begin from the (MEMO_AFTER + 1)th on): an object reached again (the
//   encoder keeps a part reached twice as one in a value that large), so a
//   message costs its size, not its paths.
import { MEMO_AFTER, TYPED_ARRAYS } from "../codec/encode.js";
import { types } from "node:util";
import {
  bufferByteLength, bufferMaxByteLength, bufferResizable, dataViewBuffer, dataViewByteLength, dataViewByteOffset,
  typedArrayBuffer, typedArrayByteLength, typedArrayByteOffset, typedArrayName,
} from "../intrinsics.js";

const T_UNDEFINED = 0, T_NULL = 1, T_FALSE = 2, T_TRUE = 3, T_INT = 4, T_FLOAT = 5, T_BIGINT = 6, T_STRING = 7;
const T_ARRAY = 8, T_HOLES = 9, T_OBJECT = 10, T_DATE = 11, T_BUFFER = 12, T_RESIZABLE = 13, T_TYPED = 14, T_DATAVIEW = 15;
/** A string with a lone surrogate, which UTF-8 cannot hold: its UTF-16 code units (u32 count + 2 bytes each). */
const T_STRING16 = 16;
const T_REF = 17;

/**
 * Typed array classes by number: a fixed list, the same in every runtime
 * (Float16Array is missing in some; a value of a class the receiver lacks fails to decode).
 */
const CLASS_NAMES = [
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
  "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
];
const CLASS_INDEX = new Map(CLASS_NAMES.map((name, i) => [name, i]));
const { isArrayBuffer, isArrayBufferView, isDataView, isDate } = types;
const { isArray } = Array;
const { keys: objectKeys, hasOwn } = Object;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/** A growable byte buffer the encoder writes into (reused between messages). */
export class ByteWriter {
  bytes = new Uint8Array(4096);
  view = new DataView(this.bytes.buffer);
  length = 0;
  /** Arrays and objects of the message being written → their number (see T_REF). */
  seen = new Map();
  /** Arrays and objects written so far in this message. */
  visits = 0;

  reset() {
    this.length = 0;
  }

  /** Makes room for `n` more bytes. */
  reserve(n) {
    const needed = this.length + n;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.length));
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }

  u8(value) {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  i32(value) {
    this.reserve(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }

  u32(value) {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  f64(value) {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  /** A string as [type][text] (UTF-8, or UTF-16 units when it has a lone surrogate). */
  text(value) {
    if (value.isWellFormed()) {
      this.u8(T_STRING);
      return this.string(value);
    }
    this.u8(T_STRING16);
    this.u32(value.length);
    this.reserve(value.length * 2);
    for (let i = 0; i < value.length; i++) this.view.setUint16(this.length + i * 2, value.charCodeAt(i), true);
    this.length += value.length * 2;
  }

  string(value) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.reserve(4 + value.length * 3);
    const { written } = encoder.encodeInto(value, this.bytes.subarray(this.length + 4));
    this.view.setUint32(this.length, written, true);
    this.length += 4 + written;
  }

  raw(bytes) {
    this.reserve(bytes.byteLength);
    this.bytes.set(bytes, this.length);
    this.length += bytes.byteLength;
  }
}

/** Appends `wire` to `writer`. */
export function writeWire(writer, wire) {
  try {
    write(writer, wire);
  } finally {
    if (writer.seen.size > 0) writer.seen.clear();
    writer.visits = 0;
  }
}

function write(writer, wire) {
  switch (typeof wire) {
    case "undefined":
      return writer.u8(T_UNDEFINED);
    case "boolean":
      return writer.u8(wire ? T_TRUE : T_FALSE);
    case "number":
      if ((wire | 0) === wire && !Object.is(wire, -0)) {
        writer.u8(T_INT);
        return writer.i32(wire);
      }
      writer.u8(T_FLOAT);
      return writer.f64(wire);
    case "string":
      return writer.text(wire);
    case "bigint":
      writer.u8(T_BIGINT);
      return writer.string(wire.toString(16));
    case "object":
      if (wire === null) return writer.u8(T_NULL);
      return writeObject(writer, wire);
    default:
      // The encoder refuses everything else before it reaches a wire.
      throw new TypeError(`a ${typeof wire} in a wire: the encoder should have refused it`);
  }
}

/**
 * Numbers an object as it begins (from the (MEMO_AFTER + 1)th on,
 * as the reader does); true if it was written before (a reference is written
 * instead).
 */
function written(writer, object, bytes) {
  const seen = writer.seen;
  if (seen.size > 0) {
    const known = seen.get(object);
    if (known !== undefined) {
      writer.u8(T_REF);
      writer.u32(known);
      return true;
    }
  }
  if (++writer.visits > MEMO_AFTER || bytes >= LARGE) seen.set(object, seen.size);
  return false;
}

/** The reader's side of written(): numbers an object it made (`bytes`: a buffer's or view's length), and returns it. */
function made(r, object, bytes = 0) {
  if (++r.visits > MEMO_AFTER || bytes >= LARGE) r.containers.push(object);
  return object;
}

/** Buffers and views from this size on are numbered in any message (one reached 2,000 times is written once). */
const LARGE = 64 * 1024;

function writeObject(writer, wire) {
  const bytes = isArrayBufferView(wire) ? (isDataView(wire) ? dataViewByteLength.call(wire) : typedArrayByteLength.call(wire))
    : isArrayBuffer(wire) ? bufferByteLength.call(wire) : 0;
  if (written(writer, wire, bytes)) return;
  if (isArray(wire)) return writeArray(writer, wire);
  if (isArrayBufferView(wire)) {
    if (isDataView(wire)) {
      writer.u8(T_DATAVIEW);
      return writeBytes(writer, new Uint8Array(dataViewBuffer.call(wire), dataViewByteOffset.call(wire), dataViewByteLength.call(wire)));
    }
    writer.u8(T_TYPED);
    writer.u8(CLASS_INDEX.get(typedArrayName.call(wire)));
    return writeBytes(writer, new Uint8Array(typedArrayBuffer.call(wire), typedArrayByteOffset.call(wire), typedArrayByteLength.call(wire)));
  }
  if (isArrayBuffer(wire)) {
    if (bufferResizable.call(wire)) {
      writer.u8(T_RESIZABLE);
      writer.u32(bufferByteLength.call(wire));
      writer.u32(bufferMaxByteLength.call(wire));
      return writer.raw(new Uint8Array(wire));
    }
    writer.u8(T_BUFFER);
    return writeBytes(writer, new Uint8Array(wire));
  }
  if (isDate(wire)) {
    writer.u8(T_DATE);
    return writer.f64(wire.getTime());
  }
  const keys = objectKeys(wire);
  writer.u8(T_OBJECT);
  writer.u32(keys.length);
  for (const key of keys) {
    writer.text(key);
    write(writer, wire[key]);
  }
}

/**
 * An array: its items in order, each read once; from the first hole on, only
 * the indices present are visited (a run of holes is written as its count),
 * so an array of length 2^32 - 1 holding two elements costs two elements.
 */
function writeArray(writer, array) {
  const length = array.length;
  writer.u8(T_ARRAY);
  writer.u32(length);
  for (let i = 0; i < length; i++) {
    const item = array[i];
    if (item === undefined && !hasOwn(array, i)) return writeSparse(writer, array, i, length);
    write(writer, item);
  }
}

/** The rest of `array` from index `from` (a hole): runs of holes as counts, then each element present. */
function writeSparse(writer, array, from, length) {
  let next = from;
  // The indices present, ascending, then any named keys (which the wire does not carry).
  for (const key of objectKeys(array)) {
    const index = arrayIndex(key);
    if (index < 0) break;
    if (index < from) continue;
    if (index > next) holes(writer, index - next);
    write(writer, array[index]);
    next = index + 1;
  }
  if (next < length) holes(writer, length - next);
}

function holes(writer, count) {
  writer.u8(T_HOLES);
  writer.u32(count);
}

/** The array index a property key names, or -1 (not an index). */
function arrayIndex(key) {
  const n = +key;
  return n >= 0 && n < 4294967295 && Number.isInteger(n) && String(n) === key ? n : -1;
}

function writeBytes(writer, bytes) {
  writer.u32(bytes.byteLength);
  writer.raw(bytes);
}

/** Reads one wire from `bytes` (a Uint8Array) starting at 0. */
export function readWire(bytes) {
  const reader = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), at: 0, containers: [], visits: 0 };
  return read(reader);
}

function read(r) {
  const type = r.bytes[r.at++];
  switch (type) {
    case T_UNDEFINED:
      return undefined;
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_INT:
      r.at += 4;
      return r.view.getInt32(r.at - 4, true);
    case T_FLOAT:
      r.at += 8;
      return r.view.getFloat64(r.at - 8, true);
    case T_BIGINT: {
      const hex = readString(r);
      return hex.startsWith("-") ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
    }
    case T_STRING:
    case T_STRING16:
      r.at--;
      return readText(r);
    case T_ARRAY: {
      const length = readU32(r);
      const array = new Array(length);
      made(r, array);
      for (let i = 0; i < length; ) {
        if (r.bytes[r.at] !== T_HOLES) {
          array[i++] = read(r);
          continue;
        }
        r.at++;
        const count = readU32(r);
        if (count === 0 || count > length - i) throw new TypeError(`a run of ${count} holes at index ${i} of an array of length ${length}`);
        i += count;
      }
      return array;
    }
    case T_OBJECT: {
      const count = readU32(r);
      const object = {};
      made(r, object);
      for (let i = 0; i < count; i++) {
        const key = readText(r);
        const value = read(r);
        // (defineProperty: a "__proto__" key stays an own property, as structured clone keeps it)
        Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
      }
      return object;
    }
    case T_REF: {
      const index = readU32(r);
      if (index >= r.containers.length) throw new TypeError(`a reference to container ${index} of ${r.containers.length}`);
      return r.containers[index];
    }
    case T_DATE:
      r.at += 8;
      return made(r, new Date(r.view.getFloat64(r.at - 8, true)));
    case T_BUFFER: {
      const length = readU32(r);
      return made(r, copyBytes(r, length), length);
    }
    case T_RESIZABLE: {
      const length = readU32(r);
      const max = readU32(r);
      const buffer = new ArrayBuffer(length, { maxByteLength: max });
      new Uint8Array(buffer).set(r.bytes.subarray(r.at, r.at + length));
      r.at += length;
      return made(r, buffer, length);
    }
    case T_TYPED: {
      const name = CLASS_NAMES[r.bytes[r.at++]];
      const Class = TYPED_ARRAYS.get(name);
      if (Class === undefined) throw new TypeError(`a ${name ?? "typed array of an unknown class"}, which this runtime does not have`);
      const length = readU32(r);
      return made(r, new Class(copyBytes(r, length), 0, length / Class.BYTES_PER_ELEMENT), length);
    }
    case T_DATAVIEW: {
      const length = readU32(r);
      return made(r, new DataView(copyBytes(r, length)), length);
    }
    default:
      throw new TypeError(`unknown value type ${type} at byte ${r.at - 1} of a process worker's message`);
  }
}

function readU32(r) {
  r.at += 4;
  return r.view.getUint32(r.at - 4, true);
}

/** A string written by ByteWriter.text(). */
function readText(r) {
  if (r.bytes[r.at++] === T_STRING) return readString(r);
  const units = readU32(r);
  let text = "";
  for (let i = 0; i < units; i += 4096) {
    const codes = [];
    for (let j = i; j < Math.min(units, i + 4096); j++) codes.push(r.view.getUint16(r.at + j * 2, true));
    text += String.fromCharCode(...codes);
  }
  r.at += units * 2;
  return text;
}

function readString(r) {
  const length = readU32(r);
  const start = r.at;
  r.at += length;
  return decoder.decode(r.bytes.subarray(start, start + length));
}

/** A new ArrayBuffer holding the next `length` bytes. */
function copyBytes(r, length) {
  const start = r.bytes.byteOffset + r.at;
  r.at += length;
  return r.bytes.buffer.slice(start, start + length);
}
