// Scheduling: no call waits behind a busy worker while another is idle, a
// dying worker takes down exactly the calls it had started, and results never
// wait for work their worker took afterwards. Who ran what is proven with
// shared flags (see fixtures/scheduling-tasks.mjs), never with timings: a
// regression shows up as a call that never settles, which the per-test
// timeout turns into a failure.
import test from "ava";
import { setEnvironmentData, threadId } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { createPool, Envelope } from "knitting";
import { BufferReference } from "knitting/unsafe";
import * as tasks from "./fixtures/scheduling-tasks.mjs";
import { FLAGS_KEY, MARKS, RELEASE } from "./fixtures/scheduling-tasks.mjs";

// One flags buffer for the whole file (environment data reaches every worker
// started after it is set). Tests run serially so they do not share slots.
const flags = new Int32Array(new SharedArrayBuffer(4 * (MARKS + 2048)));
setEnvironmentData(FLAGS_KEY, flags.buffer);

function resetFlags() {
  flags.fill(0);
}

/** Resolves once flags[slot] is at least `value`. */
async function until(slot, value = 1) {
  while (Atomics.load(flags, slot) < value) {
    const { async, value: waiting } = Atomics.waitAsync(flags, slot, Atomics.load(flags, slot), 1000);
    if (async) await waiting;
  }
}

/** Calls every worker of the pool until each has answered (all are up). */
async function warmUp(pool, threads) {
  const seen = new Set();
  while (seen.size < threads) {
    for (const id of await Promise.all(Array.from({ length: 32 }, () => pool.call.whereAmI()))) seen.add(id);
  }
}

const argumentKinds = {
  "a number (slot)": () => [tasks.echo, 7, (r) => r === 7],
  "an object": () => [tasks.echo, { deep: { list: [1, 2, 3] } }, (r) => r.deep.list[2] === 3],
  "a long string": () => [tasks.echo, "x".repeat(5000), (r) => r.length === 5000],
  "a BufferReference": () => [tasks.sumBytes, new BufferReference(new Uint8Array([1, 2, 3])), (r) => r === 6],
  "a 100 KiB Uint8Array": () => [tasks.echo, new Uint8Array(100 * 1024).fill(1), (r) => r.length === 100 * 1024 && r[5] === 1],
};

for (const [threads, busy] of [
  [2, 1],
  [4, 3],
]) {
  test.serial(`${threads} threads, ${busy} busy: calls of every kind run on the idle worker, also after the host has parked`, async (t) => {
    t.timeout(30_000, "a call waited behind a busy worker");
    resetFlags();
    const pool = createPool({ threads })({ holdUntilReleased: tasks.holdUntilReleased, whereAmI: tasks.whereAmI, echo: tasks.echo, sumBytes: tasks.sumBytes });
    try {
      await warmUp(pool, threads);
      const held = Array.from({ length: busy }, (_, i) => pool.call.holdUntilReleased(1 + i));
      for (let i = 0; i < busy; i++) await until(1 + i);
      await sleep(200); // long enough for the host and the idle worker to park
      for (const [kind, make] of Object.entries(argumentKinds)) {
        const [task, arg, check] = make();
        const name = task === tasks.echo ? "echo" : "sumBytes";
        const results = await Promise.all([pool.call[name](arg), ...Array.from({ length: 5 }, () => pool.call.echo(kind))]);
        t.true(check(results[0]), kind);
        for (let i = 0; i < busy; i++) t.is(Atomics.load(flags, 1 + i), 1, `the busy task was still running when ${kind} came back`);
        await sleep(20);
      }
      Atomics.store(flags, RELEASE, 1);
      const busyThreads = new Set(await Promise.all(held));
      t.is(busyThreads.size, busy);
    } finally {
      Atomics.store(flags, RELEASE, 1);
      await pool.shutdown();
    }
  });
}

for (const [label, name, makeArg] of [
  ["numbers", "numbered", (i) => i],
  ["objects", "numberedObject", (i) => ({ i, exitAt: 500 })],
  ["Envelopes with a BufferReference body", "numberedEnvelope", (i) => new Envelope({ i, exitAt: 500 }, new BufferReference(new Uint8Array([i & 255])))],
]) {
  test.serial(`a worker that dies rejects only the call it was running; every call it had not started runs elsewhere (${label})`, async (t) => {
    t.timeout(60_000);
    resetFlags();
    using pool = createPool({ threads: 2 })({ [name]: tasks[name], whereAmI: tasks.whereAmI });
    await warmUp(pool, 2);
    const outcomes = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => pool.call[name](makeArg(i))));
    const rejected = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === "rejected") {
        rejected.push(i);
        t.is(outcome.reason.code, "ERR_KNITTING_WORKER_EXITED");
      }
    });
    t.deepEqual(rejected, [500], "only the call that exited was rejected");
    for (const i of rejected) t.is(Atomics.load(flags, MARKS + i), 1, `rejected call ${i} had started`);
  });
}

test.serial("attribution stays exact after more than 2^20 calls while one call is pending, and the call table stays flat", async (t) => {
  t.timeout(120_000, "the pending call was never rejected");
  resetFlags();
  using pool = createPool({ threads: 2 })({ exitWhenReleased: tasks.exitWhenReleased, echo: tasks.echo });
  const pending = pool.call.exitWhenReleased(1);
  pending.catch(() => {});
  await until(1);
  const heapAfterGc = () => {
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  const batch = () => Promise.all(Array.from({ length: 100_000 }, (_, i) => pool.call.echo(i)));
  await batch();
  const before = heapAfterGc();
  for (let round = 0; round < 11; round++) await batch(); // 1.2 million calls in all
  const grown = heapAfterGc() - before;
  t.true(grown < 8 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB over a million calls`);
  Atomics.store(flags, RELEASE, 1);
  const error = await t.throwsAsync(pending, { code: "ERR_KNITTING_WORKER_EXITED" });
  t.regex(error.message, /code 5/);
});

test.serial("an async task's result does not wait for a slow task its worker could have left to an idle one", async (t) => {
  t.timeout(60_000, "the async result waited behind the slow task");
  resetFlags();
  using pool = createPool({ threads: 2 })({ markThenSleep: tasks.markThenSleep, holdUntilReleased: tasks.holdUntilReleased, whereAmI: tasks.whereAmI });
  await warmUp(pool, 2);
  for (let trial = 0; trial < 5; trial++) {
    Atomics.store(flags, RELEASE, 0);
    const quick = pool.call.markThenSleep([10, 100]);
    await until(10);
    const slow = pool.call.holdUntilReleased(11);
    const quickThread = await quick; // never settles if the slow task took its worker's event loop
    Atomics.store(flags, RELEASE, 1);
    t.not(await slow, quickThread);
    Atomics.store(flags, 10, 0);
    Atomics.store(flags, 11, 0);
  }
});

test.serial("an idle pool parks its workers: well under one core of CPU over 2 s", async (t) => {
  using pool = createPool({ threads: 2 })({ whereAmI: tasks.whereAmI });
  await warmUp(pool, 2);
  await sleep(300);
  const start = process.cpuUsage();
  await sleep(2000);
  const used = process.cpuUsage(start);
  const ms = (used.user + used.system) / 1000;
  t.true(ms < 500, `an idle pool used ${ms.toFixed(0)} ms of CPU in 2 s`);
  t.not(await pool.call.whereAmI(), threadId);
});

