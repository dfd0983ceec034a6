// knitting/utils, as docs/utils.md specifies it.
import test from "ava";
import {
  bufferToBytes, bufferToJson, bufferToNumbers, bufferToString, bytesToBuffer, jsonToBuffer, numbersToBuffer, stringToBuffer,
} from "knitting/utils";
import { BufferReference } from "knitting/unsafe";
import { createPool } from "knitting";
import { parseRows } from "./fixtures/utils-tasks.mjs";

const invalid = { code: "ERR_KNITTING_INVALID_ARGUMENT" };
/** A new, fixed-length ArrayBuffer that is exactly its bytes. */
const isOwnedBuffer = (t, value) => {
  t.true(value instanceof ArrayBuffer);
  t.false(value.resizable);
};

test("bytesToBuffer copies exactly the bytes a view covers; bufferToBytes is a view, not a copy", (t) => {
  const backing = new Uint8Array([9, 1, 2, 3, 9]);
  const buffer = bytesToBuffer(backing.subarray(1, 4));
  isOwnedBuffer(t, buffer);
  t.deepEqual([...new Uint8Array(buffer)], [1, 2, 3]);
  backing[1] = 7;
  t.is(new Uint8Array(buffer)[0], 1, "a copy");
  t.deepEqual([...new Uint8Array(bytesToBuffer(new DataView(backing.buffer, 3, 2)))], [3, 9]);
  t.deepEqual([...new Uint8Array(bytesToBuffer(Buffer.from("hi")))], [104, 105]);

  const source = new ArrayBuffer(4);
  const bytes = bufferToBytes(source);
  bytes[0] = 42;
  t.is(new Uint8Array(source)[0], 42, "writing the view writes the buffer");
  const shared = new SharedArrayBuffer(8);
  t.is(bufferToBytes(new Int32Array(shared, 4, 1)).byteOffset, 4, "a view stands for its own bytes");
  t.is(bufferToBytes(shared).buffer, shared);
});

test("strings: UTF-8 both ways, round trips exact; malformed input follows TextEncoder and TextDecoder", (t) => {
  for (const text of ["", "hello", "naïve café", "日本語", "🧶 knitting", "a\u0000b"]) {
    const buffer = stringToBuffer(text);
    isOwnedBuffer(t, buffer);
    t.is(buffer.byteLength, Buffer.byteLength(text), "exactly the UTF-8 bytes");
    t.is(bufferToString(buffer), text);
  }
  t.is(bufferToString(stringToBuffer("\uD800")), "\uFFFD", "a lone surrogate becomes U+FFFD");
  t.is(bufferToString(new Uint8Array([0x61, 0xff, 0x62])), "a\uFFFDb");
  const shared = new Uint8Array(new SharedArrayBuffer(3));
  shared.set([0x68, 0x69, 0x21]);
  t.is(bufferToString(shared), "hi!", "shared memory is read too");
  t.throws(() => stringToBuffer(42), { ...invalid, instanceOf: TypeError, message: /stringToBuffer expects a string/ });
});

test("JSON: round trips; values and text JSON refuses are refused with a cause", (t) => {
  const value = { rows: [1, 2.5, -0, null], name: "ünï", nested: { ok: true } };
  const buffer = jsonToBuffer(value);
  isOwnedBuffer(t, buffer);
  t.deepEqual(bufferToJson(buffer), JSON.parse(JSON.stringify(value)));
  t.deepEqual(bufferToJson(jsonToBuffer([undefined, () => 1])), [null, null], "as JSON.stringify writes them");
  t.is(bufferToJson(jsonToBuffer("text")), "text");
  for (const bad of [undefined, () => 1, Symbol("s")]) t.throws(() => jsonToBuffer(bad), { ...invalid, instanceOf: TypeError });
  const cycle = {};
  cycle.self = cycle;
  const error = t.throws(() => jsonToBuffer(cycle), { ...invalid, instanceOf: TypeError });
  t.true(error.cause instanceof TypeError, "JSON's own error is the cause");
  t.throws(() => jsonToBuffer({ n: 1n }), invalid);
  const notJson = t.throws(() => bufferToJson(stringToBuffer("{oops")), { ...invalid, instanceOf: SyntaxError });
  t.true(notJson.cause instanceof SyntaxError);
});

test("numbers: 64-bit floats both ways, NaN, -0 and infinities exact; views when aligned, copies when not", (t) => {
  const numbers = [0, -0, 1.5, -2e300, NaN, Infinity, -Infinity, Number.MIN_VALUE];
  const buffer = numbersToBuffer(numbers);
  isOwnedBuffer(t, buffer);
  t.is(buffer.byteLength, numbers.length * 8);
  const back = bufferToNumbers(buffer);
  t.true(back instanceof Float64Array);
  t.is(back.buffer, buffer, "aligned: a view");
  numbers.forEach((n, i) => t.true(Object.is(back[i], n), `index ${i}`));
  t.deepEqual([...new Float64Array(numbersToBuffer(new Int16Array([1, -2])))], [1, -2], "a typed array");
  t.deepEqual([...new Float64Array(numbersToBuffer(new Set([3, 4])))], [3, 4], "an iterable");
  t.true(Number.isNaN(new Float64Array(numbersToBuffer([1, , 3]))[1]), "a hole reads as NaN");
  const unaligned = new Uint8Array(17).subarray(1);
  unaligned.set(new Uint8Array(numbersToBuffer([7, 8])));
  const copied = bufferToNumbers(unaligned);
  t.deepEqual([...copied], [7, 8]);
  t.not(copied.buffer, unaligned.buffer, "unaligned: a copy");
  t.throws(() => numbersToBuffer([1, "2"]), { ...invalid, message: /index 1/ });
  t.throws(() => numbersToBuffer([1, undefined]), { ...invalid, message: /index 1/ });
  t.throws(() => numbersToBuffer(new BigInt64Array(1)), invalid);
  t.throws(() => numbersToBuffer("123"), invalid);
  t.throws(() => bufferToNumbers(new ArrayBuffer(12)), { ...invalid, instanceOf: RangeError, message: /12 bytes/ });
});

test("anything but a buffer is refused, and a detached one too", (t) => {
  for (const fn of [bytesToBuffer, bufferToBytes, bufferToString, bufferToJson, bufferToNumbers]) {
    for (const bad of [undefined, null, "bytes", [1, 2], { byteLength: 1 }]) t.throws(() => fn(bad), { ...invalid, instanceOf: TypeError, message: new RegExp(fn.name) });
    const gone = new ArrayBuffer(8);
    gone.transfer();
    t.throws(() => fn(gone), { ...invalid, message: /detached/ });
  }
});

test("the docs' example: JSON moved to a worker as bytes", async (t) => {
  await using pool = createPool({ threads: 1 })({ parseRows });
  const ref = new BufferReference(jsonToBuffer({ rows: [1, 2, 3] }));
  t.is(await pool.call.parseRows(ref), 3);
});
