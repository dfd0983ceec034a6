// BufferReference through the pool: zero-copy both ways, one-shot, and no
// use-after-free however the worker ends. The ava config runs tests with
// MALLOC_MMAP_THRESHOLD_=131072, so large freed buffers are unmapped and a
// read of freed memory would crash instead of passing silently.
import test from "ava";
import { createPool, Envelope } from "knitting";
import { BufferReference, addressOf, referenceStats } from "knitting/unsafe";
import * as tasks from "./fixtures/reference-tasks.mjs";
import { collectUntil, pattern, hasPattern, liveRegions } from "./helpers.mjs";

const MiB = 1 << 20;
const RELEASED = { code: "ERR_KNITTING_RELEASED" };

test("a reference argument reaches the worker without a copy (same address), and is consumed at once", async (t) => {
  using pool = createPool({ threads: 1 })({ inspect: tasks.inspect });
  const source = pattern(8 * MiB);
  const address = addressOf(source);
  const ref = new BufferReference(source);
  const pending = pool.call.inspect(ref);
  t.true(ref.released, "the host's reference is consumed as soon as call() takes it");
  t.throws(() => ref.toUint8Array(), RELEASED);
  const seen = await pending;
  t.is(seen.address, address, "the worker reads the very same memory");
  t.is(seen.length, 8 * MiB);
  t.not(seen.thread, 0);
});

test("the worker's views of an argument are detached when the task settles", async (t) => {
  using pool = createPool({ threads: 1 })({ stashView: tasks.stashView, stashedLength: tasks.stashedLength });
  t.is(await pool.call.stashView(new BufferReference(pattern(64))), 64);
  t.is(await pool.call.stashedLength(), 0, "a view stashed in a global reads length 0 on the next call");
});

test("sending a reference twice, or after release, rejects that call only", async (t) => {
  using pool = createPool({ threads: 1 })({ inspect: tasks.inspect });
  const ref = new BufferReference(pattern(16));
  const first = pool.call.inspect(ref);
  await t.throwsAsync(pool.call.inspect(ref), RELEASED);
  t.is((await first).length, 16);
  const released = new BufferReference(pattern(4));
  released.release();
  const error = await t.throwsAsync(pool.call.inspect(released), RELEASED);
  t.regex(error.message, /released/);
});

test("a reference nested in an object is refused and not consumed", async (t) => {
  using pool = createPool({ threads: 1 })({ inspect: tasks.inspect, nestedReference: tasks.nestedReference });
  const ref = new BufferReference(pattern(8));
  const error = await t.throwsAsync(pool.call.inspect({ ref }), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD" });
  t.regex(error.message, /whole argument|Envelope/);
  t.false(ref.released);
  t.true(hasPattern(ref.toUint8Array()));
  await t.throwsAsync(pool.call.nestedReference(), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD" });
  ref.release();
});

for (const mode of ["copy", "borrow"]) {
  test(`a returned reference is a BufferReference the host owns (${mode})`, async (t) => {
    using pool = createPool({ threads: 1, unsafe: { BufferReferenceReturn: mode } })({ produce: tasks.produce, plusOne: tasks.plusOne });
    const result = await pool.call.produce(5);
    t.true(result instanceof BufferReference);
    t.deepEqual([...result.toUint8Array()], [0, 3, 6, 9, 12]);
    result.release();
    t.throws(() => result.toUint8Array(), RELEASED);
    const input = new Uint8Array([1, 2, 3, 4]);
    const echoed = await pool.call.plusOne(new BufferReference(input));
    t.is(input.byteLength, 0);
    t.deepEqual([...echoed.toUint8Array()], [2, 3, 4, 5]);
    echoed.release();
  });
}

test("a task may return the reference it received: the same memory comes back", async (t) => {
  using pool = createPool({ threads: 1 })({ touchInPlace: tasks.touchInPlace, touchViewInPlace: tasks.touchViewInPlace });
  for (const name of ["touchInPlace", "touchViewInPlace"]) {
    const source = pattern(8 * MiB);
    const address = addressOf(source);
    const result = await pool.call[name](new BufferReference(source));
    const view = result.toUint8Array();
    t.is(addressOf(view), address, `${name}: no copy on the way out or back`);
    t.is(view[0], name === "touchInPlace" ? 0xee : 0xdd);
    t.true(hasPattern(view.subarray(1), 1));
    result.release();
  }
});

test("an Envelope carries a reference both ways; disposing it releases the reference", async (t) => {
  using pool = createPool({ threads: 1 })({ invertEnvelope: tasks.invertEnvelope });
  const ref = new BufferReference(new Uint8Array([0, 64, 128, 255]));
  const result = await pool.call.invertEnvelope(new Envelope({ op: "invert" }, ref));
  t.true(ref.released);
  t.true(result instanceof Envelope);
  t.deepEqual(result.header, { op: "invert:done" });
  t.true(result.payload instanceof BufferReference);
  t.deepEqual([...result.payload.toUint8Array()], [255, 191, 127, 0]);
  const body = result.payload;
  result[Symbol.dispose]();
  t.true(body.released);
  const bytes = new Uint8Array([1, 2]).buffer;
  new Envelope({}, bytes)[Symbol.dispose]();
  t.is(bytes.byteLength, 2, "an ArrayBuffer body is unaffected by dispose");
});

// ---- the bytes outlive the worker ----

async function holdThen(t, end, mode) {
  const pool = createPool({ threads: 1, unsafe: { BufferReferenceReturn: mode } })({
    produceThenExit: tasks.produceThenExit,
    hang: tasks.hang,
  });
  const n = 8 * MiB;
  const refs = [];
  for (let i = 0; i < 3; i++) refs.push(await pool.call.produceThenExit({ n, exit: false }));
  const views = refs.map((ref) => ref.toUint8Array());
  if (end === "crash") {
    refs.push(await pool.call.produceThenExit({ n, exit: true }));
    views.push(refs.at(-1).toUint8Array());
    await new Promise((resolve) => setTimeout(resolve, 200));
  } else if (end === "shutdown") await pool.shutdown();
  else {
    // Terminated in the middle of a call.
    const stuck = pool.call.hang();
    await pool.shutdown();
    await t.throwsAsync(stuck, { code: "ERR_KNITTING_THREAD_CLOSED" });
  }
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const [i, view] of views.entries()) {
    t.is(view.length, n, `view ${i} still spans its bytes`);
    let ok = true;
    for (let j = 0; j < n; j += 1) if (view[j] !== ((j * 7) & 255)) ok = false;
    t.true(ok, `view ${i} reads every byte correctly`);
    t.is(refs[i].toUint8Array()[n - 1], ((n - 1) * 7) & 255, `reference ${i} still reads its bytes`);
  }
  for (const ref of refs) ref.release();
  await pool.shutdown();
}

for (const mode of ["copy", "borrow"]) {
  for (const end of ["shutdown", "terminate", "crash"]) {
    test.serial(`returned references and their views stay valid after the worker's ${end} (${mode})`, (t) => holdThen(t, end, mode));
  }
}

// ---- no leaks ----

test.serial("10,000 round trips of 1 MiB, released or left to the GC, leave nothing behind", async (t) => {
  const pool = createPool({ threads: 1 })({ touchInPlace: tasks.touchInPlace });
  const before = referenceStats();
  globalThis.gc();
  const { arrayBuffers } = process.memoryUsage();
  for (let i = 0; i < 10_000; i++) {
    const result = await pool.call.touchInPlace(new BufferReference(new Uint8Array(MiB)));
    if (result.byteLength !== MiB) t.fail("wrong length");
    if (i % 2 === 0) result.release();
  }
  t.true(await collectUntil(() => liveRegions() === before.liveRegions), "registry back where it started");
  t.true(
    await collectUntil(() => process.memoryUsage().arrayBuffers < arrayBuffers + 32 * MiB),
    "the engine freed the bytes",
  );
  await pool.shutdown();
});
