// knitting/utils: values to binary buffers and back (docs/utils.md is the
// specification). Buffers in are ArrayBuffers, SharedArrayBuffers or views of
// them; buffers out are new fixed-length ArrayBuffers, ready to be moved.
import { types } from "node:util";
import { Errors, describe } from "../errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes `buffer` stands for, as a Uint8Array over them (no copy). */
function bytesOf(buffer, fn) {
  const whole = types.isAnyArrayBuffer(buffer);
  if (!whole && !ArrayBuffer.isView(buffer)) throw Errors.notABuffer(fn, describe(buffer));
  if ((whole ? buffer : buffer.buffer).detached) throw Errors.notABuffer(fn, "a detached ArrayBuffer");
  return whole ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A new ArrayBuffer holding a copy of `bytes`. */
function ownedCopy(bytes) {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

export function bytesToBuffer(bytes) {
  return ownedCopy(bytesOf(bytes, "bytesToBuffer"));
}

export function bufferToBytes(buffer) {
  return bytesOf(buffer, "bufferToBytes");
}

export function stringToBuffer(text) {
  if (typeof text !== "string") throw Errors.invalidArgument("stringToBuffer", "a string", describe(text));
  return encoder.encode(text).buffer;
}

export function bufferToString(buffer) {
  return decodeUtf8(bytesOf(buffer, "bufferToString"));
}

function decodeUtf8(bytes) {
  // TextDecoder does not read shared memory: copy it first.
  return decoder.decode(types.isSharedArrayBuffer(bytes.buffer) ? bytes.slice() : bytes);
}

export function jsonToBuffer(value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw Errors.notJsonValue(cause.message, cause);
  }
  if (text === undefined) throw Errors.notJsonValue(`JSON cannot write ${describe(value)}`);
  return encoder.encode(text).buffer;
}

export function bufferToJson(buffer) {
  const text = decodeUtf8(bytesOf(buffer, "bufferToJson"));
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw Errors.notJsonText(cause.message, cause);
  }
}

export function numbersToBuffer(numbers) {
  if (types.isBigInt64Array(numbers) || types.isBigUint64Array(numbers)) {
    throw Errors.invalidArgument("numbersToBuffer", "numbers (an array, a typed array of numbers, or an iterable)", describe(numbers));
  }
  if (ArrayBuffer.isView(numbers) && !(numbers instanceof DataView)) return Float64Array.from(numbers).buffer;
  let list = numbers;
  if (!Array.isArray(list)) {
    if (list === null || typeof list?.[Symbol.iterator] !== "function" || typeof list === "string") {
      throw Errors.invalidArgument("numbersToBuffer", "numbers (an array, a typed array of numbers, or an iterable)", describe(numbers));
    }
    list = Array.from(list);
  }
  const out = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const n = list[i];
    if (typeof n === "number") out[i] = n;
    else if (n === undefined && !(i in list)) out[i] = NaN; // a hole
    else throw Errors.invalidArgument("numbersToBuffer", `a number at index ${i}`, describe(n));
  }
  return out.buffer;
}

export function bufferToNumbers(buffer) {
  const bytes = bytesOf(buffer, "bufferToNumbers");
  if (bytes.byteLength % 8 !== 0) throw Errors.notFloat64Length(bytes.byteLength);
  if (bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  return new Float64Array(ownedCopy(bytes));
}
