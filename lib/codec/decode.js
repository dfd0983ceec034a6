// Payload decoder: the inverse of encode.js. Rebuilds the values carried by
// tag nodes (see the wire format there) inside a wire that structured clone
// delivered. Containers are rebuilt in place: the wire belongs to the
// receiver (it is a fresh clone), so decode each wire once.

import { Buffer } from "node:buffer";
import { Envelope } from "../envelope.js";
import { Errors } from "../errors.js";
import { BufferReference } from "../buffer-reference/buffer-reference.js";
import { TAG, ESCAPE, SYMBOL, BUFFER, ERROR, ENVELOPE, REFERENCE, VIEW, SHARED_MEMORY, NUMERIC, GRAPH, TYPED_ARRAYS } from "./encode.js";
import { NumericArray } from "../numeric-array.js";
import { receiveAcross, receiveShared } from "../shared-memory/process-shared-buffer.js";

const { isArray } = Array;
const { getPrototypeOf, keys: objectKeys, defineProperty } = Object;
const ObjectPrototype = Object.prototype;

/**
 * @param {unknown} wire what encode() produced, after structured clone
 * @param {boolean} tagged encode()'s flag; false returns the wire as it is
 */
export function decode(wire, tagged) {
  return tagged ? revive(wire) : wire;
}

/**
 * Objects of the wire revived so far → what they became, in a wire where some
 * are reached more than once (a GRAPH node): each is revived once (a shared
 * memory node is opened once). Undefined otherwise (the usual case).
 */
let visited;

function revive(value) {
  if (typeof value !== "object" || value === null) return value;
  if (isArray(value)) return reviveChildren(value, true);
  const kind = value[TAG];
  if (kind !== undefined) {
    if (visited === undefined) return reviveNode(kind, value);
    let revived = visited.get(value);
    if (revived === undefined) visited.set(value, (revived = reviveNode(kind, value)));
    return revived;
  }
  const proto = getPrototypeOf(value);
  // Anything else (Date, ArrayBuffer, typed arrays, ...) arrived as it was sent.
  return proto === ObjectPrototype || proto === null ? reviveChildren(value, false) : value;
}

/** Revives the children of an array or plain object in place. */
function reviveChildren(container, array) {
  if (visited !== undefined) {
    if (visited.has(container)) return container;
    visited.set(container, container);
  }
  const keys = array ? null : objectKeys(container);
  const length = array ? container.length : keys.length;
  for (let i = 0; i < length; i++) {
    const key = array ? i : keys[i];
    // A hole: from here on, only the elements present (a sparse array costs what it holds).
    if (array && container[i] === undefined && !(i in container)) return reviveSparse(container, i);
    reviveAt(container, key);
  }
  return container;
}

/** The rest of a sparse array from index `from` (a hole), element by element present. */
function reviveSparse(array, from) {
  for (const key of objectKeys(array)) if (+key >= from) reviveAt(array, key);
  return array;
}

function reviveAt(container, key) {
  const item = container[key];
  if (typeof item === "object" && item !== null) {
    const revived = revive(item);
    if (revived !== item) container[key] = revived;
  }
}

function reviveNode(kind, node) {
  switch (kind) {
    case ESCAPE:
      return reviveChildren(node.v, false);
    case SYMBOL:
      return Symbol.for(node.k);
    case BUFFER: {
      const bytes = node.v;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    case ERROR:
      return reviveError(node);
    case ENVELOPE:
      return new Envelope(node.h, revive(node.p));
    case REFERENCE:
      return new BufferReference(node.b);
    case SHARED_MEMORY:
      return node.d === undefined ? receiveShared(node) : receiveAcross(node);
    case GRAPH: {
      const outer = visited;
      visited = new Map();
      try {
        return revive(node.v);
      } finally {
        visited = outer;
      }
    }
    case NUMERIC: {
      // (Reached again through another node with the same block, from a process worker: one NumericArray.)
      let numbers = visited?.get(node.v);
      if (numbers === undefined) {
        numbers = NumericArray.from(node.v);
        visited?.set(node.v, numbers);
      }
      return numbers;
    }
    case VIEW:
      return node.t === "Buffer" ? Buffer.from(node.b) : new (TYPED_ARRAYS.get(node.t))(node.b);
    default:
      throw Errors.corruptPayload(`unknown payload tag ${String(kind)}`);
  }
}

/** The built-in error classes a revived error keeps (as structured clone does). */
const builtinErrors = new Map(
  [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError].map((C) => [C.name, C]),
);

/**
 * An Error with the sender's name, message, stack, cause and code: of the
 * built-in class of that name (TypeError, RangeError, ...), else a plain Error.
 */
function reviveError(node) {
  const ErrorClass = builtinErrors.get(node.n) ?? Error;
  const options = "c" in node ? { cause: revive(node.c) } : undefined;
  const error = ErrorClass === AggregateError ? new AggregateError([], node.m, options) : new ErrorClass(node.m, options);
  if ("e" in node) defineProperty(error, "errors", { value: revive(node.e), writable: true, configurable: true });
  if (node.n !== undefined && node.n !== ErrorClass.name) {
    defineProperty(error, "name", { value: node.n, writable: true, configurable: true });
  }
  defineProperty(error, "stack", { value: node.s, writable: true, configurable: true });
  if ("k" in node) {
    defineProperty(error, "code", { value: revive(node.k), writable: true, enumerable: true, configurable: true });
  }
  return error;
}
