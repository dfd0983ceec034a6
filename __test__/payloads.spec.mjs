// Every payload kind, round-tripped through a real pool (argument and result),
// on both paths: values that fit a shared-memory slot and values that do not.
import test from "ava";
import { Buffer } from "node:buffer";
import { createPool, Envelope, NumericArray, isNumericArray } from "knitting";
import { echo } from "./fixtures/tasks.mjs";

let pool;
test.before(() => {
  pool = createPool({ threads: 2 })({ echo });
});
test.after.always(() => pool.shutdown());

const roundTrip = (value) => pool.call.echo(value);

test("numbers keep NaN, ±Infinity and -0", async (t) => {
  for (const n of [0, 1, -1, 1.5, Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity]) {
    t.true(Object.is(await roundTrip(n), n), String(n));
  }
  t.true(Object.is(await roundTrip(-0), -0));
});

test("booleans, undefined and null", async (t) => {
  t.is(await roundTrip(true), true);
  t.is(await roundTrip(false), false);
  t.is(await roundTrip(undefined), undefined);
  t.is(await roundTrip(null), null);
});

test("bigints of any size", async (t) => {
  for (const n of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 1000n + 7n, -(3n ** 700n)]) {
    t.is(await roundTrip(n), n);
  }
});

test("strings of any size and any UTF-16 content", async (t) => {
  const samples = [
    "",
    "a",
    "héllo wörld",
    "emoji 😀 and 中文",
    "lone \ud800 surrogate",
    "\udfff\ud800",
    "x".repeat(100),
    "é".repeat(60),
    "😀".repeat(30_000) + "\ud800",
    "y".repeat(4 << 20),
  ];
  for (const s of samples) t.is(await roundTrip(s), s, `length ${s.length}`);
});

test("plain objects and arrays, nested, small and large", async (t) => {
  const small = { a: 1, b: "two", c: [true, null, { d: -0 }] };
  t.deepEqual(await roundTrip(small), small);
  const large = { rows: Array.from({ length: 1000 }, (_, i) => ({ i, name: `row ${i}` })) };
  t.deepEqual(await roundTrip(large), large);
  const nullProto = Object.assign(Object.create(null), { k: 1 });
  t.deepEqual({ ...(await roundTrip(nullProto)) }, { k: 1 });
  t.deepEqual(await roundTrip([1, "a", [2, [3]]]), [1, "a", [2, [3]]]);
});

test("objects arrive exactly whether or not JSON could carry them (-0, NaN, holes, undefined, __proto__ keys, lone surrogates)", async (t) => {
  const withProtoKey = JSON.parse('{"__proto__": {"x": 1}, "y": 2}'); // an own key named __proto__
  const values = [
    { n: -0 },
    { n: NaN, m: Infinity, k: -Infinity },
    { u: undefined, v: 1 },
    [1, , 3], // a hole
    [undefined, null],
    withProtoKey,
    { s: "lone \ud800 surrogate", t: "\u2028 \u0000 \"quoted\"" },
    { big: 2 ** 60, small: 5e-324, neg: -1.5e300 },
    { deep: { deeper: { deepest: [[[{ x: "y" }]]] } } },
    { "1": "integer-like key", a: "order", "0": "kept" },
  ];
  for (const value of values) {
    const back = await roundTrip(value);
    t.deepEqual(back, value);
    t.deepEqual(Object.keys(back), Object.keys(value), "same keys, same order");
  }
  t.true(Object.is((await roundTrip({ n: -0 })).n, -0));
  t.true(Object.hasOwn(await roundTrip([1, , 3]), 1) === false, "a hole stays a hole");
  t.true(Object.hasOwn(await roundTrip({ u: undefined }), "u"), "an undefined member stays");
  const protoBack = await roundTrip(withProtoKey);
  t.true(Object.hasOwn(protoBack, "__proto__"), "__proto__ stays an own key");
  t.is(Object.getPrototypeOf(protoBack), Object.prototype);
});

test("Date, and Symbol.for symbols", async (t) => {
  const date = new Date("2026-11-24T10:00:00Z");
  const back = await roundTrip(date);
  t.true(back instanceof Date);
  t.is(back.getTime(), date.getTime());
  t.is(await roundTrip(Symbol.for("knitting.test")), Symbol.for("knitting.test"));
  t.deepEqual(await roundTrip({ s: Symbol.for("nested") }), { s: Symbol.for("nested") });
});

test("an Error argument arrives as an Error with name, message, stack and cause", async (t) => {
  const error = new RangeError("out of range", { cause: new Error("root", { cause: "why" }) });
  const back = await roundTrip(error);
  t.true(back instanceof Error);
  t.is(back.name, "RangeError");
  t.is(back.message, "out of range");
  t.is(back.stack, error.stack);
  t.is(back.cause.message, "root");
  t.is(back.cause.cause, "why");
});

test("typed arrays, Buffer, ArrayBuffer and DataView are copied, class and bytes intact", async (t) => {
  const kinds = [
    new Uint8Array([1, 2, 3]),
    new Int32Array([-1, 2, -3]),
    new Float64Array([1.5, NaN, -0]),
    new BigInt64Array([-(2n ** 63n), 5n]),
    new BigUint64Array([2n ** 64n - 1n]),
    new Uint8Array(1 << 20).fill(7),
  ];
  for (const value of kinds) {
    const back = await roundTrip(value);
    t.is(back.constructor, value.constructor);
    t.deepEqual([...back], [...value]);
    t.not(back.buffer, value.buffer);
  }
  const buf = Buffer.from("node buffer");
  const backBuf = await roundTrip(buf);
  t.true(Buffer.isBuffer(backBuf));
  t.is(backBuf.toString(), "node buffer");
  const ab = new Uint8Array([9, 8, 7]).buffer;
  const backAb = await roundTrip(ab);
  t.true(backAb instanceof ArrayBuffer);
  t.deepEqual([...new Uint8Array(backAb)], [9, 8, 7]);
  t.is(ab.byteLength, 3, "the caller's ArrayBuffer is untouched");
  const view = new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2);
  const backView = await roundTrip(view);
  t.true(backView instanceof DataView);
  t.is(backView.byteLength, 2);
  t.is(backView.getUint8(0), 2);
});

test("a typed array argument is copied before call() returns: mutating it afterwards changes nothing", async (t) => {
  const bytes = new Uint8Array([1, 2, 3]);
  const pending = roundTrip(bytes);
  bytes[0] = 99;
  t.deepEqual([...(await pending)], [1, 2, 3]);
  const object = { n: 1 };
  const pendingObject = roundTrip(object);
  object.n = 2;
  t.deepEqual(await pendingObject, { n: 1 });
});

test("a SharedArrayBuffer is shared by reference: writes on the worker are seen by the host", async (t) => {
  const sab = new SharedArrayBuffer(8);
  const back = await roundTrip(sab);
  t.true(back instanceof SharedArrayBuffer);
  new Uint8Array(back)[0] = 42;
  t.is(new Uint8Array(sab)[0], 42);
});

test("Envelope with an ArrayBuffer or a SharedArrayBuffer body", async (t) => {
  const env = new Envelope({ path: "/hello", status: 200 }, new Uint8Array([10, 20, 30, 40]).buffer);
  const back = await roundTrip(env);
  t.true(back instanceof Envelope);
  t.deepEqual(back.header, { path: "/hello", status: 200 });
  t.deepEqual([...new Uint8Array(back.payload)], [10, 20, 30, 40]);
  const sab = new SharedArrayBuffer(4);
  const shared = await roundTrip(new Envelope("tag", sab));
  t.is(shared.header, "tag");
  new Uint8Array(shared.payload)[1] = 5;
  t.is(new Uint8Array(sab)[1], 5);
});

test("anything else rejects that call only, with a code and a message naming the type", async (t) => {
  const cases = [
    [new Map([[1, 2]]), /Map/],
    [new Set([1]), /Set/],
    [new WeakMap(), /WeakMap/],
    [new (class Point {})(), /Point/],
    [() => {}, /function/i],
    [Symbol("local"), /Symbol\.for/],
    [{ nested: new Map() }, /Map/],
    [new Envelope({ a: 1 }, new Uint8Array(2)), /Envelope payload/],
  ];
  for (const [value, message] of cases) {
    const error = await t.throwsAsync(roundTrip(value), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD" });
    t.regex(error.message, message);
  }
  t.is(await roundTrip("still fine"), "still fine");
});

test("large typed arrays, ArrayBuffers and DataViews are copied once (copy engine); the caller keeps its own", async (t) => {
  const big = new Float64Array(512 * 1024).map((_, i) => i); // 4 MiB: a parallel copy
  const back = await roundTrip(big);
  t.true(back instanceof Float64Array);
  t.is(back.length, big.length);
  t.is(back[123_456], 123_456);
  t.is(big.length, 512 * 1024, "the caller's array is not moved");
  big[0] = -1;
  t.is(back[0], 0);

  const whole = new Uint8Array(300_000).fill(3);
  whole[1000] = 9;
  const sub = await roundTrip(whole.subarray(1000, 200_000));
  t.is(sub.length, 199_000);
  t.is(sub.buffer.byteLength, 199_000, "only the view's bytes travel");
  t.is(sub[0], 9);
  t.is(whole.length, 300_000);

  const ab = new Uint8Array(100_000).fill(5).buffer;
  const abBack = await roundTrip(ab);
  t.is(ab.byteLength, 100_000);
  t.is(new Uint8Array(abBack)[99_999], 5);

  const dv = await roundTrip(new DataView(new Uint8Array(200_000).fill(6).buffer, 10, 100_000));
  t.true(dv instanceof DataView);
  t.is(dv.byteLength, 100_000);
  t.is(dv.getUint8(99_999), 6);
});

test("a NumericArray travels as one block of floats and arrives as a NumericArray; anything but numbers in it is refused", async (t) => {
  const numbers = NumericArray.from([1, 2.5, NaN, -0, Infinity]);
  for (const value of [numbers, { nested: [numbers] }]) {
    const back = await roundTrip(value);
    const array = isNumericArray(back) ? back : back.nested[0];
    t.true(isNumericArray(array) && array instanceof NumericArray);
    t.is(array.length, 5);
    t.true([1, 2.5, NaN, -0, Infinity].every((n, i) => Object.is(array[i], n)));
  }
  await t.throwsAsync(roundTrip(NumericArray.of(1, "2")), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /NumericArray holds only numbers.*arg\[1\]/ });
  await t.throwsAsync(roundTrip(new NumericArray(2)), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /undefined at arg\[0\]/ });
  t.false(isNumericArray([1, 2]));
});
