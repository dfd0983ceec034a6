import test from "ava";
import { Buffer } from "node:buffer";
import { BUFFER_REFERENCE_KIND, BufferReference, BufferReferenceReturn, addressOf, isBufferReferenceMetadata, referenceStats } from "knitting/unsafe";
import { pattern, hasPattern } from "./helpers.mjs";
import { NativeBufferReference } from "../lib/native.js";

const INVALID_SOURCE = { instanceOf: TypeError, code: "ERR_KNITTING_INVALID_SOURCE" };
const RELEASED = { instanceOf: Error, code: "ERR_KNITTING_RELEASED" };

// ---- construct and move -------------------------------------------------

test("an ArrayBuffer source is moved without copying: detached, same address", (t) => {
  const source = pattern(4096).buffer;
  const before = addressOf(source);
  const ref = new BufferReference(source);
  t.is(source.byteLength, 0);
  t.true(source.detached);
  t.is(ref.byteLength, 4096);
  t.is(addressOf(ref.toArrayBuffer()), before);
  t.is(addressOf(ref.toUint8Array()), before);
  t.true(hasPattern(ref.toUint8Array()));
  ref.release();
});

test("an 8 MiB move keeps the data pointer (O(1), no byte copy)", (t) => {
  const source = pattern(8 << 20);
  const before = addressOf(source);
  t.not(before, 0n);
  const ref = new BufferReference(source);
  t.is(source.byteLength, 0);
  t.is(addressOf(ref.toUint8Array()), before);
  t.true(hasPattern(ref.toUint8Array()));
  ref.release();
});

test("a whole-buffer view moves its buffer; every view of that buffer is emptied", (t) => {
  const pixels = new Uint8Array([0, 64, 128, 192, 255]);
  const sibling = new Uint16Array(pixels.buffer, 0, 2);
  const ref = new BufferReference(pixels);
  t.is(pixels.byteLength, 0);
  t.is(sibling.length, 0);
  t.is(ref.byteLength, 5);
  t.deepEqual([...ref.toUint8Array()], [0, 64, 128, 192, 255]);
  ref.release();
});

test("a sub-view exposes only its region, never the rest of the buffer", (t) => {
  const whole = pattern(16);
  const ref = new BufferReference(whole.subarray(2, 6));
  t.is(whole.byteLength, 0, "the whole source buffer is detached");
  t.is(ref.byteLength, 4);
  const view = ref.toUint8Array();
  t.deepEqual([...view], [2, 3, 4, 5]);
  t.is(view.byteOffset, 0);
  t.is(view.buffer.byteLength, 4, "the view's buffer holds the region only");
  const buffer = ref.toArrayBuffer();
  t.is(buffer.byteLength, 4);
  t.is(buffer, view.buffer);
  ref.release();
});

test("DataView and wider typed arrays are accepted by byte region", (t) => {
  const floats = new Float64Array([1.5, -2, 3]);
  const fromFloats = new BufferReference(floats);
  t.is(fromFloats.byteLength, 24);
  t.deepEqual([...new Float64Array(fromFloats.toArrayBuffer())], [1.5, -2, 3]);

  const bytes = pattern(8);
  const fromDataView = new BufferReference(new DataView(bytes.buffer, 1, 3));
  t.is(bytes.byteLength, 0);
  t.deepEqual([...fromDataView.toUint8Array()], [1, 2, 3]);
  fromFloats.release();
  fromDataView.release();
});

test("zero-length sources are accepted and give an empty region", (t) => {
  for (const source of [new ArrayBuffer(0), new Uint8Array(0), pattern(8).subarray(3, 3)]) {
    const ref = new BufferReference(source);
    t.is(ref.byteLength, 0);
    t.is(ref.toUint8Array().length, 0);
    t.is(ref.toArrayBuffer().byteLength, 0);
    ref.release();
    t.throws(() => ref.toUint8Array(), RELEASED);
  }
});

test("Buffer.alloc buffers (not pooled) are accepted", (t) => {
  const buf = Buffer.alloc(32, 7);
  const ref = new BufferReference(buf);
  t.is(buf.length, 0);
  t.is(ref.byteLength, 32);
  t.true(ref.toUint8Array().every((b) => b === 7));
  ref.release();
});

// ---- read ----------------------------------------------------------------

test("repeated reads reuse one underlying buffer and see each other's writes", (t) => {
  const ref = new BufferReference(pattern(64));
  const a = ref.toUint8Array();
  const b = ref.toUint8Array();
  t.is(a.buffer, b.buffer);
  t.is(ref.toArrayBuffer(), a.buffer);
  t.is(ref.toArrayBuffer(), ref.toArrayBuffer());
  a[0] = 200;
  t.is(b[0], 200);
  t.is(new Uint8Array(ref.toArrayBuffer())[0], 200);
  ref.release();
});

test("a compacted sub-view is copied once, then reused", (t) => {
  const ref = new BufferReference(pattern(100).subarray(10, 90));
  const first = ref.toArrayBuffer();
  t.is(ref.toArrayBuffer(), first);
  t.is(ref.toUint8Array().buffer, first);
  t.is(addressOf(ref.toUint8Array()), addressOf(first));
  t.true(hasPattern(ref.toUint8Array(), 10));
  ref.release();
});

// ---- release -------------------------------------------------------------

test("release detaches every view handed out and poisons the accessors", (t) => {
  const ref = new BufferReference(pattern(1024));
  const view = ref.toUint8Array();
  const buffer = ref.toArrayBuffer();
  ref.release();
  t.is(view.length, 0, "a stale view reads length 0");
  t.is(view[0], undefined);
  t.is(buffer.byteLength, 0);
  t.true(buffer.detached);
  t.is(ref.byteLength, 0);
  t.true(ref.released);
  const error = t.throws(() => ref.toUint8Array(), RELEASED);
  t.regex(error.message, /released/);
  t.throws(() => ref.toArrayBuffer(), RELEASED);
});

test("release is idempotent", (t) => {
  const ref = new BufferReference(pattern(8));
  ref.release();
  t.notThrows(() => ref.release());
  t.notThrows(() => ref[Symbol.dispose]());
});

test("Symbol.dispose releases, and `using` calls it at scope end", (t) => {
  let view;
  {
    using ref = new BufferReference(pattern(16));
    view = ref.toUint8Array();
    t.is(view.length, 16);
  }
  t.is(view.length, 0);
  const ref = new BufferReference(pattern(4));
  ref[Symbol.dispose]();
  t.true(ref.released);
});

test("release of a sub-view reference detaches its compacted views too", (t) => {
  const ref = new BufferReference(pattern(32).subarray(8, 24));
  const view = ref.toUint8Array();
  ref.release();
  t.is(view.length, 0);
});

// ---- rejections ------------------------------------------------------------

test("SharedArrayBuffer and views over one are rejected", (t) => {
  const sab = new SharedArrayBuffer(8);
  for (const source of [sab, new Uint8Array(sab), new DataView(sab)]) {
    const error = t.throws(() => new BufferReference(source), INVALID_SOURCE);
    t.regex(error.message, /SharedArrayBuffer/);
  }
  t.is(sab.byteLength, 8, "the SAB is untouched");
});

test("a resizable ArrayBuffer is rejected and left intact", (t) => {
  const buffer = new ArrayBuffer(8, { maxByteLength: 64 });
  const error = t.throws(() => new BufferReference(new Uint8Array(buffer)), INVALID_SOURCE);
  t.regex(error.message, /resizable/);
  t.regex(error.message, /transferToFixedLength/);
  t.is(buffer.byteLength, 8);
});

test("an already-detached buffer is rejected", (t) => {
  const buffer = new ArrayBuffer(8);
  buffer.transfer();
  const error = t.throws(() => new BufferReference(buffer), INVALID_SOURCE);
  t.regex(error.message, /detached/);
  const moved = pattern(4);
  new BufferReference(moved).release();
  t.throws(() => new BufferReference(moved), INVALID_SOURCE, "a view whose buffer was moved");
});

test("a missing argument is rejected with a message that says what to pass", (t) => {
  const error = t.throws(() => new BufferReference(), INVALID_SOURCE);
  t.regex(error.message, /ArrayBuffer/);
});

test("anything else is rejected", (t) => {
  for (const value of [null, 42, "bytes", {}, [1, 2, 3], { byteLength: 4 }, () => {}, Symbol("s"), 10n]) {
    const error = t.throws(() => new BufferReference(value), INVALID_SOURCE);
    t.regex(error.message, /expects an ArrayBuffer/);
  }
});

test("a non-detachable buffer (WebAssembly.Memory) is rejected and stays usable", (t) => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const error = t.throws(() => new BufferReference(memory.buffer), INVALID_SOURCE);
  t.regex(error.message, /detached|Copy the bytes/);
  t.is(memory.buffer.byteLength, 65536);
});

test("a pooled Node Buffer is rejected so unrelated Buffers are not emptied", (t) => {
  const pooled = Buffer.from("hello");
  const neighbour = Buffer.from("world");
  t.is(pooled.buffer, neighbour.buffer, "precondition: both come from Node's Buffer pool");
  const error = t.throws(() => new BufferReference(pooled), INVALID_SOURCE);
  t.regex(error.message, /Buffer\.alloc/);
  t.is(neighbour.toString(), "world");
  t.is(pooled.toString(), "hello");
});

test("the native constructor refuses a region outside its buffer", (t) => {
  t.throws(() => new NativeBufferReference(new ArrayBuffer(4), 2, 8), INVALID_SOURCE);
  t.throws(() => new NativeBufferReference(new ArrayBuffer(4), -1, 2), INVALID_SOURCE);
});

test("members called on something that is not a BufferReference throw a coded TypeError", (t) => {
  const fake = Object.create(BufferReference.prototype);
  for (const member of ["toUint8Array", "toArrayBuffer", "release", "toMetadata", Symbol.dispose]) {
    t.throws(() => BufferReference.prototype[member].call(fake), { instanceOf: TypeError, code: "ERR_KNITTING_INVALID_ARGUMENT" });
    for (const receiver of [{}, null, undefined, 5, "text"]) {
      t.throws(() => BufferReference.prototype[member].call(receiver), { code: "ERR_KNITTING_INVALID_ARGUMENT" });
    }
  }
  for (const getter of ["byteLength", "released"]) {
    const get = Object.getOwnPropertyDescriptor(BufferReference.prototype, getter).get;
    t.throws(() => get.call(fake), { code: "ERR_KNITTING_INVALID_ARGUMENT" });
  }
  t.throws(() => addressOf({}), { code: "ERR_KNITTING_INVALID_ARGUMENT" });
});

test("there is no public take(): sending is the only way to hand the bytes over", (t) => {
  const ref = new BufferReference(new Uint8Array(4));
  t.is(ref.take, undefined);
  t.false(Object.getOwnPropertyNames(BufferReference.prototype).includes("take"));
  ref.release();
});

test.serial("a reference whose buffer you transfer() away reports released and leaves the registry", (t) => {
  const before = referenceStats().liveRegions;
  const ref = new BufferReference(pattern(64));
  t.is(referenceStats().liveRegions, before + 1);
  const moved = ref.toArrayBuffer().transfer();
  t.is(moved.byteLength, 64);
  t.true(ref.released);
  t.is(ref.byteLength, 0);
  t.throws(() => ref.toUint8Array(), { code: "ERR_KNITTING_RELEASED" });
  t.is(referenceStats().liveRegions, before);
  ref.release(); // still idempotent
});

// ---- constants and diagnostics --------------------------------------------

test("BufferReferenceReturn is a frozen pair of constants", (t) => {
  t.deepEqual({ ...BufferReferenceReturn }, { Copy: "copy", Borrow: "borrow" });
  t.true(Object.isFrozen(BufferReferenceReturn));
});

test.serial("referenceStats counts live regions and bytes held", (t) => {
  const before = referenceStats();
  const a = new BufferReference(new ArrayBuffer(100));
  const b = new BufferReference(pattern(50).subarray(0, 20));
  const during = referenceStats();
  t.is(during.liveRegions - before.liveRegions, 2);
  t.is(during.bytesHeld - before.bytesHeld, 120);
  a.release();
  b.release();
  t.deepEqual(referenceStats(), before);
});

test("toMetadata describes a reference (JSON-safe); fromMetadata is refused, as it could read freed memory", (t) => {
  const ref = new BufferReference(new Uint8Array([1, 2, 3]));
  const metadata = JSON.parse(JSON.stringify(ref.toMetadata()));
  t.like(metadata, { kind: BUFFER_REFERENCE_KIND, runtime: "node", origin: `node:${process.pid}`, byteOffset: 0, byteLength: 3 });
  t.is(BigInt(metadata.pointer), addressOf(ref.toUint8Array()));
  t.true(isBufferReferenceMetadata(metadata));
  t.false(isBufferReferenceMetadata({ ...metadata, pointer: 1 }));
  t.throws(() => BufferReference.fromMetadata(metadata), { code: "ERR_KNITTING_UNSUPPORTED_OPTION", message: /freed memory/ });
  t.throws(() => BufferReference.fromMetadata({}), { code: "ERR_KNITTING_INVALID_ARGUMENT", message: /Invalid BufferReferenceMetadata/ });
  ref.release();
  t.throws(() => ref.toMetadata(), { code: "ERR_KNITTING_RELEASED", message: /released/ });
});
