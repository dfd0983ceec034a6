// Controlling running work (issue #10): cancellation (AbortSignal per call,
// the abort toolkit and reject() of abort-aware tasks), hard deadlines that
// free a stuck worker, resource limits. Who ran what is proven with shared
// flags (fixtures/scheduling-tasks.mjs), never with timings.
import test from "ava";
import { setEnvironmentData, threadId } from "node:worker_threads";
import { createPool } from "knitting";
import * as tasks from "./fixtures/scheduling-tasks.mjs";
import { FLAGS_KEY, MARKS, RELEASE } from "./fixtures/scheduling-tasks.mjs";

const flags = new Int32Array(new SharedArrayBuffer(4 * (MARKS + 2048)));
setEnvironmentData(FLAGS_KEY, flags.buffer);

async function until(slot, value = 1) {
  while (Atomics.load(flags, slot) < value) {
    const { async, value: waiting } = Atomics.waitAsync(flags, slot, Atomics.load(flags, slot), 1000);
    if (async) await waiting;
  }
}

test.serial("an already-aborted signal rejects at once with its reason; the task never runs", async (t) => {
  flags.fill(0);
  using pool = createPool({ threads: 1 })({ markStarted: tasks.markStarted });
  const controller = new AbortController();
  controller.abort(new Error("no longer wanted"));
  await t.throwsAsync(pool.call.markStarted(MARKS, { signal: controller.signal }), { message: "no longer wanted" });
  await pool.call.markStarted(MARKS + 1);
  t.is(Atomics.load(flags, MARKS), 0, "the aborted call never ran");
});

test.serial("aborting a queued call removes it without running it; the calls around it run", async (t) => {
  t.timeout(30_000);
  flags.fill(0);
  using pool = createPool({ threads: 1 })({ holdUntilReleased: tasks.holdUntilReleased, markStarted: tasks.markStarted });
  const held = pool.call.holdUntilReleased(1);
  await until(1); // the only worker is busy: what follows waits in the queue
  const controller = new AbortController();
  const before = pool.call.markStarted(MARKS);
  const aborted = pool.call.markStarted(MARKS + 1, { signal: controller.signal });
  const after = pool.call.markStarted(MARKS + 2);
  controller.abort();
  const error = await t.throwsAsync(aborted);
  t.is(error.name, "AbortError", "the signal's reason");
  Atomics.store(flags, RELEASE, 1);
  await Promise.all([held, before, after]);
  t.is(Atomics.load(flags, MARKS), 1);
  t.is(Atomics.load(flags, MARKS + 1), 0, "the aborted call never ran");
  t.is(Atomics.load(flags, MARKS + 2), 1);
});

test.serial("aborting a running call tells the task (hasAborted) and rejects with the signal's reason", async (t) => {
  t.timeout(30_000);
  flags.fill(0);
  using pool = createPool({ threads: 1 })({ spinUntilAborted: tasks.spinUntilAborted, whereAmI: tasks.whereAmI });
  const controller = new AbortController();
  const call = pool.call.spinUntilAborted(1, { signal: controller.signal });
  await until(1);
  controller.abort(new RangeError("stop"));
  await t.throwsAsync(call, { instanceOf: RangeError, message: "stop" });
  await until(1, 2); // the task saw hasAborted() and returned
  t.not(await pool.call.whereAmI(), threadId, "the worker serves again");
});

test.serial("reject() without a reason tells an abort-aware task and the call settles with what it returns", async (t) => {
  t.timeout(30_000);
  flags.fill(0);
  using pool = createPool({ threads: 1 })({ spinUntilAborted: tasks.spinUntilAborted, waitForSignal: tasks.waitForSignal });
  const call = pool.call.spinUntilAborted(1);
  t.is(typeof call.reject, "function");
  await until(1);
  call.reject();
  t.is(await call, "saw the abort");
  const waiting = pool.call.waitForSignal(2);
  await until(2);
  waiting.reject();
  t.is(await waiting, "aborted: AbortError", "an async task's signal fired");
  const rejected = pool.call.waitForSignal(3);
  await until(3);
  rejected.reject(new Error("given up"));
  await t.throwsAsync(rejected, { message: "given up" });
});

test.serial("a call past its hard deadline rejects with ERR_KNITTING_TASK_TIMEOUT and only its worker is replaced", async (t) => {
  t.timeout(60_000);
  flags.fill(0);
  using pool = createPool({ threads: 2 })({ stuckForever: tasks.stuckForever, holdUntilReleased: tasks.holdUntilReleased, whereAmI: tasks.whereAmI });
  const other = pool.call.holdUntilReleased(2);
  await until(2); // one worker is busy with something that will finish
  const stuck = pool.call.stuckForever(1, { hardTimeoutMs: 300 });
  await until(1);
  const error = await t.throwsAsync(stuck, { code: "ERR_KNITTING_TASK_TIMEOUT" });
  t.regex(error.message, /Task timeout.*300 ms/);
  Atomics.store(flags, RELEASE, 1);
  t.true((await other) > 0, "the call on the other worker finished");
  const ids = new Set(await Promise.all(Array.from({ length: 20 }, () => pool.call.whereAmI())));
  t.true(ids.size >= 1, "the pool serves again, with a replacement for the stuck worker");
});

test.serial("worker.hardTimeoutMs applies to every call; a call that finishes in time is not affected", async (t) => {
  t.timeout(60_000);
  flags.fill(0);
  using pool = createPool({ threads: 1, worker: { hardTimeoutMs: 2000 } })({ stuckForever: tasks.stuckForever, whereAmI: tasks.whereAmI });
  t.not(await pool.call.whereAmI(), threadId);
  await t.throwsAsync(pool.call.stuckForever(1), { code: "ERR_KNITTING_TASK_TIMEOUT" });
  t.not(await pool.call.whereAmI(), threadId);
});

test.serial("a worker out of memory (worker.resourceLimits) rejects only its calls, with the cause, and is replaced", async (t) => {
  t.timeout(60_000);
  using pool = createPool({ threads: 1, worker: { resourceLimits: { maxOldGenerationSizeMb: 32 } } })({ hog: tasks.hog, whereAmI: tasks.whereAmI });
  const error = await t.throwsAsync(pool.call.hog(), { code: "ERR_KNITTING_WORKER_EXITED" });
  t.is(error.cause?.code, "ERR_WORKER_OUT_OF_MEMORY");
  t.not(await pool.call.whereAmI(), threadId);
});

test.serial("code after `await pool.call.x()` runs in its caller's AsyncLocalStorage context, with calls of other contexts in flight", async (t) => {
  const { AsyncLocalStorage } = await import("node:async_hooks");
  const als = new AsyncLocalStorage();
  using pool = createPool({ threads: 2 })({ echo: tasks.echo });
  const seen = [];
  const caller = (name) =>
    als.run({ name }, async () => {
      for (let i = 0; i < 50; i++) {
        await pool.call.echo(i);
        seen.push([name, als.getStore()?.name]);
        const all = await Promise.all([pool.call.echo(i), pool.call.echo(-i)]);
        seen.push([name, all.length === 2 ? als.getStore()?.name : undefined]);
      }
    });
  await Promise.all(["a", "b", "c"].map(caller));
  t.is(seen.length, 300);
  t.deepEqual(seen.filter(([name, store]) => name !== store), [], "every continuation saw its own context");
});
