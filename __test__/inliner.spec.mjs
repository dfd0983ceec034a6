// The inliner lane runs a call as a worker does: a task's `timeout` settles
// the call (counted from pool.call), and a task defined with abortSignal gets
// its toolkit { hasAborted(), now(), signal }, whose hasAborted() turns true
// (and signal fires) once the call is aborted: reject(), its AbortSignal.
import test from "ava";
import { threadId } from "node:worker_threads";
import { createPool } from "knitting";
import { BufferReference } from "knitting/unsafe";
import * as tasks from "./fixtures/inliner-tasks.mjs";
import * as common from "./fixtures/tasks.mjs";
import * as references from "./fixtures/reference-tasks.mjs";
import { liveRegions, pattern } from "./helpers.mjs";

const { seen } = tasks;

const hostOnly = (more = {}) => createPool({ threads: 0, inliner: {}, ...more });

async function until(done) {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 2));
}

test("a task's timeout settles a call that never would, on a pool with threads: 0", async (t) => {
  t.timeout(20_000);
  await using pool = hostOnly()({
    timesOut: tasks.timesOut,
    timesOutWithDefault: tasks.timesOutWithDefault,
    timesOutMaybe: tasks.timesOutMaybe,
    timesOutWithError: tasks.timesOutWithError,
  });
  await t.throwsAsync(pool.call.timesOut(), { code: "ERR_KNITTING_TASK_TIMEOUT", message: /Task timeout/ });
  t.is(await pool.call.timesOutWithDefault(), "fallback");
  t.is(await pool.call.timesOutMaybe(), undefined);
  await t.throwsAsync(pool.call.timesOutWithError(), { instanceOf: RangeError, message: "my own timeout" });
  const stats = pool.stats();
  t.like(stats, { completed: 2, failed: 2, running: 0, queueSize: 0 });
  t.is(stats.workers[0].thread, "inliner");
  t.is(stats.workers[0].calls, 4, "the lane counts the calls that timed out");
});

test("a timeout changes nothing for a task that settles in time, or returns at once", async (t) => {
  t.timeout(20_000);
  await using pool = hostOnly()({ inTime: tasks.inTime, syncWithTimeout: tasks.syncWithTimeout });
  t.is(await pool.call.inTime(21), 42);
  t.is(await pool.call.syncWithTimeout(1), 2);
  t.like(pool.stats(), { completed: 2, failed: 0 });
});

test.serial("the timeout counts from pool.call: a call that waited past it settles with its timeout's outcome as it starts", async (t) => {
  t.timeout(20_000);
  await using pool = hostOnly()({ spin: common.spin, slowWithDefault: tasks.slowWithDefault });
  // Both are sent now; the second starts once the first has kept the host busy for 120 ms.
  const blocking = pool.call.spin(120);
  const late = pool.call.slowWithDefault(30);
  t.is(await blocking, threadId);
  t.is(await late, "timed out", "its 50 ms were up before it started: not its own 30 ms");
});

test("with threads and inliner first, a never-settling task times out on whichever lane runs it", async (t) => {
  t.timeout(60_000);
  await using pool = createPool({ threads: 1, inliner: { position: "first" } })({
    timesOut: tasks.timesOut,
    timesOutWithDefault: tasks.timesOutWithDefault,
  });
  const calls = Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? pool.call.timesOut() : pool.call.timesOutWithDefault()));
  const results = await Promise.allSettled(calls);
  for (const [i, result] of results.entries()) {
    if (i % 2 === 0) t.like(result, { status: "rejected", reason: { code: "ERR_KNITTING_TASK_TIMEOUT" } });
    else t.like(result, { status: "fulfilled", value: "fallback" });
  }
  const stats = pool.stats();
  t.like(stats, { completed: 3, failed: 3, running: 0 });
  t.is(stats.workers.reduce((sum, lane) => sum + lane.calls, 0), 6);
});

test("an abort-aware task runs on threads: 0 with its toolkit: hasAborted() false, now(), a signal", async (t) => {
  t.timeout(20_000);
  await using pool = hostOnly()({ toolkit: tasks.toolkit, politelyAborted: tasks.politelyAborted, arity: tasks.arity });
  const call = pool.call.toolkit();
  t.is(typeof call.reject, "function");
  t.deepEqual(await call, {
    keys: ["hasAborted", "now", "signal"],
    hasAborted: false,
    now: "number",
    signal: true,
    signalAborted: false,
    threadId,
  });
  t.false(await pool.call.politelyAborted(), "destructuring works");
  t.is(await pool.call.arity(1), "no toolkit", "a task that is not abort-aware gets no second argument");
  t.like(pool.stats(), { completed: 3, failed: 0 });
});

test("on the inliner lane, reject() without a reason turns hasAborted() true; the call settles with what the task returns", async (t) => {
  t.timeout(20_000);
  await using pool = hostOnly()({ pollsUntilAborted: tasks.pollsUntilAborted });
  const call = pool.call.pollsUntilAborted("reject");
  await until(() => seen.get("reject") === "started");
  call.reject();
  t.is(await call, "saw the abort");
  t.is(seen.get("reject"), "aborted");
  t.like(pool.stats(), { completed: 1, failed: 0, running: 0 });
});

test("on the inliner lane, the toolkit's signal fires when the call is aborted: reject() or the call's AbortSignal", async (t) => {
  t.timeout(20_000);
  await using pool = hostOnly()({ waitsForSignal: tasks.waitsForSignal, pollsUntilAborted: tasks.pollsUntilAborted });
  const call = pool.call.waitsForSignal("signal");
  await until(() => seen.get("signal") === "started");
  call.reject();
  t.true(await call, "hasAborted() is true when the signal fires");
  t.is(seen.get("signal"), "AbortError");

  // With a reason: the call rejects at once; the task is told all the same.
  const withReason = pool.call.waitsForSignal("reason");
  await until(() => seen.get("reason") === "started");
  withReason.reject(new Error("stop"));
  await t.throwsAsync(withReason, { message: "stop" });
  await until(() => seen.get("reason") !== "started");
  t.is(seen.get("reason"), "AbortError");

  // The call's own AbortSignal.
  const controller = new AbortController();
  const polled = pool.call.pollsUntilAborted("controller", { signal: controller.signal });
  await until(() => seen.get("controller") === "started");
  controller.abort();
  await t.throwsAsync(polled, { name: "AbortError" });
  await until(() => seen.get("controller") === "aborted");
  t.pass("the running task saw hasAborted() turn true");
  t.like(pool.stats(), { completed: 1, failed: 2 });
});

test("a call aborted before the inliner starts it never runs", async (t) => {
  t.timeout(20_000);
  await using pool = hostOnly()({ pollsUntilAborted: tasks.pollsUntilAborted });
  const call = pool.call.pollsUntilAborted("never started");
  call.reject(); // still in the queue: the lane takes its calls in a macrotask of its own
  await t.throwsAsync(call, { name: "AbortError" });
  t.false(seen.has("never started"));
});

test.serial("the lane's stats: every call counted and timed", async (t) => {
  await using pool = hostOnly({ inliner: { batchSize: 4 } })({ inTime: tasks.inTime, syncWithTimeout: tasks.syncWithTimeout });
  await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? pool.call.inTime(i) : pool.call.syncWithTimeout(i))));
  const stats = pool.stats();
  t.like(stats, { completed: 20, failed: 0, running: 0, queueSize: 0 });
  t.is(stats.workers[0].calls, 20);
  t.is(stats.runTime.count, 20);
  t.is(stats.waitTime.count, 20);
  t.true(stats.workers[0].utilization >= 0 && stats.workers[0].utilization <= 1);
});

test.serial("a BufferReference argument is released when the task settles, as on a worker", async (t) => {
  await using pool = hostOnly()({ stashView: references.stashView, stashedLength: references.stashedLength });
  const before = liveRegions();
  t.is(await pool.call.stashView(new BufferReference(pattern(64))), 64);
  t.is(await pool.call.stashedLength(), 0, "a view stashed in a global reads length 0");
  t.is(liveRegions(), before, "its bytes are freed at once, not when collected");
});
