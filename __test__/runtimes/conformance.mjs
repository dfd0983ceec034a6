// The runtime conformance subset (issue #11): what every runtime we support
// must do, in one plain script that runs unchanged on Node, Deno and Bun
// (ava runs on Node only). Pool basics, payload kinds, errors, worker death,
// shutdown, BufferReference both ways in both return modes (read after the
// worker is gone, addresses compared), and a leak check.
//
//   node conformance.mjs
//   deno run --allow-env --allow-read --allow-ffi conformance.mjs
//   bun conformance.mjs
//
// Prints one line per test and a summary; exits 1 if any test failed.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import process from "node:process";
import { threadId } from "node:worker_threads";
import { createPool, isMain } from "knitting";
import { BufferReference, BufferReferenceReturn, addressOf, referenceStats } from "knitting/unsafe";
import { ProcessSharedBuffer, sharedMemoryStats } from "knitting/shared-memory";
import * as tasks from "./conformance-tasks.mjs";

const runtime = typeof globalThis.Deno !== "undefined" ? `deno ${globalThis.Deno.version.deno}` : process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`;
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const pattern = (n) => Uint8Array.from({ length: n }, (_, i) => i & 255);
const code = (c) => (error) => error?.code === c;

test("a pool runs calls on worker threads, isMain tells them apart", async () => {
  await using pool = createPool({ threads: 2 })(tasks);
  assert.equal(isMain, true);
  const there = await pool.call.where();
  assert.notEqual(there.threadId, threadId);
  assert.equal(there.isMain, false);
  const sums = await Promise.all(Array.from({ length: 500 }, (_, i) => pool.call.add([i, 1])));
  assert.deepEqual(sums, Array.from({ length: 500 }, (_, i) => i + 1));
});

test("payload kinds arrive as sent", async () => {
  await using pool = createPool({ threads: 1 })(tasks);
  const values = [
    0, -0, 1.5, NaN, -Infinity, 2n ** 70n, "", "héllo ✓ \ud800", true, null, undefined, Symbol.for("k"),
    [1, [2, [3]], , 4], { a: 1, nested: { b: [true, null] } }, new Date(0), new Uint8Array([1, 2, 3]),
    new Float64Array([1.5, -2]), new DataView(new ArrayBuffer(4)), new ArrayBuffer(8), "x".repeat(100_000),
    new Float64Array(20_000).fill(-1.5), new Uint8Array(300_000).fill(7).subarray(5, 200_005), // large: copied by the native engine
  ];
  for (const value of values) assert.deepEqual(await pool.call.echo(value), value);
  const buffer = await pool.call.echo(Buffer.alloc(100_000, 3));
  assert.ok(Buffer.isBuffer(buffer) && buffer.length === 100_000 && buffer.every((b) => b === 3));
  const error = await pool.call.echo(new RangeError("as a value", { cause: 7 }));
  assert.ok(error instanceof RangeError && error.message === "as a value" && error.cause === 7);
  await assert.rejects(pool.call.echo(new Map()), code("ERR_KNITTING_UNSUPPORTED_PAYLOAD"));
  const sab = new SharedArrayBuffer(64);
  assert.equal(await pool.call.fillShared(sab), 64);
  assert.ok(new Int32Array(sab).every((v) => v === 1), "a SharedArrayBuffer is shared, not copied");
});

test("errors keep their class, code and cause; bad input is refused with a code", async () => {
  await using pool = createPool({ threads: 1 })(tasks);
  await assert.rejects(pool.call.throwCoded("boom"), (error) => error instanceof TypeError && error.code === "E_CONFORMANCE" && error.cause?.message === "inner");
  await assert.rejects(pool.call.echo(() => 1), code("ERR_KNITTING_UNSUPPORTED_PAYLOAD"));
  assert.throws(() => createPool({ threads: -1 })(tasks), code("ERR_KNITTING_INVALID_OPTION"));
  assert.equal(await pool.call.add([2, 2]), 4, "the pool still serves");
});

test("a dying worker rejects only its call, and is replaced", async () => {
  await using pool = createPool({ threads: 1 })(tasks);
  await assert.rejects(pool.call.exitWorker(3), code("ERR_KNITTING_WORKER_EXITED"));
  assert.equal(await pool.call.add([1, 1]), 2);
});

test("shutdown rejects calls in flight and then refuses new ones", async () => {
  const pool = createPool({ threads: 1 })(tasks);
  const pending = pool.call.sleep(60_000).then(() => "resolved", (error) => error);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await pool.shutdown();
  assert.equal((await pending).code, "ERR_KNITTING_THREAD_CLOSED");
  await assert.rejects(pool.call.add([1, 1]), code("ERR_KNITTING_POOL_CLOSED"));
});

test("pool.stats() counts calls everywhere, and times them where threads can share histograms (Node)", async () => {
  await using pool = createPool({ threads: 1 })(tasks);
  await pool.call.add([1, 2]);
  await pool.call.throwCoded("counted").catch(() => {});
  const stats = pool.stats();
  assert.equal(stats.completed, 1);
  assert.equal(stats.failed, 1);
  if (runtime.startsWith("node")) {
    assert.equal(stats.runTime.count, 2);
  } else {
    assert.equal(stats.runTime, undefined);
    assert.throws(() => createPool({ threads: 1, stats: true })(tasks), code("ERR_KNITTING_UNSUPPORTED_OPTION"));
  }
});

test("a BufferReference reaches the worker without a copy (same address)", async () => {
  await using pool = createPool({ threads: 1 })(tasks);
  const bytes = pattern(1 << 20);
  const address = addressOf(bytes);
  const ref = new BufferReference(bytes);
  assert.equal(bytes.byteLength, 0, "the source is moved");
  const seen = await pool.call.inspect(ref);
  assert.equal(ref.released, true, "a sent reference is consumed");
  assert.equal(BigInt(seen.address), address);
  assert.equal(seen.sum, (1 << 20) / 256 * (255 * 256 / 2));
});

for (const mode of [BufferReferenceReturn.Copy, BufferReferenceReturn.Borrow]) {
  test(`returned references (${mode}) hold their bytes after the worker is gone`, async () => {
    const pool = createPool({ threads: 1, unsafe: { BufferReferenceReturn: mode } })(tasks);
    const envelope = await pool.call.produce(1 << 20);
    const bare = await pool.call.produceBare(4096);
    const sent = pattern(8192);
    const sentAt = addressOf(sent);
    const same = await pool.call.plusOneInPlace(new BufferReference(sent));
    await pool.shutdown();
    const view = envelope.payload.toUint8Array();
    zeroCopy[mode] = BigInt(envelope.header.address) === addressOf(view);
    assert.equal(view.length, 1 << 20);
    assert.ok(view.every((b, i) => b === ((i * 7) & 255)), "bytes intact after shutdown");
    assert.ok(bare.toUint8Array().every((b, i) => b === ((i * 7) & 255)));
    assert.equal(addressOf(same.toUint8Array()), sentAt, "a reference returned in place comes back to the same memory");
    assert.ok(same.toUint8Array().every((b, i) => b === ((i + 1) & 255)));
    envelope.payload.release();
    bare.release();
    same.release();
    assert.equal(view.length, 0, "release detaches the views handed out");
  });
}
const zeroCopy = {};

test("a ProcessSharedBuffer is the same memory in every worker; closing detaches its views", async () => {
  const before = sharedMemoryStats();
  {
    await using pool = createPool({ threads: 2 })(tasks);
    const psb = ProcessSharedBuffer.create(64);
    await Promise.all(Array.from({ length: 40 }, () => pool.call.bumpShared({ psb, by: 1 })));
    assert.equal(Atomics.load(psb.view(Int32Array), 0), 40);
    const view = psb.bytes();
    psb.descriptor.mapping.close();
    assert.equal(view.length, 0);
  }
  assert.deepEqual(sharedMemoryStats(), before);
});

test("no reference outlives its release or its collection (leak check)", async () => {
  const before = referenceStats();
  await roundTrips(200); // in a function of its own: its suspended frame must not keep a reference alive
  for (let i = 0; i < 100 && referenceStats().liveRegions > before.liveRegions; i++) {
    globalThis.gc?.();
    globalThis.Bun?.gc(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const after = referenceStats();
  assert.equal(after.liveRegions, before.liveRegions, `live regions before ${before.liveRegions}, after ${after.liveRegions}`);
  assert.equal(after.leakedRegions, before.leakedRegions);
});

async function roundTrips(rounds) {
  await using pool = createPool({ threads: 2 })(tasks);
  for (let round = 0; round < rounds; round++) {
    const back = await pool.call.plusOneInPlace(new BufferReference(pattern(64 * 1024)));
    if (round % 2 === 0) back.release(); // the others are left to the garbage collector
  }
}

let failed = 0;
console.log(`# knitting conformance on ${runtime}`);
test("process workers (this runtime as the child): calls, payloads, errors, the boundary, shared memory, a dying child", async () => {
  await using pool = createPool({ threads: 2, worker: { runtime: "process" } })(tasks);
  const there = await pool.call.where();
  assert.notEqual(there.pid, process.pid);
  assert.equal(there.isMain, false);
  const sums = await Promise.all(Array.from({ length: 300 }, (_, i) => pool.call.add([i, 1])));
  assert.deepEqual(sums, Array.from({ length: 300 }, (_, i) => i + 1));
  for (const value of [2n ** 70n, "héllo", [1, , 3], { a: new Date(1) }, new Float64Array([1.5]), Buffer.from("b"), new ArrayBuffer(3)]) {
    assert.deepEqual(await pool.call.echo(value), value);
  }
  await assert.rejects(pool.call.throwCoded("no"), (e) => e instanceof TypeError && e.code === "E_CONFORMANCE" && e.cause?.message === "inner");
  const ref = new BufferReference(pattern(16));
  await assert.rejects(pool.call.echo(ref), code("ERR_KNITTING_PROCESS_BOUNDARY"));
  assert.equal(ref.released, false, "a refused reference is not consumed");
  ref.release();
  await assert.rejects(pool.call.echo(new SharedArrayBuffer(4)), code("ERR_KNITTING_PROCESS_BOUNDARY"));
  const psb = ProcessSharedBuffer.create(64);
  await Promise.all(Array.from({ length: 10 }, () => pool.call.bumpShared({ psb, by: 2 })));
  assert.equal(Atomics.load(psb.view(Int32Array), 0), 20, "children added to the same word");
  psb.descriptor.mapping.close();
  const results = await Promise.allSettled([pool.call.exitWorker(3), ...Array.from({ length: 20 }, (_, i) => pool.call.add([i, 0]))]);
  assert.equal(results[0].reason?.code, "ERR_KNITTING_WORKER_EXITED");
  assert.equal(results.filter((r) => r.status === "rejected").length, 1, "only the dying child's call failed");
  assert.equal(await pool.call.add([2, 2]), 4, "a replacement serves");
});

for (const { name, fn } of tests) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (error) {
    failed++;
    console.log(`not ok - ${name}\n${String(error?.stack ?? error).replace(/^/gm, "  ")}`);
  }
}
console.log(`# returned references zero-copy: copy ${zeroCopy.copy}, borrow ${zeroCopy.borrow}`);
console.log(`# ${tests.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
