// Every option of the established library is accepted with the behaviour the
// README's options table gives it (issue #10): programs written for it run
// unchanged. Moot options are accepted, validated, and change nothing.
import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { threadId } from "node:worker_threads";
import { checkCompiledWorker, createPool, Envelope, importTask, workerMainLoop } from "knitting";
import * as tasks from "./fixtures/option-tasks.mjs";
import * as held from "./fixtures/scheduling-tasks.mjs";
import { setEnvironmentData } from "node:worker_threads";

const run = promisify(execFile);
const flags = new Int32Array(new SharedArrayBuffer(4 * 2048));
setEnvironmentData(held.FLAGS_KEY, flags.buffer);

async function until(slot, value = 1) {
  while (Atomics.load(flags, slot) < value) {
    const { async, value: waiting } = Atomics.waitAsync(flags, slot, Atomics.load(flags, slot), 1000);
    if (async) await waiting;
  }
}

test("every option of the established library is accepted, and calls run", async (t) => {
  await using pool = createPool({
    threads: 2,
    inliner: { position: "last", batchSize: 4, dispatchThreshold: 2 },
    balancer: { strategy: "roundRobin" },
    worker: { runtime: "thread", timers: { spinMicroseconds: 20, parkMs: 50, pauseNanoseconds: 0 }, hardTimeoutMs: 60_000, resolveAfterFinishingAll: false },
    host: { stallFreeLoops: 64, maxBackoffMs: 5, dispatcher: "steal", steal: true, stealRegionLanes: 2 },
    payload: { mode: "fixed", payloadInitialBytes: 1 << 20, payloadMaxByteLength: 1 << 22, maxPayloadBytes: 1 << 16 },
    workerExecArgv: [],
    abortSignalCapacity: 64,
    debug: false,
    stats: true,
  })({ echo: tasks.echo });
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.call.echo({ i })));
  t.deepEqual(results.map((r) => r.i), Array.from({ length: 200 }, (_, i) => i));
});

test("every balancer strategy runs every call", async (t) => {
  for (const balancer of ["firstIdle", "roundRobin", "robinRound", "randomLane", "firstIdleOrRandom", { strategy: "randomLane" }]) {
    await using pool = createPool({ threads: 2, balancer })({ echo: tasks.echo });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => pool.call.echo(i)));
    t.is(results.length, 100, JSON.stringify(balancer));
  }
  t.throws(() => createPool({ balancer: "fastest" }), { code: "ERR_KNITTING_INVALID_OPTION", message: /roundRobin/ });
});

test("moot options are still validated", (t) => {
  for (const options of [
    { host: { steal: "yes" } },
    { host: { stealRegionLanes: 3 } },
    { host: { dispatcher: "magic" } },
    { host: { maxBackoffMs: -1 } },
    { payload: { mode: "elastic" } },
    { abortSignalCapacity: 0 },
    { worker: { timers: { spin: 1 } } },
    { inliner: { position: "middle" } },
    { debug: "yes" },
  ]) {
    t.throws(() => createPool(options), { code: "ERR_KNITTING_INVALID_OPTION" }, JSON.stringify(options));
  }
});

test("options this implementation cannot honour are refused with ERR_KNITTING_UNSUPPORTED_OPTION and say why", (t) => {
  t.throws(() => createPool({ worker: { runtime: "compiled" } }), { code: "ERR_KNITTING_UNSUPPORTED_OPTION", message: /not supported/ });
  t.throws(() => createPool({ permission: {} }), { code: "ERR_KNITTING_UNSUPPORTED_OPTION", message: /--permission/ });
});

test("worker.bootstrap runs in every worker before its task modules, with the data and the worker's place", async (t) => {
  await using pool = createPool({
    threads: 2,
    worker: { bootstrap: { href: "./fixtures/bootstrap.mjs", data: { db: "memory" } } },
  })({ bootstrapped: tasks.bootstrapped });
  const seen = await Promise.all(Array.from({ length: 40 }, () => pool.call.bootstrapped()));
  for (const info of seen) {
    t.deepEqual(info.data, { db: "memory" });
    t.is(info.totalNumberOfThread, 2);
    t.is(info.runtime, "node");
    t.true(info.thread === 0 || info.thread === 1);
    t.false(info.tasksImportedYet, "it ran before the task modules were imported");
  }
});

test("a worker.bootstrap that throws fails the calls with a message naming it", async (t) => {
  await using pool = createPool({ threads: 1, worker: { bootstrap: { href: "./fixtures/bootstrap.mjs", name: "failing" } } })({ echo: tasks.echo });
  const error = await t.throwsAsync(pool.call.echo(1), { code: "ERR_KNITTING_TASK_NOT_FOUND" });
  t.regex(error.message, /bootstrap\.mjs#failing/);
  t.regex(error.message, /no database here/);
});

test.serial("worker.resolveAfterFinishingAll holds a worker's results until it has no call left", async (t) => {
  t.timeout(30_000);
  flags.fill(0);
  await using pool = createPool({ threads: 1, worker: { resolveAfterFinishingAll: true } })({
    echo: tasks.echo,
    holdUntilReleased: held.holdUntilReleased,
    busyThenMark: held.busyThenMark,
  });
  const first = pool.call.holdUntilReleased(1);
  await until(1); // the worker is busy: the next two calls wait in the queue, in order
  const echoed = pool.call.echo(1).then((value) => [value, Atomics.load(flags, 2)]);
  const last = pool.call.busyThenMark([100, 2]);
  Atomics.store(flags, held.RELEASE, 1);
  const [value, lastDone] = await echoed;
  t.is(value, 1);
  t.is(lastDone, 2, "the echo's result came only after the worker had run the call queued behind it");
  await Promise.all([first, last]);
});

test("payload.maxPayloadBytes caps arguments and results with a RangeError; a BufferReference does not count", async (t) => {
  const { BufferReference } = await import("knitting/unsafe");
  await using pool = createPool({ threads: 1, payload: { maxPayloadBytes: 1024 } })({ echo: tasks.echo, bytes: tasks.bytes });
  await t.throwsAsync(pool.call.echo(new Uint8Array(2048)), { instanceOf: RangeError, message: /maxPayloadBytes/ });
  await t.throwsAsync(pool.call.echo("x".repeat(5000)), { instanceOf: RangeError });
  await t.throwsAsync(pool.call.bytes(4096), { instanceOf: RangeError, message: /result/ });
  t.is((await pool.call.bytes(100)).length, 100);
  const moved = await pool.call.echo(new BufferReference(new Uint8Array(1 << 16)));
  t.is(moved.byteLength, 1 << 16);
  // What sits next to shared or moved memory counts; a refused call keeps its reference.
  await t.throwsAsync(pool.call.echo({ text: "x".repeat(5000), shared: new SharedArrayBuffer(1) }), { instanceOf: RangeError });
  const ref = new BufferReference(new Uint8Array([1, 2, 3]));
  await t.throwsAsync(pool.call.echo(new Envelope({ text: "x".repeat(5000) }, ref)), { instanceOf: RangeError });
  t.false(ref.released);
  t.deepEqual([...ref.toUint8Array()], [1, 2, 3]);
  t.throws(() => createPool({ payload: { maxPayloadBytes: 1 << 30 } }), { instanceOf: RangeError, code: "ERR_KNITTING_INVALID_OPTION" });
});

test("workerExecArgv reaches the workers; flags Node refuses in workers are dropped, not fatal", async (t) => {
  await using pool = createPool({ threads: 1, workerExecArgv: ["--no-warnings", "--expose-gc", "--trace-warnings"] })({ execArgv: tasks.execArgv });
  t.deepEqual(await pool.call.execArgv(), ["--no-warnings", "--trace-warnings"]);
});

test("the inliner lane: threads: 0 runs every call on the host thread", async (t) => {
  await using pool = createPool({ threads: 0, inliner: { dispatchThreshold: 5 } })({ whereAmI: tasks.whereAmI, echo: tasks.echo });
  t.is(await pool.call.whereAmI(), threadId, "a single call runs (with no worker, any waiting call is enough)");
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.call.echo(i)));
  t.is(results.length, 50);
  t.throws(() => createPool({ threads: 0, inliner: {} })({ imported: importTask({ href: "./fixtures/tasks.mjs", name: "add" }) }), {
    code: "ERR_KNITTING_INVALID_OPTION",
    message: /importTask/,
  });
});

test.serial("the inliner lane: 'last' leaves calls to an idle worker, 'first' helps while workers are busy", async (t) => {
  t.timeout(30_000);
  flags.fill(0);
  {
    await using pool = createPool({ threads: 1, inliner: { position: "last" } })({ whereAmI: tasks.whereAmI });
    // While the worker starts, no worker is idle: the host runs the calls.
    while ((await pool.call.whereAmI()) === threadId) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 20; i++) t.not(await pool.call.whereAmI(), threadId, "an idle worker takes the call");
  }
  {
    // An importTask task runs only on workers (the host never imports it).
    const holdOnWorker = importTask({ href: "./fixtures/scheduling-tasks.mjs", name: "holdUntilReleased" });
    await using pool = createPool({ threads: 1, inliner: { position: "first" } })({ whereAmI: tasks.whereAmI, holdUntilReleased: holdOnWorker });
    const busy = pool.call.holdUntilReleased(2);
    await until(2);
    t.is(await pool.call.whereAmI(), threadId, "the host runs it while the only worker is busy");
    Atomics.store(flags, held.RELEASE, 1);
    await busy;
  }
});

test("task({ abortSignal: { hasAborted: true } }) is the toolkit form too", async (t) => {
  await using pool = createPool({ threads: 1 })({ politelyAborted: tasks.politelyAborted });
  const call = pool.call.politelyAborted();
  t.is(typeof call.reject, "function");
  t.false(await call);
});

test("debug (and KNITTING_DEBUG) logs the pool's lifecycle to stderr", async (t) => {
  const fixture = new URL("./fixtures/debug-pool.mjs", import.meta.url).pathname;
  const { stderr } = await run(process.execPath, [fixture], { timeout: 60_000 });
  t.regex(stderr, /knitting.*created/);
  t.regex(stderr, /worker 1 started/);
  t.regex(stderr, /shutdown/);
  const fromEnv = await run(process.execPath, [fixture, "env"], { timeout: 60_000, env: { ...process.env, KNITTING_DEBUG: "1" } });
  t.regex(fromEnv.stderr, /worker 1 started/);
  const quiet = await run(process.execPath, [fixture, "env"], { timeout: 60_000, env: { ...process.env, KNITTING_DEBUG: "" } });
  t.is(quiet.stderr, "");
});

test("source starts workers from an entry module that calls workerMainLoop(); the library's main entry names its own", async (t) => {
  const entry = new URL("./fixtures/custom-entry.mjs", import.meta.url).pathname;
  await using pool = createPool({ threads: 1, source: entry })({ echo: tasks.echo, entryMark: tasks.entryMark });
  t.is(await pool.call.echo("via source"), "via source");
  t.is(await pool.call.entryMark(), "custom entry ran first");
  await using own = createPool({ threads: 1, source: import.meta.resolve("knitting") })({ entryMark: tasks.entryMark });
  t.is(await own.call.entryMark(), "no custom entry");
  t.throws(() => workerMainLoop(), { code: "ERR_KNITTING_INVALID_ARGUMENT", message: /source/ });
  t.throws(() => checkCompiledWorker(), { code: "ERR_KNITTING_UNSUPPORTED_OPTION", message: /compiled/ });
});

test("a source module that never calls workerMainLoop() fails the calls with what to do", async (t) => {
  const entry = new URL("./fixtures/entry-without-loop.mjs", import.meta.url).pathname;
  const pool = createPool({ threads: 1, source: entry, worker: { startupTimeoutMs: 20_000 } })({ echo: tasks.echo });
  const error = await t.throwsAsync(pool.call.echo(1), { code: "ERR_KNITTING_TASK_NOT_FOUND" });
  t.regex(error.message, /must call workerMainLoop\(\)/);
  await pool.shutdown();
});

test("option arrays are read once and a Proxy is refused; a fake AbortSignal and a task map that is not a plain object are refused with a code", (t) => {
  t.throws(() => createPool({ workerExecArgv: new Proxy([], {}) }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(() => createPool({ worker: { runtime: "process", processCommandPrefix: new Proxy([], {}) } }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(() => createPool({ worker: { runtime: "process" }, source: "./entry.mjs" }), { code: "ERR_KNITTING_UNSUPPORTED_OPTION", message: /bootstrap/ });
  t.throws(() => createPool({ threads: 1 })(new Map([["echo", tasks.echo]])), { code: "ERR_KNITTING_INVALID_TASK" });
  t.throws(() => createPool({ threads: 1 })(Object.create({ echo: tasks.echo })), { code: "ERR_KNITTING_INVALID_TASK" });
});

test("a call option signal that only inherits from AbortSignal.prototype is refused with a code", async (t) => {
  await using pool = createPool({ threads: 1 })({ echo: tasks.echo });
  await t.throwsAsync(pool.call.echo(1, { signal: Object.create(AbortSignal.prototype) }), { code: "ERR_KNITTING_INVALID_OPTION", message: /AbortSignal/ });
  t.is(await pool.call.echo(1, { signal: new AbortController().signal }), 1);
});
