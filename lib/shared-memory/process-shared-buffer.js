// ProcessSharedBuffer (knitting/shared-memory): bytes in OS shared memory
// that every thread and process mapping them sees. The native half
// (src/bindings/shared_memory.rs) creates and maps the object and hands out
// one engine buffer per mapping; the bytes are never copied.
//
// A mapping is what `create`, `fromMetadata` and `fromDescriptor` open; each
// ProcessSharedBuffer is a range of one (`subbuffer` makes more). Closing the
// mapping (`psb.descriptor.mapping.close()`) detaches every view this thread
// took from it: they read as length 0, never unmapped memory. The memory
// itself is unmapped once no handle is open and no view can reach it.
import { NativeSharedMemory, releaseSharedMemory, retainSharedMemory, sharedMemoryStats, unlinkSharedMemory } from "../native.js";
import { Errors, describe } from "../errors.js";
import { runtime } from "../runtime/runtime.js";
import { inProcessWorker } from "../runtime/is-main.js";

const METADATA_VERSION = 1;
/** %TypedArray%: the constructor every typed array class extends. */
const TypedArray = Object.getPrototypeOf(Uint8Array);
const MODES = ["anonymous", "create", "open"];

/** Turns a native failure into a coded error; passes ours through. */
function native(what, fn) {
  try {
    return fn();
  } catch (cause) {
    if (typeof cause?.code === "string" && cause.code.startsWith("ERR_KNITTING_")) throw cause;
    throw Errors.sharedMemoryFailed(what, cause);
  }
}

/** Engine buffers over shared memory (their views detach when the mapping closes). */
const aliases = new WeakSet();

/**
 * Whether `buffer` is the engine buffer of a ProcessSharedBuffer's mapping:
 * the codec copies views of it (a worker closes what a call brought before
 * its result is read, so a view passed by reference would arrive detached).
 */
export function isSharedMemoryBuffer(buffer) {
  return aliases.has(buffer);
}

/** One mapping of a shared-memory object in this thread, and its one engine buffer. */
class Mapping {
  #native;
  #buffer;
  /** How the process that sent this mapping across described it (see describeShared). */
  origin = undefined;

  constructor(nativeHandle) {
    this.#native = nativeHandle;
  }

  get closed() {
    return this.#native.closed;
  }

  /** The engine buffer over the whole mapping (made on first use). */
  buffer() {
    if (this.#native.closed) throw Errors.sharedMemoryClosed();
    if (this.#buffer === undefined) {
      this.#buffer = this.#native.alias();
      aliases.add(this.#buffer);
    }
    return this.#buffer;
  }

  /** What the descriptor says of this mapping. */
  describe() {
    const n = this.#native;
    return { fd: n.fd, name: n.name ?? null, size: n.byteLength, byteLength: n.byteLength, runtime, kind: n.kind };
  }

  /** Which object this is ("device:inode"), for another process to check what it opens. */
  get identity() {
    return this.#native.identity;
  }

  /** The registry id (for handing the mapping to another thread of this process). */
  get id() {
    return this.#native.id;
  }

  /** The native handle's futex operations (offsets in bytes from the mapping's start). */
  futex() {
    if (this.#native.closed) throw Errors.sharedMemoryClosed();
    return this.#native;
  }

  /** Detaches every view of this mapping taken in this thread and closes it. Idempotent. */
  close() {
    this.#native.close();
    this.#buffer = undefined;
  }
}

// ---- primitives (replaceable, as in the established library) ----

const defaultPrimitives = Object.freeze({
  /** A new object: `{ size, mode: "anonymous" | "create", name? }` → a mapping. */
  createSharedMemory: ({ size, mode, name }) =>
    native(`create shared memory (${mode})`, () =>
      new Mapping(mode === "create" ? NativeSharedMemory.createNamed(name, size) : NativeSharedMemory.createAnonymous(size)),
    ),
  /** An existing object: `{ name }` or `{ fd }` → a mapping. */
  mapSharedMemory: ({ name, fd }) =>
    native(`map shared memory ${name ?? `fd ${fd}`}`, () =>
      new Mapping(name != null ? NativeSharedMemory.openNamed(name) : NativeSharedMemory.openFd(fd)),
    ),
  /** Removes a name (existing mappings stay). */
  unlinkSharedMemory: (name) => native(`unlink shared memory ${name}`, () => unlinkSharedMemory(checkName(name))),
});
let primitives = defaultPrimitives;

/** The primitives ProcessSharedBuffer uses to create, map and unlink objects. */
export function getDefaultProcessSharedBufferPrimitives() {
  return primitives;
}

/** Replaces some or all primitives (`undefined` restores the defaults). */
export function setDefaultProcessSharedBufferPrimitives(replacement) {
  if (replacement === undefined) {
    primitives = defaultPrimitives;
    return;
  }
  if (replacement === null || typeof replacement !== "object") throw Errors.invalidArgument("the primitives", "an object of functions", describe(replacement));
  for (const key of Object.keys(replacement)) {
    if (!(key in defaultPrimitives)) throw Errors.invalidArgument(`primitive "${key}"`, `one of ${Object.keys(defaultPrimitives).join(", ")}`, "an unknown key");
    if (typeof replacement[key] !== "function") throw Errors.invalidArgument(`primitive "${key}"`, "a function", describe(replacement[key]));
  }
  primitives = Object.freeze({ ...defaultPrimitives, ...replacement });
}

/** Replacement primitives return what the default ones do (they may wrap them). */
function checkMapping(mapping) {
  if (!(mapping instanceof Mapping)) throw Errors.invalidArgument("a shared-memory primitive", "to return the mapping a default primitive returned (wrap the defaults)", describe(mapping));
  return mapping;
}

function checkName(name) {
  if (typeof name !== "string" || name.replace(/^\//, "") === "" || name.includes("\0") || name.slice(1).includes("/")) {
    throw Errors.invalidArgument("a shared-memory name", "a non-empty string without NUL or '/' (one leading '/' allowed)", describe(name));
  }
  return name;
}

function checkSize(size) {
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
    throw Errors.invalidArgument("size", "a whole number of bytes, 1 or more", describe(size));
  }
  return size;
}

// ---- ProcessSharedBuffer ----

const brand = new WeakSet();
/** (psb) => [mapping, byteOffset, byteLength]: for the codec helpers below (set in the class's static block). */
let partsOf;

export class ProcessSharedBuffer {
  #mapping;
  #byteOffset;
  #byteLength;

  static {
    partsOf = (psb) => [psb.#mapping, psb.#byteOffset, psb.#byteLength];
  }

  /** Use ProcessSharedBuffer.create / fromMetadata / fromDescriptor. */
  constructor(mapping, byteOffset, byteLength) {
    if (!(mapping instanceof Mapping)) throw Errors.invalidArgument("new ProcessSharedBuffer()", "to be called through ProcessSharedBuffer.create, fromMetadata or fromDescriptor", "a direct call");
    this.#mapping = mapping;
    this.#byteOffset = byteOffset;
    this.#byteLength = byteLength;
    brand.add(this);
  }

  /**
   * A new buffer: `create(size)` or `create({ size, mode = "anonymous", name })`.
   * `"anonymous"` makes an object only descriptors reach; `"create"` a named
   * one (fails if the name exists); `"open"` maps the named object `name`.
   * Sizes are rounded up to 64 bytes.
   */
  static create(options) {
    const { size, mode = "anonymous", name } = typeof options === "number" ? { size: options } : (options ?? {});
    if (!MODES.includes(mode)) throw Errors.invalidArgument("mode", `one of ${MODES.join(", ")}`, describe(mode));
    let mapping;
    if (mode === "open") mapping = checkMapping(primitives.mapSharedMemory({ name: checkName(name) }));
    else mapping = checkMapping(primitives.createSharedMemory({ size: checkSize(size), mode, name: mode === "create" ? checkName(name) : undefined }));
    const { size: mapped } = mapping.describe();
    return new ProcessSharedBuffer(mapping, 0, mode === "open" || size === undefined ? mapped : Math.min(size, mapped));
  }

  /** Maps what `toMetadata()` described (in this or another process: by name, or by a descriptor this process holds). */
  static fromMetadata(metadata) {
    if (metadata === null || typeof metadata !== "object" || metadata.version !== METADATA_VERSION || typeof metadata.descriptor !== "object") {
      throw Errors.invalidArgument("fromMetadata()", `what toMetadata() returns ({ version: ${METADATA_VERSION}, descriptor, byteOffset, byteLength })`, describe(metadata));
    }
    return ProcessSharedBuffer.fromDescriptor(metadata.descriptor, metadata);
  }

  /** `fromMetadata(JSON.parse(json))`. */
  static parse(json) {
    return ProcessSharedBuffer.fromMetadata(JSON.parse(json));
  }

  /** Maps the object a descriptor names (`{ name }` or `{ fd }`), the range `{ byteOffset, byteLength }` of it. */
  static fromDescriptor(descriptor, { byteOffset = 0, byteLength } = {}) {
    const { name, fd } = descriptor ?? {};
    if (name == null && !Number.isInteger(fd)) throw Errors.invalidArgument("a descriptor", "an object with a name or an fd", describe(descriptor));
    const mapping = checkMapping(primitives.mapSharedMemory(name != null ? { name: checkName(name) } : { fd }));
    const size = mapping.describe().size;
    const length = byteLength ?? size - byteOffset;
    checkRange(byteOffset, length, size);
    return new ProcessSharedBuffer(mapping, byteOffset, length);
  }

  /** Another view of the same memory: `length` bytes (default: to the end) from `offset` of this one. */
  subbuffer(offset, length) {
    ownedBy(this, "subbuffer");
    const byteLength = length ?? this.#byteLength - offset;
    checkRange(offset, byteLength, this.#byteLength);
    return new ProcessSharedBuffer(this.#mapping, this.#byteOffset + offset, byteLength);
  }

  get byteOffset() {
    ownedBy(this, "byteOffset");
    return this.#byteOffset;
  }

  get byteLength() {
    ownedBy(this, "byteLength");
    return this.#byteLength;
  }

  /** The object's size in bytes (the whole mapping). */
  get size() {
    ownedBy(this, "size");
    return this.#mapping.describe().size;
  }

  /** Its descriptor in this process (-1 once closed). */
  get fd() {
    ownedBy(this, "fd");
    return this.#mapping.describe().fd;
  }

  /** `{ fd, name, size, byteLength, runtime, kind, mapping: { close() } }`. */
  get descriptor() {
    ownedBy(this, "descriptor");
    const mapping = this.#mapping;
    return { ...mapping.describe(), mapping: { close: () => mapping.close(), get closed() { return mapping.closed; } } };
  }

  /** A typed array of class `Ctor` over this buffer's bytes (offset and length must fit its element size). */
  view(Ctor = Uint8Array) {
    ownedBy(this, "view");
    if (typeof Ctor !== "function" || Object.getPrototypeOf(Ctor) !== TypedArray) {
      throw Errors.invalidArgument("view()", "a typed array class (Uint8Array, Int32Array, ...)", describe(Ctor));
    }
    const size = Ctor.BYTES_PER_ELEMENT;
    if (this.#byteOffset % size !== 0 || this.#byteLength % size !== 0) {
      throw Errors.sharedMemoryRange(`view(${Ctor.name}) needs an offset and length that are multiples of ${size}; this buffer has offset ${this.#byteOffset} and length ${this.#byteLength}`);
    }
    return new Ctor(this.#mapping.buffer(), this.#byteOffset, this.#byteLength / size);
  }

  /** A Uint8Array over this buffer's bytes. */
  bytes() {
    ownedBy(this, "bytes");
    return new Uint8Array(this.#mapping.buffer(), this.#byteOffset, this.#byteLength);
  }

  /** A DataView over this buffer's bytes. */
  dataView() {
    ownedBy(this, "dataView");
    return new DataView(this.#mapping.buffer(), this.#byteOffset, this.#byteLength);
  }

  /** The engine buffer over the whole mapping (this range starts at byteOffset). */
  getBuffer() {
    ownedBy(this, "getBuffer");
    return this.#mapping.buffer();
  }

  /**
   * Atomics.wait for this memory, across processes: blocks this thread while
   * Int32 `index` of this buffer holds `value`, until notify() or `timeoutMs`.
   * Returns "ok", "not-equal" or "timed-out". (Atomics.wait itself only takes
   * views of a SharedArrayBuffer.)
   */
  wait(index, value, timeoutMs = Infinity) {
    ownedBy(this, "wait");
    return this.#mapping.futex().wait(this.#wordOffset(index), value | 0, checkTimeout(timeoutMs));
  }

  /** wait() without blocking: a promise of "ok", "not-equal" or "timed-out". */
  waitAsync(index, value, timeoutMs = Infinity) {
    ownedBy(this, "waitAsync");
    return this.#mapping.futex().waitAsync(this.#wordOffset(index), value | 0, checkTimeout(timeoutMs));
  }

  /** Wakes up to `count` waiters on Int32 `index` (in any process); returns how many woke. */
  notify(index, count = Infinity) {
    ownedBy(this, "notify");
    return this.#mapping.futex().notify(this.#wordOffset(index), count);
  }

  #wordOffset(index) {
    if (!Number.isSafeInteger(index) || index < 0 || this.#byteOffset % 4 !== 0 || (index + 1) * 4 > this.#byteLength) {
      throw Errors.sharedMemoryRange(`no Int32 at index ${index} of a buffer of ${this.#byteLength} bytes at offset ${this.#byteOffset}`);
    }
    return this.#byteOffset + index * 4;
  }

  /** `{ version, descriptor, byteOffset, byteLength }`: plain data another thread or process maps with fromMetadata(). */
  toMetadata() {
    ownedBy(this, "toMetadata");
    if (this.#mapping.closed) throw Errors.sharedMemoryClosed();
    const { mapping: _, ...descriptor } = this.descriptor;
    return { version: METADATA_VERSION, descriptor, byteOffset: this.#byteOffset, byteLength: this.#byteLength };
  }

  toJSON() {
    ownedBy(this, "toJSON");
    return this.toMetadata();
  }

  toString() {
    ownedBy(this, "toString");
    return JSON.stringify(this.toMetadata());
  }

  /** `fromMetadata(psb.toMetadata())` text. */
  stringify() {
    ownedBy(this, "stringify");
    return this.toString();
  }
}

function checkTimeout(ms) {
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0) throw Errors.invalidArgument("a timeout", "a number of milliseconds from 0, or Infinity", describe(ms));
  return ms;
}

function checkRange(offset, length, size) {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw Errors.sharedMemoryRange(`the range ${offset} + ${length} does not fit ${size} bytes`);
  }
}

/** Throws a coded TypeError unless `self` is a ProcessSharedBuffer (a method called on something else). */
function ownedBy(self, member) {
  if (!brand.has(self)) throw Errors.invalidArgument(`ProcessSharedBuffer.prototype.${member}`, "to be used on a ProcessSharedBuffer", describe(self));
}

/** Whether `value` is a genuine ProcessSharedBuffer (not a look-alike). */
export function isProcessSharedBuffer(value) {
  return brand.has(value);
}

// ---- between threads of this process (the codec's SHARED_MEMORY node) ----
//
// A ProcessSharedBuffer sent to another thread travels as its mapping's id
// and its range. The sender opens a handle for the message in transit; the
// receiver takes that handle over. Both threads then see the same mapping.
// A worker closes what a call brought once the call settles (collectAdopted).

/** `{ i, o, l }` for the wire, with a handle opened for the message; `undefined` if the mapping is closed. */
export function sendShared(psb) {
  const [mapping, byteOffset, byteLength] = partsOf(psb);
  if (mapping.closed || !retainSharedMemory(mapping.id)) return undefined;
  return { i: mapping.id, o: byteOffset, l: byteLength };
}

/** Closes the handle `sendShared` opened, for a message that will not be delivered. */
export function unsendShared(node) {
  releaseSharedMemory(node.i);
}

let adopted;

/** The ProcessSharedBuffer a message carried, on the receiving thread. */
export function receiveShared({ i, o, l }) {
  const mapping = native("receive shared memory", () => new Mapping(NativeSharedMemory.adopt(i)));
  adopted?.push(mapping);
  return new ProcessSharedBuffer(mapping, o, l);
}

// ---- between processes (a process worker's call or result) ----
//
// A ProcessSharedBuffer sent to or from a process worker travels as what the
// other process needs to map the same object: its name, or the sender's pid
// and descriptor (an anonymous object is reached through /proc/<pid>/fd on
// Linux), and the range. The receiver maps it afresh and, in a worker, closes
// it when the call settles.

/**
 * `{ d: { n, p, f }, o, l }` for a process worker's message; `undefined` if
 * the mapping is closed. A process worker describes a buffer its host sent
 * as the host did: it closes its own mapping when the call settles, before
 * the host reads the result, while the host's stays open.
 */
export function describeShared(psb) {
  const [mapping, byteOffset, byteLength] = partsOf(psb);
  if (mapping.closed) return undefined;
  if (inProcessWorker && mapping.origin !== undefined) return { d: mapping.origin, o: byteOffset, l: byteLength };
  const { name, fd } = mapping.describe();
  // (Its identity: if this process closes the descriptor before the other one
  // opens it, the number may name an unrelated file by then, which is refused.)
  return { d: { n: name, p: process.pid, f: fd, i: name === null ? mapping.identity : undefined }, o: byteOffset, l: byteLength };
}

/** The ProcessSharedBuffer a process worker's message carried (see describeShared). */
export function receiveAcross({ d, o, l }) {
  const { n: name, p: pid, f: fd, i: identity } = d ?? {};
  let mapping;
  if (typeof name === "string") mapping = checkMapping(primitives.mapSharedMemory({ name }));
  // (No identity: a message's own spilled object, which its writer keeps open until it is read.)
  else if (Number.isInteger(pid) && Number.isInteger(fd) && pid > 0 && fd >= 0 && (identity === undefined || typeof identity === "string")) {
    mapping = native(`map descriptor ${fd} of process ${pid}`, () => new Mapping(NativeSharedMemory.openProcessFd(pid, fd, identity)));
  } else throw Errors.invalidArgument("a shared-memory node", "a name, or a pid and a descriptor", describe(d));
  mapping.origin = { n: typeof name === "string" ? name : null, p: pid, f: fd, i: identity };
  adopted?.push(mapping);
  try {
    checkRange(o, l, mapping.describe().size);
  } catch (error) {
    if (adopted === undefined) mapping.close();
    throw error;
  }
  return new ProcessSharedBuffer(mapping, o, l);
}

/** Runs `fn` and returns its result and the mappings it received (for the worker to close when the call settles). */
export function collectAdopted(fn) {
  const outer = adopted;
  const list = (adopted = []);
  try {
    return [fn(), list];
  } catch (error) {
    closeAdopted(list); // a value that failed to decode: what it brought so far is closed
    throw error;
  } finally {
    adopted = outer;
  }
}

/** Closes received mappings (a worker, when the call that brought them settled). */
export function closeAdopted(mappings) {
  for (const mapping of mappings) mapping.close();
}

/** What the process's shared-memory registry holds (open and kept-until-exit mappings, and their bytes). */
export { sharedMemoryStats };
