// Payload encoder: turns a call argument or result into a "wire" value that
// structured clone (postMessage) carries intact, plus the ArrayBuffers to move
// in the transfer list. Anything the receiver could not get back exactly is
// refused here, on the sending side, with ERR_KNITTING_UNSUPPORTED_PAYLOAD.
//
// Wire format. Structured clone already keeps primitives, Date, ArrayBuffer,
// SharedArrayBuffer, exact typed arrays and DataView; those travel untouched
// (views that do not cover their whole buffer are copied first, so a sub-view
// never drags its whole buffer along). Everything else travels as a tag node,
// a plain object `{ [TAG]: kind, ...fields }` (kinds below), and user objects
// that happen to own the TAG key are wrapped in an ESCAPE node. A value with
// no tag node encodes as `tagged: false` and decode.js returns it as it is.
//
// A BufferReference may be the whole value or the body of an Envelope that is
// the whole value; its bytes are taken (and the reference released) only after
// the whole value validated, so a refused encode consumes nothing.

import { Buffer } from "node:buffer";
import { types } from "node:util";
import { Errors } from "../errors.js";
import { isEnvelope } from "../envelope.js";
import { NumericArray, isNumericArray } from "../numeric-array.js";
import { isBufferReference, takeBuffer } from "../buffer-reference/buffer-reference.js";
import { describeShared, isProcessSharedBuffer, isSharedMemoryBuffer, sendShared, unsendShared } from "../shared-memory/process-shared-buffer.js";
import { copyInto } from "../native.js";
import { runtime } from "../runtime/runtime.js";
import {
  bufferByteLength, bufferDetached, bufferMaxByteLength, bufferResizable, dataViewBuffer, dataViewByteLength,
  dataViewByteOffset, typedArrayBuffer, typedArrayByteLength, typedArrayByteOffset, typedArrayName,
} from "../intrinsics.js";

/** Key of a tag node. */
export const TAG = "\u0000knitting";
// Tag node kinds and their fields.
export const ESCAPE = 0; //    { v: user object that owns TAG, children encoded }
export const SYMBOL = 1; //    { k: Symbol.keyFor key }
export const BUFFER = 2; //    { v: Uint8Array with exactly the Buffer's bytes }
export const ERROR = 3; //     { n: name, m: message, s: stack, c?: cause wire, k?: code wire, e?: errors wire }
export const ENVELOPE = 4; //  { h: header as is, p: ArrayBuffer | SharedArrayBuffer | REFERENCE or SHARED_MEMORY node }
export const REFERENCE = 5; // { b: ArrayBuffer moved in the transfer list }
export const SHARED_MEMORY = 7; // { i: mapping id (a handle opened in transit), o: byteOffset, l: byteLength }
//                                   to a process worker: { d: { n: name | null, p: pid, f: fd }, o, l } instead of i
export const GRAPH = 9; //     { v: a tagged wire in which an object is reached more than once (revive each once) }
export const NUMERIC = 8; //   { v: Float64Array of a NumericArray's numbers }
export const VIEW = 6; //      { t: typed array class name or "Buffer", b: ArrayBuffer moved in the transfer list }

/**
 * Deno's MessagePort copies a typed array element by element (~50 ns a byte)
 * even when its buffer is in the transfer list, while a bare ArrayBuffer moves
 * at once: there, a large copied view travels as its buffer (a VIEW node) and
 * is rebuilt on arrival.
 */
const VIEWS_AS_BUFFERS = runtime === "deno";

const { isArray } = Array;
const { getPrototypeOf, keys: objectKeys, hasOwn, defineProperty } = Object;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;
const NumericArrayPrototype = NumericArray.prototype;
const {
  isArrayBuffer, isSharedArrayBuffer, isArrayBufferView, isDataView, isDate, isNativeError, isProxy,
  isMap, isSet, isPromise, isWeakMap, isWeakSet, isBoxedPrimitive, isRegExp, isAnyArrayBuffer, isArgumentsObject,
  isModuleNamespaceObject, isGeneratorObject, isMapIterator, isSetIterator,
} = types;
const objectToString = Object.prototype.toString;

/**
 * How deeply values may nest (containers within containers). Both sides
 * encode with the same walk, so arguments and results honour the same limit;
 * deeper values are refused with ERR_KNITTING_UNSUPPORTED_PAYLOAD instead of
 * overflowing a thread's stack (the receiver's included).
 */
export const MAX_DEPTH = 1000;

/** Arrays and objects a value may show before its parts are tracked for repeats (see Walk.copies). */
export const MEMO_AFTER = 64;


/** Typed array classes that structured clone keeps, by their internal name. */
export const TYPED_ARRAYS = new Map(
  [
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    globalThis.Float16Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  ].filter(Boolean).map((Class) => [Class.name, Class]),
);

// ---- entry point ---------------------------------------------------------

/**
 * @param {unknown} value the argument or result to send
 * @param {ArrayBuffer[]} transferList receives the ArrayBuffers to move
 * @param {string} [label] name of the value in error paths ("arg", "result", ...)
 * @param {boolean} [acrossProcesses] the value goes to (or comes from) a process worker: memory of
 *   this process (a BufferReference, a SharedArrayBuffer) is refused, and a ProcessSharedBuffer
 *   travels as what another process needs to map it
 * @returns {{ wire: unknown, tagged: boolean, shared: boolean, json: boolean }} tagged=false: the
 *   receiver can use the wire as it arrives; shared: the wire holds a SharedArrayBuffer (structured
 *   clone shares it); json: JSON.parse(JSON.stringify(wire)) gives the same value back exactly;
 *   copied: bytes copied into buffers of the transfer list (typed arrays of 64 KiB and more);
 *   taken: [reference, its buffer] when a BufferReference was taken (see untakeBuffer)
 * @param {() => void} [beforeTake] runs once the value is valid, just before a BufferReference in
 *   it is taken (it may throw: the pool checks that reading the value did not shut it down)
 */
export function encode(value, transferList, label = "arg", acrossProcesses = false, beforeTake = undefined) {
  const type = typeof value;
  if (value === null || (type !== "object" && type !== "symbol" && type !== "function")) {
    return { wire: value, tagged: false, shared: false, json: false, copied: 0 };
  }
  const walk = acquire();
  walk.transfer = transferList;
  walk.acrossProcesses = acrossProcesses;
  try {
    if (isBufferReference(value)) {
      if (acrossProcesses) throw processBoundary("A BufferReference");
      if (value.released) throw new Rejection((at) => Errors.releasedPayload(at));
      beforeTake?.();
      const node = referenceNode(value, transferList);
      return { wire: node, tagged: true, shared: false, json: false, copied: 0, taken: [value, node.b] };
    }
    if (isEnvelope(value)) {
      const node = envelopeNode(value, walk, true);
      let taken;
      if (isBufferReference(node.p)) {
        beforeTake?.();
        const ref = node.p;
        node.p = referenceNode(ref, transferList);
        taken = [ref, node.p.b];
      }
      return { wire: node, tagged: true, shared: walk.shared, json: false, copied: walk.copied, taken };
    }
    let wire = encodeValue(value, walk);
    // A getter may have given the prototypes a toJSON meanwhile.
    if (ObjectPrototype.toJSON !== undefined || ArrayPrototype.toJSON !== undefined) walk.json = false;
    if (walk.repeats && walk.tagged) wire = { [TAG]: GRAPH, v: wire };
    return { wire, tagged: walk.tagged, shared: walk.shared, json: walk.json && !walk.tagged, copied: walk.copied };
  } catch (error) {
    // Handles opened for shared memory in this value travel nowhere.
    for (const node of walk.inTransit ?? []) unsendShared(node);
    if (error instanceof Rejection) throw error.make(formatPath(label, error.path));
    throw error;
  } finally {
    walk.inTransit = undefined;
    release(walk);
  }
}

/** A ProcessSharedBuffer: its mapping's id and range (a handle travels with the message); to a process, how to map it. */
function sharedMemoryNode(psb, walk) {
  if (walk.acrossProcesses) {
    const across = describeShared(psb);
    if (across === undefined) throw new Rejection((at) => Errors.closedSharedMemoryPayload(at));
    walk.tagged = true;
    return { [TAG]: SHARED_MEMORY, ...across };
  }
  const node = sendShared(psb);
  if (node === undefined) throw new Rejection((at) => Errors.closedSharedMemoryPayload(at));
  (walk.inTransit ??= []).push(node);
  walk.tagged = true;
  return { [TAG]: SHARED_MEMORY, ...node };
}

/** A NumericArray: its elements, read once, as one Float64 block. Anything but a number (a hole too) is refused. */
function numericNode(array, walk) {
  const length = array.length;
  const numbers = [];
  for (let i = 0; i < length; i++) {
    const item = array[i];
    if (typeof item !== "number") throw withKey(new Rejection((at) => Errors.notANumber(typeName(item), at)), i);
    numbers.push(item);
  }
  walk.json = false;
  walk.tagged = true;
  if (length * 8 >= ENGINE_COPY_MIN) walk.bulk += length * 8;
  return { [TAG]: NUMERIC, v: Float64Array.from(numbers) };
}

/** A refusal: `what` points into this process's memory, which a process worker cannot reach. */
function processBoundary(what) {
  return new Rejection((at) => Errors.processBoundary(what, at));
}

/** Refuses shared memory of this process on its way to another one. */
function refuseSharedAcross(walk) {
  if (walk.acrossProcesses) throw processBoundary("A SharedArrayBuffer");
  walk.shared = true;
}

/** Takes the bytes of a validated reference (leaving it released) for the transfer list. */
function referenceNode(ref, transferList) {
  const buffer = takeBuffer(ref);
  transferList.push(buffer);
  return { [TAG]: REFERENCE, b: buffer };
}

// ---- walk state: cycle detection and refusals with a path -----------------

/** A refusal on its way up; each container adds its key, encode() builds the Error. */
class Rejection {
  constructor(make) {
    this.make = make;
    this.path = [];
  }
}

function withKey(error, key) {
  if (error instanceof Rejection) error.path.push(key);
  return error;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** The path as code (arg.items[2].name); a very long one keeps its first and last keys. */
function formatPath(label, path) {
  const segment = (key) => (typeof key === "number" ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
  const keys = path.toReversed();
  if (keys.length <= 12) return label + keys.map(segment).join("");
  return `${label}${keys.slice(0, 6).map(segment).join("")}…(${keys.length - 10} more)…${keys.slice(-4).map(segment).join("")}`;
}

// Containers being walked. The first LINEAR ancestors are scanned, deeper ones
// also go in a Set, so shallow payloads (the usual case) allocate nothing.
const LINEAR = 32;
class Walk {
  stack = [];
  depth = 0;
  deep = null;
  tagged = false;
  /** A SharedArrayBuffer is part of the value. */
  shared = false;
  /** Only plain objects, arrays, strings, booleans, null and finite numbers other than -0 so far. */
  json = true;
  /** Bytes copied into fresh buffers that travel in the transfer list (engine copies). */
  copied = 0;
  inheritedKeys = false;
  /** The caller's transfer list (engine copies are moved with it). */
  transfer = null;
  /** SHARED_MEMORY nodes of this value: each holds a handle opened for the message. */
  inTransit = undefined;
  acrossProcesses = false;
  /**
   * Objects encoded so far → their copies (wire nodes), once the value has
   * shown more than MEMO_AFTER objects, and large copies (64 KiB and more) in
   * any value: one reached again is then the same copy (it arrives as one
   * object), so a value whose parts share parts costs its size, not the
   * number of paths through it. Small values skip the map (it would double
   * their cost); a part they repeat is copied again, as JSON does. Envelope
   * headers have their own map (their copies are not wire nodes).
   */
  copies = new Map();
  headerCopies = new Map();
  /** Whether `copies` holds anything (cheaper to test than its size). */
  tracking = false;
  /** Objects visited so far (headers' included). */
  visits = 0;
  /** Bytes of large copies made (64 KiB or more each: engine copies, NumericArray blocks). */
  bulk = 0;
  /** An object was reached more than once. */
  repeats = false;
}
let spare = null;
function acquire() {
  const walk = spare ?? new Walk();
  spare = null;
  walk.inheritedKeys = hasEnumerableKeys(ObjectPrototype);
  // JSON.stringify would call a toJSON someone added to these prototypes.
  walk.json = ObjectPrototype.toJSON === undefined && ArrayPrototype.toJSON === undefined;
  return walk;
}
function hasEnumerableKeys(object) {
  for (const _ in object) return true;
  return false;
}
function release(walk) {
  if (walk.depth !== 0) walk.stack = [];
  walk.depth = 0;
  walk.deep = null;
  walk.tagged = false;
  walk.shared = false;
  walk.json = true;
  walk.copied = 0;
  walk.transfer = null;
  walk.acrossProcesses = false;
  if (walk.tracking) walk.copies.clear();
  walk.tracking = false;
  if (walk.headerCopies.size > 0) walk.headerCopies.clear();
  walk.visits = 0;
  walk.bulk = 0;
  walk.repeats = false;
  spare = walk;
}

function enter(walk, object) {
  const { stack, depth } = walk;
  if (depth >= MAX_DEPTH) throw new Rejection((at) => Errors.tooDeep(at, MAX_DEPTH));
  for (let i = 0, n = depth < LINEAR ? depth : LINEAR; i < n; i++) {
    if (stack[i] === object) throw new Rejection((at) => Errors.circularPayload(at));
  }
  if (depth >= LINEAR) {
    walk.deep ??= new Set();
    if (walk.deep.has(object)) throw new Rejection((at) => Errors.circularPayload(at));
    walk.deep.add(object);
  }
  stack[depth] = object;
  walk.depth = depth + 1;
}

function leave(walk) {
  const depth = --walk.depth;
  if (depth >= LINEAR) walk.deep.delete(walk.stack[depth]);
  walk.stack[depth] = undefined;
}

/** Pops what a refused sub-walk left on the stack. */
function unwind(walk, depth) {
  while (walk.depth > depth) leave(walk);
}

// ---- values --------------------------------------------------------------

function encodeValue(value, walk) {
  switch (typeof value) {
    case "object":
      return value === null ? value : encodeObject(value, walk);
    case "symbol":
      return symbolNode(value, walk);
    case "function": {
      const name = read(value, "name");
      throw new Rejection((at) => Errors.functionPayload(typeof name === "string" ? name : "", at));
    }
    case "string":
    case "boolean":
      return value;
    case "number":
      // NaN, ±Infinity and -0 do not survive JSON.
      if (value !== value || value === Infinity || value === -Infinity || (value === 0 && 1 / value < 0)) walk.json = false;
      return value;
    default:
      walk.json = false; // undefined (also array holes), bigint
      return value;
  }
}

function encodeObject(object, walk) {
  if (isProxy(object)) throw unsupported(object); // (before anything that could run its traps)
  // Past MEMO_AFTER objects (or once a large copy was made), an object reached
  // again is its first copy (see Walk.copies).
  const memo = ++walk.visits > MEMO_AFTER;
  if (walk.tracking) {
    const known = walk.copies.get(object);
    if (known !== undefined) return repeated(known, walk);
  }
  const bulkBefore = walk.bulk;
  const copy = encodeFresh(object, walk);
  // (A large copy is worth tracking in any value: a buffer of 64 KiB or more reached 2,000 times.)
  if (memo || walk.bulk !== bulkBefore) {
    walk.copies.set(object, copy);
    walk.tracking = true;
  }
  return copy;
}

function encodeFresh(object, walk) {
  if (isArray(object)) {
    const proto = getPrototypeOf(object);
    if (proto === NumericArrayPrototype && isNumericArray(object)) return numericNode(object, walk);
    if (proto !== ArrayPrototype) throw unsupported(object);
    return encodeArray(object, walk);
  }
  const proto = getPrototypeOf(object);
  if (proto === ObjectPrototype || proto === null) {
    // An object whose prototype says "plain" can still be a Map, a Date, an
    // arguments object... with its prototype replaced: copying its own keys
    // would silently turn it into something else.
    if (isExotic(object)) throw exotic(object);
    return encodePlain(object, walk);
  }
  walk.json = false;
  if (isArrayBufferView(object)) return isDataView(object) ? copyDataView(object, proto, walk) : copyTypedArray(object, proto, walk);
  if (isArrayBuffer(object)) {
    if (proto !== ArrayBuffer.prototype) throw unsupported(object);
    if (bufferDetached.call(object)) throw new Rejection((at) => Errors.detachedPayload(at));
    // (A ProcessSharedBuffer's engine buffer travels as a copy: see isSharedMemoryBuffer.)
    if (bufferByteLength.call(object) < ENGINE_COPY_MIN) return isSharedMemoryBuffer(object) ? object.slice(0) : object;
    return engineCopy(new Uint8Array(object), walk, bufferResizable.call(object) ? bufferMaxByteLength.call(object) : undefined);
  }
  if (isSharedArrayBuffer(object)) {
    if (proto !== SharedArrayBuffer.prototype) throw unsupported(object);
    refuseSharedAcross(walk);
    return object;
  }
  if (isDate(object)) {
    if (proto !== Date.prototype) throw unsupported(object);
    return object;
  }
  if (isEnvelope(object)) return envelopeNode(object, walk, false);
  if (isBufferReference(object)) throw walk.acrossProcesses ? processBoundary("A BufferReference") : new Rejection((at) => Errors.nestedBufferReference(at));
  if (isProcessSharedBuffer(object)) return sharedMemoryNode(object, walk);
  if (isNativeError(object) || object instanceof Error) return errorNode(object, walk);
  throw unsupported(object);
}

/**
 * Whether an object with a plain prototype is in fact not an ordinary object.
 * Object.prototype.toString names most (arguments, Date, RegExp, Error, boxed
 * primitives) unless a Symbol.toStringTag says "Object": then the engine's
 * brand checks decide (they cost more, so only then).
 */
function isExotic(object) {
  if (
    objectToString.call(object) !== "[object Object]" ||
    isMap(object) || isSet(object) || isWeakMap(object) || isWeakSet(object) || isPromise(object) ||
    isAnyArrayBuffer(object) || isArrayBufferView(object) || object instanceof WeakRef
  ) return true;
  if (
    object[toStringTag] !== undefined &&
    (isArgumentsObject(object) || isDate(object) || isRegExp(object) || isBoxedPrimitive(object) || isNativeError(object) ||
      isModuleNamespaceObject(object) || isGeneratorObject(object) || isMapIterator(object) || isSetIterator(object))
  ) return true;
  return getPrototypeOf(object) === null && isWeak(object);
}

const toStringTag = Symbol.toStringTag;
const { deref } = WeakRef.prototype;
const { unregister } = FinalizationRegistry.prototype;
const UNREGISTERED = {};
/**
 * A WeakRef or FinalizationRegistry whose prototype was taken away (only the
 * engine's own brand checks know; they throw, so this runs only for objects
 * with a null prototype, which are rare).
 */
function isWeak(object) {
  try {
    deref.call(object);
    return true;
  } catch {}
  try {
    unregister.call(object, UNREGISTERED);
    return true;
  } catch {}
  return false;
}

/**
 * A fresh array with the encoded elements, each read once (what was checked
 * is what travels). Holes stay holes; from the first hole on, only the
 * elements present are visited, so a sparse array costs what it holds, not
 * its length. Named properties on an array are not part of it (as for
 * typed arrays and Dates): they are not sent.
 */
function encodeArray(array, walk) {
  enter(walk, array);
  const length = array.length;
  const copy = [];
  let i = 0;
  try {
    for (; i < length; i++) {
      const item = array[i];
      if (item === undefined && !(i in array)) {
        encodeSparse(array, copy, i, walk);
        break;
      }
      copy.push(encodeValue(item, walk));
    }
  } catch (error) {
    throw withKey(error, i);
  }
  leave(walk);
  return copy;
}

/** An object reached again: its first copy, which JSON could not keep as one. */
function repeated(copy, walk) {
  walk.repeats = true;
  walk.json = false;
  return copy;
}

/** The rest of `array` from index `from` (a hole), element by element present. */
function encodeSparse(array, copy, from, walk) {
  walk.json = false; // JSON would turn the holes into nulls
  const length = array.length;
  let index = from;
  try {
    // The indices present, ascending, then any named keys (which stop the loop).
    for (const key of objectKeys(array)) {
      index = arrayIndex(key);
      if (index < 0) break;
      if (index >= from) copy[index] = encodeValue(array[index], walk);
    }
  } catch (error) {
    throw withKey(error, index);
  }
  copy.length = length;
}

/** The array index a property key names, or -1 (not an index). */
function arrayIndex(key) {
  const n = +key;
  return n >= 0 && n < 4294967295 && Number.isInteger(n) && String(n) === key ? n : -1;
}

/** A fresh object with the encoded values of `object`'s enumerable string keys, each read once. */
function encodePlain(object, walk) {
  enter(walk, object);
  // for-in (no key array) is the fast way to list keys; it also lists inherited
  // enumerable keys, which only exist if someone added some to Object.prototype.
  const inherited = walk.inheritedKeys && getPrototypeOf(object) !== null;
  const copy = {};
  let escape = false;
  let key;
  try {
    for (key in object) {
      if (inherited && !hasOwn(object, key)) continue;
      if (key === TAG) escape = true;
      setKey(copy, key, encodeValue(object[key], walk));
    }
  } catch (error) {
    throw withKey(error, key);
  }
  leave(walk);
  const result = escape ? { [TAG]: ESCAPE, v: copy } : copy;
  if (escape) walk.tagged = true;
  return result;
}

/** copy[key] = value, also for an own "__proto__" key. */
function setKey(copy, key, value) {
  if (key === "__proto__") defineProperty(copy, key, { value, writable: true, enumerable: true, configurable: true });
  else copy[key] = value;
}

function symbolNode(symbol, walk) {
  const key = Symbol.keyFor(symbol);
  if (key === undefined) throw new Rejection((at) => Errors.localSymbol(at));
  walk.tagged = true;
  return { [TAG]: SYMBOL, k: key };
}

// ---- binary data: copied, never moved --------------------------------------

/** True when `buffer` is a fixed-length ArrayBuffer of exactly `offset + length` bytes from 0. */
function coversWhole(buffer, offset, length) {
  return offset === 0 && !isSharedArrayBuffer(buffer) && !bufferResizable.call(buffer) && bufferByteLength.call(buffer) === length && !isSharedMemoryBuffer(buffer);
}

function checkAttached(buffer) {
  if (!isSharedArrayBuffer(buffer) && bufferDetached.call(buffer)) {
    throw new Rejection((at) => Errors.detachedPayload(at));
  }
}

/**
 * From this size on, a copied value is copied once by the native copy engine
 * (in parallel when large) into a fresh ArrayBuffer that is then moved with the
 * transfer list, instead of being copied twice by structured clone.
 */
export const ENGINE_COPY_MIN = 64 * 1024;

/**
 * A fresh ArrayBuffer with the bytes of `bytes` (non-shared), moved with the
 * transfer list; resizable up to `maxByteLength` when given (as the source was).
 */
function engineCopy(bytes, walk, maxByteLength) {
  const target = maxByteLength === undefined ? new ArrayBuffer(bytes.byteLength) : new ArrayBuffer(bytes.byteLength, { maxByteLength });
  copyInto(bytes, target);
  walk.copied += bytes.byteLength;
  walk.bulk += bytes.byteLength;
  walk.transfer.push(target);
  return target;
}

function copyTypedArray(view, proto, walk) {
  const Class = TYPED_ARRAYS.get(typedArrayName.call(view));
  const isBuffer = proto === Buffer.prototype;
  if (Class === undefined || (!isBuffer && proto !== Class.prototype)) throw unsupported(view);
  const buffer = typedArrayBuffer.call(view);
  if (isSharedArrayBuffer(buffer)) {
    // A view of shared memory is shared, as the SharedArrayBuffer itself is.
    refuseSharedAcross(walk);
    if (!isBuffer) return view;
    walk.tagged = true;
    return { [TAG]: BUFFER, v: new Uint8Array(buffer, typedArrayByteOffset.call(view), typedArrayByteLength.call(view)) };
  }
  checkAttached(buffer);
  const offset = typedArrayByteOffset.call(view);
  const byteLength = typedArrayByteLength.call(view);
  if (byteLength >= ENGINE_COPY_MIN && !isSharedArrayBuffer(buffer)) {
    const copy = engineCopy(new Uint8Array(buffer, offset, byteLength), walk);
    if (VIEWS_AS_BUFFERS) {
      walk.tagged = true;
      return { [TAG]: VIEW, t: isBuffer ? "Buffer" : Class.name, b: copy };
    }
    if (!isBuffer) return new Class(copy);
    walk.tagged = true;
    return { [TAG]: BUFFER, v: new Uint8Array(copy) };
  }
  const whole = coversWhole(buffer, offset, byteLength);
  if (!isBuffer) return whole ? view : new Class(view);
  walk.tagged = true;
  return { [TAG]: BUFFER, v: whole ? view : new Uint8Array(view) };
}

function copyDataView(view, proto, walk) {
  if (proto !== DataView.prototype) throw unsupported(view);
  const buffer = dataViewBuffer.call(view);
  if (isSharedArrayBuffer(buffer)) {
    refuseSharedAcross(walk);
    return view;
  }
  checkAttached(buffer);
  const offset = dataViewByteOffset.call(view);
  const length = dataViewByteLength.call(view);
  if (length >= ENGINE_COPY_MIN && !isSharedArrayBuffer(buffer)) {
    return new DataView(engineCopy(new Uint8Array(buffer, offset, length), walk));
  }
  if (coversWhole(buffer, offset, length)) return view;
  const bytes = new Uint8Array(length);
  bytes.set(new Uint8Array(buffer, offset, length));
  return new DataView(bytes.buffer);
}

// ---- Error ---------------------------------------------------------------

/** Encodes name, message, stack, cause and code explicitly. Never refuses: unsupported parts become strings. */
function errorNode(error, walk) {
  enter(walk, error);
  const node = { [TAG]: ERROR, n: readString(error, "name"), m: readString(error, "message") ?? "", s: readString(error, "stack") };
  if (has(error, "cause")) node.c = encodeOrString(read(error, "cause"), walk);
  if (has(error, "code")) node.k = encodeOrString(read(error, "code"), walk);
  if (has(error, "errors")) node.e = encodeOrString(read(error, "errors"), walk); // an AggregateError's
  leave(walk);
  walk.tagged = true;
  return node;
}

function has(object, key) {
  try {
    return key in object;
  } catch {
    return false;
  }
}

function read(object, key) {
  try {
    return object[key];
  } catch {
    return undefined;
  }
}

function readString(object, key) {
  const value = read(object, key);
  return value === undefined || typeof value === "string" ? value : toString(value);
}

function toString(value) {
  try {
    return String(value);
  } catch {
    try {
      return objectToString.call(value);
    } catch {
      return isProxy(value) ? "[object Proxy]" : `[${typeof value}]`; // a revoked Proxy
    }
  }
}

function encodeOrString(value, walk) {
  const depth = walk.depth;
  try {
    return encodeValue(value, walk);
  } catch {
    unwind(walk, depth);
    return toString(value);
  }
}

// ---- Envelope ------------------------------------------------------------

/**
 * Validates an envelope and copies its header (read once: the header that
 * travels is the one that was checked). A BufferReference body (top level
 * only) is left in `p` for encode() to take.
 */
function envelopeNode(envelope, walk, top) {
  const header = envelope.header;
  const payload = envelope.payload;
  let copy;
  try {
    copy = copyHeader(header, walk, true);
  } catch (error) {
    throw withKey(error, "header");
  }
  if (isArrayBuffer(payload)) {
    if (bufferDetached.call(payload)) throw withKey(new Rejection((at) => Errors.detachedPayload(at)), "payload");
  } else if (isBufferReference(payload)) {
    if (walk.acrossProcesses) throw withKey(processBoundary("A BufferReference"), "payload");
    if (!top) throw withKey(new Rejection((at) => Errors.nestedBufferReference(at)), "payload");
    if (payload.released) throw withKey(new Rejection((at) => Errors.releasedPayload(at)), "payload");
  } else if (isSharedArrayBuffer(payload)) {
    if (walk.acrossProcesses) throw withKey(processBoundary("A SharedArrayBuffer"), "payload");
    walk.shared = true;
  } else if (isProcessSharedBuffer(payload)) {
    let node;
    try {
      node = sharedMemoryNode(payload, walk);
    } catch (error) {
      throw withKey(error, "payload");
    }
    walk.tagged = true;
    return { [TAG]: ENVELOPE, h: copy, p: node };
  } else {
    const type = typeName(payload);
    throw withKey(new Rejection((at) => Errors.envelopePayload(type, at)), "payload");
  }
  walk.tagged = true;
  return { [TAG]: ENVELOPE, h: copy, p: payload };
}

/**
 * A copy of a header: string, number, boolean, null, and arrays and plain
 * objects of those (undefined only nested, as JSON drops it).
 */
function copyHeader(value, walk, top) {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value;
    case "undefined":
      if (!top) return value;
      break;
    case "object": {
      if (value === null) return value;
      if (isProxy(value)) break;
      const array = isArray(value);
      const proto = getPrototypeOf(value);
      if (array ? proto !== ArrayPrototype : (proto !== ObjectPrototype && proto !== null) || isExotic(value)) break;
      const memo = ++walk.visits > MEMO_AFTER;
      if (memo) {
        const known = walk.headerCopies.get(value);
        if (known !== undefined) return repeated(known, walk);
      }
      enter(walk, value);
      const keys = objectKeys(value);
      const copy = array ? [] : {};
      if (array) copy.length = value.length; // (trailing holes stay)
      let i = 0;
      try {
        for (; i < keys.length; i++) setKey(copy, keys[i], copyHeader(value[keys[i]], walk, false));
      } catch (error) {
        throw withKey(error, array ? +keys[i] : keys[i]);
      }
      leave(walk);
      if (memo) walk.headerCopies.set(value, copy);
      return copy;
    }
  }
  const type = typeName(value);
  throw new Rejection((at) => Errors.envelopeHeader(type, at));
}

// ---- refusals ------------------------------------------------------------

function typeName(value) {
  if (value === null) return "null";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value !== "object") return typeof value;
  if (isProxy(value)) return "Proxy";
  const constructor = read(value, "constructor");
  if (typeof constructor === "function" && typeof constructor.name === "string" && constructor.name) return constructor.name;
  const tag = read(value, Symbol.toStringTag);
  return typeof tag === "string" && tag ? tag : "object";
}

function insteadOf(object) {
  if (isProxy(object)) return "send the target object, or a plain copy of it";
  if (isMap(object)) return "convert it to a plain object or array (Object.fromEntries(map) or [...map])";
  if (isSet(object)) return "convert it to an array ([...set])";
  if (isPromise(object)) return "await it first and send the value it resolves to";
  if (isWeakMap(object) || isWeakSet(object) || object instanceof WeakRef) {
    return "weak references cannot be copied to another thread; send the data itself as a plain object or array";
  }
  if (isBoxedPrimitive(object)) return "send the primitive value instead (value.valueOf())";
  if (isRegExp(object)) return "send its source and flags as strings";
  if (object instanceof Blob) return "read its bytes first (await blob.arrayBuffer()) and send the ArrayBuffer";
  if (isArrayBufferView(object)) return "send a plain typed array, Buffer or DataView instead of a subclass";
  return "convert it to a plain object or array (for a class instance, copy the fields you need)";
}

/** A refusal of an object that is not what its plain prototype says. */
function exotic(object) {
  const kind = isArgumentsObject(object) ? "an arguments object" : `a ${exoticKind(object)} whose prototype was replaced`;
  const instead = isArgumentsObject(object)
    ? "send an array of the arguments instead (Array.from(arguments) or a rest parameter)"
    : "send it with its own prototype, or convert it to a plain object or array";
  return new Rejection((at) => Errors.unsupportedPayload(kind, at, instead));
}

function exoticKind(object) {
  if (isMap(object)) return "Map";
  if (isSet(object)) return "Set";
  if (isWeakMap(object)) return "WeakMap";
  if (isWeakSet(object)) return "WeakSet";
  if (isPromise(object)) return "Promise";
  if (isAnyArrayBuffer(object)) return "ArrayBuffer";
  if (isArrayBufferView(object)) return "typed array or DataView";
  if (object instanceof WeakRef || isWeak(object)) return "WeakRef or FinalizationRegistry";
  if (isDate(object)) return "Date";
  if (isRegExp(object)) return "RegExp";
  if (isBoxedPrimitive(object)) return "boxed primitive";
  if (isNativeError(object)) return "Error object";
  if (isModuleNamespaceObject(object)) return "module namespace";
  return objectToString.call(object).slice(8, -1);
}

function unsupported(object) {
  const type = typeName(object);
  const instead = insteadOf(object);
  return new Rejection((at) => Errors.unsupportedPayload(type, at, instead));
}
