// The GC backstop and steady-state leak checks. Run with --expose-gc (the
// ava config passes it); every test is serial because the registry counters
// are process-wide.
import test from "ava";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { setImmediate as nextTurn } from "node:timers/promises";
import { BufferReference, referenceStats } from "knitting/unsafe";
import { createPool } from "knitting";
import { echo } from "./fixtures/tasks.mjs";
import { collectUntil, hasPattern, liveRegions, pattern } from "./helpers.mjs";

const MiB = 1 << 20;

test.serial("a dropped reference is collected and leaves the registry", async (t) => {
  const baseline = liveRegions();
  (() => {
    for (let i = 0; i < 100; i++) new BufferReference(pattern(4096));
  })();
  t.is(liveRegions(), baseline + 100);
  t.true(await collectUntil(() => liveRegions() === baseline));
});

test.serial("a view outliving its collected reference keeps its bytes intact", async (t) => {
  const baseline = liveRegions();
  const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
  let view = (() => new BufferReference(pattern(4 * MiB, 3)).toUint8Array())();
  t.true(await collectUntil(() => liveRegions() === baseline), "the reference itself was collected");
  t.is(view.length, 4 * MiB);
  t.true(hasPattern(view, 3), "the view still reads every byte");
  view = null;
  t.true(
    await collectUntil(() => process.memoryUsage().arrayBuffers < arrayBuffersBefore + MiB),
    "the bytes are freed once the view is gone too",
  );
});

test.serial("10,000 references of 1 MiB, half released and half collected, leave nothing behind", async (t) => {
  const baseline = referenceStats();
  globalThis.gc();
  const { rss: rssBefore, arrayBuffers: arrayBuffersBefore } = process.memoryUsage();
  let rssPeak = rssBefore;
  // A plain function, so no reference outlives its iteration in the async
  // function's saved context.
  const churn = (i) => {
    const ref = new BufferReference(new Uint8Array(MiB).fill(i & 255));
    const view = ref.toUint8Array();
    if (view[MiB - 1] !== (i & 255)) t.fail(`reference ${i} read wrong bytes`);
    if (i % 2 === 0) ref.release();
  };
  for (let i = 0; i < 10_000; i++) {
    churn(i);
    if (i % 500 === 0) {
      await nextTurn();
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
  }
  t.true(await collectUntil(() => liveRegions() === baseline.liveRegions));
  const after = referenceStats();
  t.deepEqual(after, baseline, "registry back to where it started");
  const rssAfter = process.memoryUsage().rss;
  t.true(
    await collectUntil(() => process.memoryUsage().arrayBuffers < arrayBuffersBefore + 16 * MiB),
    "the engine has freed the bytes of the collected references",
  );
  t.log(`RSS before ${(rssBefore / MiB) | 0} MiB, peak ${(rssPeak / MiB) | 0} MiB, after ${(rssAfter / MiB) | 0} MiB`);
  t.true(rssPeak - rssBefore < 1024 * MiB, "RSS stays bounded while 10 GiB flow through");
});

for (const ending of ["terminate", "exit"]) {
  test.serial(`references a worker never released are freed when the worker ends (${ending})`, async (t) => {
    const baseline = liveRegions();
    const worker = new Worker(new URL("./fixtures/hold-references.mjs", import.meta.url), {
      workerData: { count: 40, size: 64 * 1024 },
    });
    await once(worker, "message");
    t.is(liveRegions(), baseline + 40, "the worker's references are in the one process-wide registry");
    if (ending === "terminate") await worker.terminate();
    else {
      worker.postMessage("exit");
      await once(worker, "exit");
    }
    t.true(await collectUntil(() => liveRegions() === baseline));
  });
}

test.serial("pools made and shut down one after another do not pile up their shared memory", async (t) => {
  t.timeout(120_000);
  globalThis.gc();
  const arrayBuffers = () => process.memoryUsage().arrayBuffers;
  const before = arrayBuffers();
  await createPool({ threads: 1 })({ echo }).shutdown();
  const perPool = arrayBuffers() - before; // its SharedArrayBuffers (about 10 MB)
  t.true(perPool > MiB);
  let peak = 0;
  for (let i = 0; i < 100; i++) {
    await createPool({ threads: 1 })({ echo }).shutdown();
    peak = Math.max(peak, arrayBuffers() - before);
  }
  // V8 does not weigh SharedArrayBuffers when it decides to collect: without
  // the pools telling it, all 100 stayed until some later full collection.
  t.true(peak < 50 * perPool, `at most ${Math.round(peak / perPool)} pools' shared memory held at once`);
});
