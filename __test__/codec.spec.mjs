// The payload codec (lib/codec): every supported kind survives
// encode → structuredClone(wire, { transfer }) → decode, and every unsupported
// one is refused on the sending side with a coded Error, consuming nothing.
import test from "ava";
import { Buffer } from "node:buffer";
import { encode, TAG } from "../lib/codec/encode.js";
import { decode } from "../lib/codec/decode.js";
import { Envelope } from "../lib/envelope.js";
import { BufferReference } from "../lib/buffer-reference/buffer-reference.js";
import { pattern, hasPattern } from "./helpers.mjs";

const UNSUPPORTED = { instanceOf: Error, code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD" };
const RELEASED = { instanceOf: Error, code: "ERR_KNITTING_RELEASED" };

/** Sends `value` the way the pool does; `sent` receives the transfer list and encode's flag. */
function rt(value, sent = {}) {
  const transfer = [];
  const { wire, tagged, json } = encode(value, transfer);
  Object.assign(sent, { transfer, tagged, wire, json });
  return decode(structuredClone(wire, { transfer }), tagged);
}

// ---- primitives and plain data -------------------------------------------------

test("primitives pass through untagged, as the very same value", (t) => {
  const values = [0, -0, 1.5, NaN, Infinity, -Infinity, true, false, undefined, null, "", "text", 2n ** 1000n, -(3n ** 700n)];
  for (const value of values) {
    const { wire, tagged } = encode(value, []);
    t.false(tagged);
    t.true(Object.is(wire, value));
    t.true(Object.is(rt(value), value), String(value));
  }
});

test("a 1 MiB string with emoji and a lone surrogate round-trips", (t) => {
  const text = "héllo 🧶 \uD800 x".repeat(1 << 17).slice(0, 1 << 20);
  t.is(text.length, 1 << 20);
  t.true(text.includes("🧶") && !text.isWellFormed());
  t.is(rt(text), text);
});

test("JSON-like objects are untagged, and what travels is a copy read once", (t) => {
  const value = { id: 7, tags: ["a", "b"], nested: { ok: true, none: null, gone: undefined } };
  const { wire, tagged } = encode(value, []);
  t.false(tagged);
  t.not(wire, value, "a copy: what was checked is what travels");
  t.deepEqual(wire, value);
  t.deepEqual(rt(value), value);
});

test("every property is read once: a getter cannot show the check one value and the engine another", (t) => {
  let reads = 0;
  const sneaky = {
    get v() {
      reads++;
      return reads === 1 ? 1 : () => "a function on the second read";
    },
  };
  const { wire } = encode({ sneaky, list: Object.defineProperty([0], 0, { get: () => (reads++ === 1 ? 2 : Symbol("local")), enumerable: true }) }, []);
  t.is(reads, 2, "each getter ran once");
  t.deepEqual(Object.getOwnPropertyDescriptor(wire.sneaky, "v"), { value: 1, writable: true, enumerable: true, configurable: true });
  t.is(wire.list[0], 2);
});

test("null-prototype objects, array holes and a __proto__ key", (t) => {
  const bare = Object.assign(Object.create(null), { a: 1 });
  t.deepEqual({ ...rt(bare) }, { a: 1 });
  t.deepEqual(rt([1, , 3]), [1, undefined, 3]);
  const proto = JSON.parse('{"__proto__": {"x": 1}, "s": {"k": 1}}');
  proto.s = Symbol.for("k"); // forces a copy of the object
  const back = rt(proto);
  t.is(Object.getPrototypeOf(back), Object.prototype);
  t.deepEqual(Object.getOwnPropertyDescriptor(back, "__proto__").value, { x: 1 });
  t.is(back.s, Symbol.for("k"));
});

test("keys someone added to Object.prototype are not sent or checked", (t) => {
  Object.prototype.polluted = () => {}; // eslint-disable-line no-extend-native
  try {
    t.deepEqual({ ...rt({ a: 1 }) }, { a: 1 });
    t.false(Object.hasOwn(rt({ a: Symbol.for("x"), b: 2 }), "polluted"));
  } finally {
    delete Object.prototype.polluted;
  }
});

test("Symbol.for symbols come back as the same registered symbol", (t) => {
  t.is(rt(Symbol.for("knitting.test")), Symbol.for("knitting.test"));
  t.deepEqual(rt({ list: [Symbol.for("a"), 1] }), { list: [Symbol.for("a"), 1] });
});

test("a nested mix of kinds round-trips and leaves the input untouched", (t) => {
  const value = {
    n: -0,
    big: -(2n ** 80n),
    when: new Date(1_700_000_000_000),
    sym: Symbol.for("mix"),
    list: [1, "two", { three: [3n, null, undefined] }, new Float64Array([1.5, NaN])],
    bytes: Buffer.from("buf"),
    deep: { deeper: { deepest: [Symbol.for("deep")] } },
  };
  const back = rt(value);
  t.true(Object.is(back.n, -0));
  t.deepEqual(back, value);
  t.true(back.when instanceof Date);
  t.is(typeof value.sym, "symbol");
  t.true(Buffer.isBuffer(value.bytes));
});

test("user objects that own the tag key are not mistaken for tag nodes", (t) => {
  const looksTagged = { [TAG]: 1, k: "not a symbol" };
  t.deepEqual(rt(looksTagged), looksTagged);
  const nested = { a: [{ [TAG]: 3, m: "x", inner: { [TAG]: 0, v: Symbol.for("s") } }] };
  t.deepEqual(rt(nested), nested);
});

test("deep but acyclic values and shared (non-cyclic) references are accepted", (t) => {
  let deep = { leaf: true };
  for (let i = 0; i < 200; i++) deep = { next: deep };
  t.deepEqual(rt(deep), deep);
  const shared = { x: 1 };
  t.deepEqual(rt([shared, shared, { shared }]), [shared, shared, { shared }]);
});

// ---- binary data ----------------------------------------------------------

const TYPED = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array];
if (typeof Float16Array === "function") TYPED.push(Float16Array);

test("every typed array class comes back as the same class and bytes, copied not moved", (t) => {
  for (const Class of [...TYPED, BigInt64Array, BigUint64Array]) {
    const source = Class.name.startsWith("Big") ? new Class([1n, -1n, 2n ** 40n]) : new Class([1, 2, 250, -3.5]);
    const sent = {};
    const back = rt(source, sent);
    t.is(Object.getPrototypeOf(back), Class.prototype, Class.name);
    t.deepEqual(back, source);
    t.is(sent.transfer.length, 0);
    t.false(source.buffer.detached);
  }
});

test("a Buffer stays a Buffer and carries only its own bytes", (t) => {
  const pooled = Buffer.from("hello"); // a slice of Node's shared 8 KiB pool
  t.true(pooled.buffer.byteLength > 5);
  const back = rt(pooled);
  t.true(Buffer.isBuffer(back));
  t.is(back.toString(), "hello");
  t.is(back.buffer.byteLength, 5);
  t.true(Buffer.isBuffer(rt({ b: Buffer.alloc(3, 7) }).b));
});

test("a sub-view is copied alone, not with its whole buffer", (t) => {
  const big = pattern(1 << 16);
  const view = new Uint8Array(big.buffer, 100, 4);
  const back = rt(view);
  t.is(back.buffer.byteLength, 4);
  t.deepEqual([...back], [100, 101, 102, 103]);

  const floats = new Float64Array([1, 2, 3, 4]).subarray(1, 3);
  const floatsBack = rt(floats);
  t.deepEqual(floatsBack, new Float64Array([2, 3]));
  t.is(floatsBack.buffer.byteLength, 16);
});

test("DataView round-trips, whole or as a sub-view", (t) => {
  const whole = new DataView(pattern(8).buffer);
  const back = rt(whole);
  t.true(back instanceof DataView);
  t.true(hasPattern(new Uint8Array(back.buffer)));

  const part = new DataView(pattern(64).buffer, 10, 3);
  const partBack = rt(part);
  t.is(partBack.byteLength, 3);
  t.is(partBack.buffer.byteLength, 3);
  t.is(partBack.getUint8(0), 10);
});

test("an ArrayBuffer is copied: same bytes, the original stays usable", (t) => {
  const source = pattern(32).buffer;
  const sent = {};
  const back = rt(source, sent);
  t.not(back, source);
  t.true(hasPattern(new Uint8Array(back)));
  t.is(sent.transfer.length, 0);
  t.is(source.byteLength, 32);
});

test("a SharedArrayBuffer is shared: writes through the decoded one show in the original", (t) => {
  const shared = new SharedArrayBuffer(4);
  const back = rt({ shared }).shared;
  t.true(back instanceof SharedArrayBuffer);
  new Uint8Array(back)[0] = 42;
  t.is(new Uint8Array(shared)[0], 42);
});

// ---- Error ------------------------------------------------------------------

test("an Error keeps name, message, stack, code and its cause chain", (t) => {
  class ValidationError extends Error {
    name = "ValidationError";
  }
  const root = new RangeError("root cause");
  const middle = new ValidationError("bad input", { cause: root });
  middle.code = "E_BAD";
  const top = new Error("call failed", { cause: middle });

  const back = rt(top);
  t.true(back instanceof Error);
  t.is(back.message, "call failed");
  t.is(back.stack, top.stack);
  t.is(back.cause.name, "ValidationError");
  t.is(back.cause.message, "bad input");
  t.is(back.cause.code, "E_BAD");
  t.is(back.cause.stack, middle.stack);
  t.is(back.cause.cause.name, "RangeError");
  t.true(back.cause.cause instanceof RangeError, "a built-in error class survives");
  t.false(back.cause instanceof ValidationError, "a user class does not: it arrives as an Error with its name");
  t.is(back.cause.cause.stack, root.stack);
  t.false("cause" in back.cause.cause);
  t.false("code" in back);
});

test("Error causes that are not Errors follow the normal rules, or become strings", (t) => {
  t.deepEqual(rt(new Error("x", { cause: { id: 1, at: [2n] } })).cause, { id: 1, at: [2n] });
  t.is(rt(new Error("x", { cause: undefined })).cause, undefined);
  t.is(rt(new Error("x", { cause: new Map() })).cause, "[object Map]");
  t.is(rt(new Error("x", { cause: Symbol("local") })).cause, "Symbol(local)");
  const loop = new Error("loop");
  loop.cause = loop;
  t.is(rt(loop).cause, "Error: loop");
  t.is(rt({ error: new TypeError("nested") }).error.name, "TypeError");
  t.true(rt({ error: new TypeError("nested") }).error instanceof TypeError);
});

// ---- Envelope -----------------------------------------------------------------

test("an Envelope with an ArrayBuffer body: header and bytes copied", (t) => {
  const body = new Uint8Array([10, 20, 30, 40]).buffer;
  const back = rt(new Envelope({ path: "/hello", status: 200, tags: ["a"] }, body));
  t.true(back instanceof Envelope);
  t.deepEqual(back.header, { path: "/hello", status: 200, tags: ["a"] });
  t.deepEqual([...new Uint8Array(back.payload)], [10, 20, 30, 40]);
  t.is(body.byteLength, 4);
  t.is(rt(new Envelope("raw", new ArrayBuffer(0))).payload.byteLength, 0);
});

test("an Envelope with a SharedArrayBuffer body shares the memory", (t) => {
  const shared = new SharedArrayBuffer(2);
  const back = rt(new Envelope({ tag: "img" }, shared));
  new Uint8Array(back.payload)[1] = 6;
  t.is(new Uint8Array(shared)[1], 6);
});

test("an Envelope with a BufferReference body moves it", (t) => {
  const ref = new BufferReference(new Uint8Array([0, 64, 128, 255]));
  const sent = {};
  const back = rt(new Envelope({ op: "invert" }, ref), sent);
  t.true(ref.released);
  t.is(sent.transfer.length, 1);
  t.true(back.payload instanceof BufferReference);
  t.deepEqual([...back.payload.toUint8Array()], [0, 64, 128, 255]);
  back[Symbol.dispose]();
  t.true(back.payload.released);
});

test("an Envelope subclass is accepted and decodes as a base Envelope", (t) => {
  class Tagged extends Envelope {}
  const back = rt(new Tagged(["x"], new ArrayBuffer(1)));
  t.is(Object.getPrototypeOf(back), Envelope.prototype);
  t.deepEqual(back.header, ["x"]);
});

test("Envelope: readonly fields, no validation on construction, dispose semantics", (t) => {
  const odd = new Envelope(Promise.resolve(), "not a body");
  t.is(odd.payload, "not a body");
  t.throws(() => {
    "use strict";
    odd.header = 1;
  });
  odd[Symbol.dispose](); // nothing disposable: no-op

  const bytes = pattern(4).buffer;
  new Envelope({}, bytes)[Symbol.dispose]();
  t.true(hasPattern(new Uint8Array(bytes)));

  let calls = 0;
  new Envelope({}, { [Symbol.dispose]: () => calls++ })[Symbol.dispose]();
  t.is(calls, 1);

  const ref = new BufferReference(pattern(4));
  new Envelope({}, ref)[Symbol.dispose]();
  t.true(ref.released);
});

// ---- BufferReference ------------------------------------------------------------

test("a BufferReference as the whole value is moved, and the source released", (t) => {
  const ref = new BufferReference(pattern(1024));
  const sent = {};
  const back = rt(ref, sent);
  t.true(ref.released);
  t.true(sent.tagged);
  t.is(sent.transfer.length, 1);
  t.true(sent.transfer[0].detached); // moved by the clone
  t.true(back instanceof BufferReference);
  t.is(back.byteLength, 1024);
  t.true(hasPattern(back.toUint8Array()));
  back.release();
});

// ---- refusals ------------------------------------------------------------------

const refusals = [
  ["a function", () => ({ run: function work() {} }), UNSUPPORTED, /function work at arg\.run: .*define the function in the task module/],
  ["an unregistered symbol", () => ({ items: [1, 2, Symbol("x")] }), UNSUPPORTED, /symbol at arg\.items\[2\]: .*Symbol\.for/],
  ["a well-known symbol", () => Symbol.iterator, UNSUPPORTED, /symbol at arg: .*Symbol\.for/],
  ["a Map", () => ({ m: new Map() }), UNSUPPORTED, /type Map at arg\.m: convert it to a plain object or array/],
  ["a Set", () => [new Set()], UNSUPPORTED, /type Set at arg\[0\]: convert it to an array/],
  ["a WeakMap", () => ({ w: new WeakMap() }), UNSUPPORTED, /type WeakMap at arg\.w/],
  ["a class instance", () => ({ "odd key": new (class Point {})() }), UNSUPPORTED, /type Point at arg\["odd key"\]: convert it to a plain object/],
  ["a nested Promise", () => ({ p: Promise.resolve(1) }), UNSUPPORTED, /type Promise at arg\.p: await it first/],
  ["a top-level Promise", () => Promise.resolve(1), UNSUPPORTED, /type Promise at arg: await it first/],
  ["a Blob", () => ({ b: new Blob(["x"]) }), UNSUPPORTED, /type Blob at arg\.b: .*arrayBuffer\(\)/],
  ["a Proxy", () => ({ p: new Proxy({}, {}) }), UNSUPPORTED, /type Proxy at arg\.p/],
  ["a boxed primitive", () => [new String("s")], UNSUPPORTED, /type String at arg\[0\]: send the primitive/],
  ["a typed array subclass", () => ({ v: new (class Pixels extends Uint8Array {})(2) }), UNSUPPORTED, /type Pixels at arg\.v/],
  ["a cyclic object", () => { const o = { a: {} }; o.a.back = o; return o; }, UNSUPPORTED, /Circular reference at arg\.a\.back/],
  ["a cyclic array", () => { const a = [1]; a.push([a]); return a; }, UNSUPPORTED, /Circular reference at arg\[1\]\[0\]/],
  ["a detached ArrayBuffer", () => { const b = new ArrayBuffer(4); b.transfer(); return { b }; }, UNSUPPORTED, /Detached ArrayBuffer at arg\.b/],
  ["a Promise in an Envelope header", () => new Envelope({ p: Promise.resolve() }, new ArrayBuffer(1)), UNSUPPORTED, /Envelope header must be JSON-like.*found Promise at arg\.header\.p/],
  ["a bigint in an Envelope header", () => new Envelope([1n], new ArrayBuffer(1)), UNSUPPORTED, /Envelope header .*found bigint at arg\.header\[0\]/],
  ["an undefined Envelope header", () => new Envelope(undefined, new ArrayBuffer(1)), UNSUPPORTED, /Envelope header .*found undefined at arg\.header/],
  ["a Uint8Array Envelope body", () => new Envelope({}, new Uint8Array(2)), UNSUPPORTED, /Envelope payload must be an ArrayBuffer, SharedArrayBuffer, ProcessSharedBuffer or BufferReference; received Uint8Array at arg\.payload/],
  ["an Envelope without a body", () => ({ e: new Envelope({}) }), UNSUPPORTED, /Envelope payload must be .*received undefined at arg\.e\.payload/],
  ["an arguments object posing as a plain one", () => { const a = (function () { return arguments; })(1, 2); Object.defineProperty(a, Symbol.toStringTag, { value: "Object" }); return [a]; }, UNSUPPORTED, /arguments object at arg\[0\]/],
  ["a Date posing as a plain object", () => { const d = Object.setPrototypeOf(new Date(0), Object.prototype); d[Symbol.toStringTag] = "Object"; return { d }; }, UNSUPPORTED, /a Date whose prototype was replaced at arg\.d/],
  ["a WeakRef without a prototype", () => ({ w: Object.setPrototypeOf(new WeakRef({}), null) }), UNSUPPORTED, /WeakRef or FinalizationRegistry whose prototype was replaced at arg\.w/],
  ["a released BufferReference", () => { const r = new BufferReference(pattern(2)); r.release(); return r; }, RELEASED, /BufferReference at arg has been released/],
  ["a released Envelope body", () => { const r = new BufferReference(pattern(2)); r.release(); return new Envelope({}, r); }, RELEASED, /BufferReference at arg\.payload has been released/],
];

for (const [what, make, expected, message] of refusals) {
  test(`refuses ${what}`, (t) => {
    const transfer = [];
    t.throws(() => encode(make(), transfer), { ...expected, message });
    t.is(transfer.length, 0);
  });
}

test("the label names the value in refusal paths", (t) => {
  t.throws(() => encode({ f() {} }, [], "result"), { ...UNSUPPORTED, message: /at result\.f/ });
});

test("a nested BufferReference is refused and left unconsumed", (t) => {
  const nestings = [
    (ref) => [ref],
    (ref) => ({ body: ref }),
    (ref) => ({ envelope: new Envelope({}, ref) }),
  ];
  for (const nest of nestings) {
    const ref = new BufferReference(pattern(8));
    t.throws(() => encode(nest(ref), []), {
      ...UNSUPPORTED,
      message: /BufferReference at arg.*whole argument\/result.*Envelope/,
    });
    t.false(ref.released);
    t.true(hasPattern(ref.toUint8Array()));
    ref.release();
  }
});

test("a refused Envelope leaves its BufferReference body unconsumed", (t) => {
  const ref = new BufferReference(pattern(8));
  const transfer = [];
  t.throws(() => encode(new Envelope({ when: new Date() }, ref), transfer), {
    ...UNSUPPORTED,
    message: /found Date at arg\.header\.when/,
  });
  t.is(transfer.length, 0);
  t.false(ref.released);
  t.true(hasPattern(ref.toUint8Array()));
  ref.release();
});

test("a value whose parts share parts costs its size, not its paths; past 64 arrays and objects, a part reached again arrives as one", (t) => {
  let plain = { leaf: 1 };
  let tagged = { leaf: 1n };
  for (let i = 0; i < 64; i++) {
    plain = { a: plain, b: plain };
    tagged = { a: tagged, b: [tagged, Symbol.for("s")] };
  }
  /** Distinct objects in a decoded graph (2^64 paths through it). */
  const distinct = (root) => {
    const seen = new Set();
    const visit = (value) => {
      if (typeof value !== "object" || value === null || seen.has(value)) return;
      seen.add(value);
      for (const child of Object.values(value)) visit(child);
    };
    visit(root);
    return seen.size;
  };
  const sent = {};
  const back = rt(plain, sent);
  t.false(sent.json, "JSON would copy it once per path");
  t.true(distinct(back) < 400, `${distinct(back)} objects arrived for 65`);
  const backTagged = rt(tagged);
  t.true(distinct(backTagged) < 800);
  t.is(backTagged.b[1], Symbol.for("s"));
  let bottom = backTagged;
  while (bottom.leaf === undefined) bottom = bottom.b[0];
  t.is(bottom.leaf, 1n);
  // Small values skip the tracking: a repeated part arrives as a copy, as JSON makes it.
  const shared = { k: 1 };
  const pair = rt([shared, shared]);
  t.deepEqual(pair, [{ k: 1 }, { k: 1 }]);
  const filler = Array.from({ length: 70 }, () => ({}));
  const large = rt([filler, shared, shared]);
  t.is(large[1], large[2], "past the first 64, it arrives as one");
});

test("a toJSON a getter adds to Object.prototype while the value is read does not change what arrives", (t) => {
  const value = { get x() { Object.prototype.toJSON = () => "POLLUTED"; return 1; } };
  const sent = {};
  try {
    t.deepEqual(rt(value, sent), { x: 1 });
    t.false(sent.json);
  } finally {
    delete Object.prototype.toJSON;
  }
});

test("an Envelope header array keeps its length (trailing holes too)", (t) => {
  const back = rt(new Envelope([1, , ,], new ArrayBuffer(1)));
  t.is(back.header.length, 3);
  t.false(1 in back.header);
});

test("an AggregateError keeps its class and its errors", (t) => {
  const back = rt(new AggregateError([new TypeError("one"), "two"], "both failed", { cause: 3 }));
  t.true(back instanceof AggregateError);
  t.is(back.message, "both failed");
  t.is(back.cause, 3);
  t.true(back.errors[0] instanceof TypeError);
  t.deepEqual([back.errors[0].message, back.errors[1]], ["one", "two"]);
});

test("an Envelope header whose parts share parts, and a large buffer reached 2,000 times, each cost their size", (t) => {
  let header = { leaf: 1 };
  for (let i = 0; i < 40; i++) header = { a: header, b: header };
  const back = rt(new Envelope(header, new ArrayBuffer(1)));
  let bottom = back.header;
  for (let i = 0; i < 40; i++) bottom = bottom.b;
  t.is(bottom.leaf, 1);
  const big = pattern(1 << 20);
  const sent = {};
  const many = rt(Array(2000).fill(big), sent);
  t.is(sent.transfer.length, 1, "copied once");
  t.is(many[0], many[1999], "and it arrives as one buffer");
  t.true(hasPattern(many[1999]));
});
