// pool.stats() (issue #10): what is queued and running, by whom, how many
// calls completed or failed, and node:perf_hooks histograms of how long calls
// waited and ran. Checked against calls whose state the test controls with
// shared flags (fixtures/scheduling-tasks.mjs), and against durations the
// tasks measure themselves: never against this machine's speed.
import test from "ava";
import { setEnvironmentData } from "node:worker_threads";
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

test.serial("stats count every call once: completed, failed, and run and wait histograms of real calls", async (t) => {
  using pool = createPool({ threads: 2 })({ echo: tasks.echo, busyFor: tasks.busyFor, fails: tasks.fails });
  const before = pool.stats();
  t.like(before, { queueSize: 0, running: 0, completed: 0, failed: 0 });
  t.is(before.runTime.count, 0);
  // Tiny calls back to back, slow calls, failing calls, all in flight at once.
  const tiny = Array.from({ length: 500 }, (_, i) => pool.call.echo(i));
  const slow = Array.from({ length: 4 }, () => pool.call.busyFor(20));
  const failing = Array.from({ length: 3 }, (_, i) => pool.call.fails(`no ${i}`));
  const ran = await Promise.all(slow);
  await Promise.all(tiny);
  await Promise.allSettled(failing);
  const stats = pool.stats();
  t.is(stats.completed, 504);
  t.is(stats.failed, 3);
  t.is(stats.queueSize, 0);
  t.is(stats.running, 0);
  t.is(stats.runTime.count, 507, "every call that ran is in the run-time histogram");
  t.is(stats.waitTime.count, 507, "and in the wait-time histogram");
  // Nanoseconds: the slow calls ran at least as long as they measured (hdr keeps 3 significant digits).
  t.true(stats.runTime.max >= Math.min(...ran) * 1e6 * 0.999, `runTime.max ${stats.runTime.max} ns covers a ${Math.min(...ran)} ms call`);
  t.is(stats.workers.length, 2);
  t.is(stats.workers.reduce((sum, w) => sum + w.calls, 0), 507, "the workers' calls add up");
  t.true(stats.utilization > 0 && stats.utilization <= 1);
  for (const worker of stats.workers) t.true(worker.utilization >= 0 && worker.utilization <= 1);
});

test.serial("a caller holding a result finds its call counted, one call at a time", async (t) => {
  using pool = createPool({ threads: 1 })({ echo: tasks.echo });
  for (let i = 1; i <= 200; i++) {
    await pool.call.echo(i);
    const { runTime, waitTime, completed } = pool.stats();
    if (runTime.count !== i || waitTime.count !== i || completed !== i) {
      return t.fail(`after call ${i}: runTime ${runTime.count}, waitTime ${waitTime.count}, completed ${completed}`);
    }
  }
  t.pass();
});

test.serial("queueSize and running follow the calls; an aborted call is neither", async (t) => {
  t.timeout(30_000);
  flags.fill(0);
  using pool = createPool({ threads: 1 })({ holdUntilReleased: tasks.holdUntilReleased, markStarted: tasks.markStarted });
  const held = pool.call.holdUntilReleased(1);
  await until(1);
  const controller = new AbortController();
  const queued = [pool.call.markStarted(MARKS), pool.call.markStarted(MARKS + 1, { signal: controller.signal }), pool.call.markStarted(MARKS + 2)];
  let stats = pool.stats();
  t.is(stats.running, 1);
  t.is(stats.queueSize, 3);
  t.is(stats.workers[0].running, 1);
  controller.abort();
  await t.throwsAsync(queued[1], { name: "AbortError" });
  stats = pool.stats();
  t.is(stats.queueSize, 2, "the aborted call no longer counts as queued");
  t.is(stats.failed, 1);
  Atomics.store(flags, RELEASE, 1);
  await Promise.all([held, queued[0], queued[2]]);
  stats = pool.stats();
  t.like(stats, { queueSize: 0, running: 0, completed: 3, failed: 1 });
  t.is(stats.runTime.count, 3, "the aborted call never ran");
  t.is(Atomics.load(flags, MARKS + 1), 0);
});

test.serial("with stats: false the counts remain, and nothing is timed", async (t) => {
  using pool = createPool({ threads: 1, stats: false })({ echo: tasks.echo, fails: tasks.fails });
  await pool.call.echo(1);
  await t.throwsAsync(pool.call.fails("x"));
  const stats = pool.stats();
  t.like(stats, { queueSize: 0, running: 0, completed: 1, failed: 1 });
  t.is(stats.runTime, undefined);
  t.is(stats.waitTime, undefined);
  t.is(stats.utilization, undefined);
  t.is(stats.workers.length, 1);
});

test.serial("the inliner lane reports its own calls", async (t) => {
  using pool = createPool({ threads: 0, inliner: {} })({ echo: tasks.echo });
  await Promise.all(Array.from({ length: 20 }, (_, i) => pool.call.echo(i)));
  const stats = pool.stats();
  t.is(stats.workers.length, 1);
  t.is(stats.workers[0].thread, "inliner");
  t.is(stats.workers[0].calls, 20);
  t.is(stats.runTime.count, 20);
});

test.serial("stats() works detached from its pool", async (t) => {
  const { call, stats, shutdown } = createPool({ threads: 1 })({ echo: tasks.echo });
  await call.echo(1);
  t.is(stats().completed, 1);
  await shutdown();
});

test.serial("a wait is never longer than the calls took: a call sent while the last result was written is timed from its send", async (t) => {
  using pool = createPool({ threads: 2 })({ echo: tasks.echo, fails: tasks.fails });
  const kinds = [1, new Uint8Array(3), new Date(), { a: 1 }, 2n ** 80n, "s"];
  const began = performance.now();
  for (let i = 0; i < 300; i++) {
    await pool.call.echo(kinds[i % kinds.length]);
    if (i % 7 === 0) await pool.call.fails("no").catch(() => {});
  }
  const elapsedNs = (performance.now() - began) * 1e6;
  const { waitTime, runTime } = pool.stats();
  t.is(waitTime.count, 343);
  t.true(waitTime.max <= elapsedNs, `the longest wait (${waitTime.max} ns) is within the ${elapsedNs} ns all calls took`);
  t.true(runTime.max <= elapsedNs);
});

test.serial("calls refused before they were sent count as failed", async (t) => {
  const pool = createPool({ threads: 1 })({ echo: tasks.echo });
  await pool.call.echo(1);
  await t.throwsAsync(pool.call.echo(new Map()), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD" });
  await t.throwsAsync(pool.call.echo(Promise.reject(new Error("no argument"))), { message: "no argument" });
  await t.throwsAsync(pool.call.echo(1, { signal: AbortSignal.abort() }), { name: "AbortError" });
  t.like(pool.stats(), { completed: 1, failed: 3, queueSize: 0, running: 0 });
  await pool.shutdown();
  await t.throwsAsync(pool.call.echo(1), { code: "ERR_KNITTING_POOL_CLOSED" });
  t.like(pool.stats(), { completed: 1, failed: 4 });
});
