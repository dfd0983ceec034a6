// The pool API: tasks, calls, spreading over threads, errors and options.
import test from "ava";
import { threadId } from "node:worker_threads";
import { createPool, importTask, isMain, task } from "knitting";
import * as tasks from "./fixtures/tasks.mjs";
import { makePool } from "./fixtures/bare-pool.mjs";

const { echo, add, whereAmI, fail, rejectLater, throwString, sleep, spin } = tasks;

test("isMain is false only inside pool workers: true on the host and in a worker thread of your own", async (t) => {
  t.true(isMain);
  const { Worker } = await import("node:worker_threads");
  const own = new Worker('import("knitting").then(({ isMain }) => require("node:worker_threads").parentPort.postMessage(isMain))', { eval: true });
  t.true(await new Promise((resolve, reject) => own.once("message", resolve).once("error", reject)), "a Worker of your own (a test runner's, say)");
  await own.terminate();
  using pool = createPool({ threads: 1 })({ isMainHere: tasks.isMainHere });
  t.false(await pool.call.isMainHere(), "a pool worker");
});

test("pool.call.<name> runs the task on a worker thread and resolves with its result", async (t) => {
  using pool = createPool({ threads: 1 })({ add, whereAmI });
  t.is(await pool.call.add([2, 3]), 5);
  const workerId = await pool.call.whereAmI();
  t.not(workerId, threadId);
  t.true(workerId > 0);
});

test("the pool object has call, shutdown and the dispose methods, and is frozen", (t) => {
  const pool = createPool()({ echo, add });
  t.deepEqual(Object.keys(pool.call).sort(), ["add", "echo"]);
  t.is(typeof pool.shutdown, "function");
  t.is(typeof pool[Symbol.dispose], "function");
  t.is(typeof pool[Symbol.asyncDispose], "function");
  t.true(Object.isFrozen(pool));
  t.true(Object.isFrozen(pool.call));
  return pool.shutdown();
});

test("bare exported functions are tasks, looked up in the module that creates the pool", async (t) => {
  const pool = makePool();
  t.is(await pool.call.double(21), 42);
  t.is(await pool.call.triple(5), 15);
  await pool.shutdown();
});

test("the single-task shorthand task(...).createPool(options)", async (t) => {
  const pool = add.createPool({ threads: 1 });
  t.is(await pool.call([40, 2]), 42);
  await pool.shutdown();
});

test("importTask loads a task only in the workers", async (t) => {
  const imported = importTask({ href: "./fixtures/tasks.mjs", name: "add" });
  const pool = createPool({ threads: 1 })({ imported });
  t.is(await pool.call.imported([1, 2]), 3);
  await pool.shutdown();
});

test("a top-level Promise argument is awaited on the host first", async (t) => {
  using pool = createPool()({ echo });
  t.is(await pool.call.echo(Promise.resolve("later")), "later");
  await t.throwsAsync(pool.call.echo(Promise.reject(new Error("no"))), { message: "no" });
});

test("many calls in flight all resolve, in any order", async (t) => {
  using pool = createPool({ threads: 2 })({ add });
  const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => pool.call.add([i, 1])));
  t.true(results.every((value, i) => value === i + 1));
});

test("more calls in flight than a worker's rings hold all resolve (calls and results wait their turn)", async (t) => {
  // Arrays travel on the worker's port, announced in its 8,192-slot call ring;
  // one worker and 20,000 calls fill the ring, and then its result ring.
  using pool = createPool({ threads: 1 })({ add });
  for (let round = 0; round < 3; round++) {
    const results = await Promise.all(Array.from({ length: 20_000 }, (_, i) => pool.call.add([i, round])));
    t.true(results.every((value, i) => value === i + round));
  }
});

test("with two threads a slow call does not hold up the others", async (t) => {
  using pool = createPool({ threads: 2 })({ spin, whereAmI });
  // Both workers are up and have answered at least once.
  const seen = new Set();
  while (seen.size < 2) {
    for (const id of await Promise.all(Array.from({ length: 50 }, () => pool.call.spin(1)))) seen.add(id);
  }
  const slow = pool.call.spin(400);
  const quick = await Promise.all(Array.from({ length: 20 }, () => pool.call.whereAmI()));
  const slowThread = await slow;
  t.true(quick.every((id) => id !== slowThread), "every quick call ran on the worker that was free");
});

// ---- errors from tasks ------------------------------------------------------

test("a thrown Error arrives with its name, message, stack and cause chain", async (t) => {
  using pool = createPool()({ fail });
  const error = await t.throwsAsync(pool.call.fail("bad input"));
  t.true(error instanceof Error);
  t.is(error.name, "CustomError");
  t.is(error.message, "bad input");
  t.regex(error.stack, /tasks\.mjs/);
  t.is(error.cause.message, "inner");
  t.is(error.cause.cause, 42);
});

test("a rejected promise arrives as an Error, and non-Error throws arrive as values", async (t) => {
  using pool = createPool()({ rejectLater, throwString });
  const error = await t.throwsAsync(pool.call.rejectLater("async bad"));
  t.is(error.name, "RangeError");
  t.is(error.message, "async bad");
  t.is(await pool.call.throwString().then(() => "resolved", (reason) => reason), "plain string");
});

test("a task timeout rejects with ERR_KNITTING_TASK_TIMEOUT, or resolves with the default", async (t) => {
  using pool = createPool()({ timesOut: tasks.timesOut, timesOutWithDefault: tasks.timesOutWithDefault, echo });
  const error = await t.throwsAsync(pool.call.timesOut(), { code: "ERR_KNITTING_TASK_TIMEOUT" });
  t.regex(error.message, /Task timeout/);
  t.is(await pool.call.timesOutWithDefault(), "fallback");
  t.is(await pool.call.echo("still serving"), "still serving");
});

test("importTask takes every timeout form: the default, maybe and error reach the workers", async (t) => {
  const href = "./fixtures/tasks.mjs";
  const name = "neverSettles";
  using pool = createPool({ threads: 1 })({
    withDefault: importTask({ href, name, timeout: { time: 20, default: "fallback" } }),
    withMaybe: importTask({ href, name, timeout: { time: 20, maybe: true } }),
    withError: importTask({ href, name, timeout: { time: 20, error: new RangeError("too slow") } }),
    withNumber: importTask({ href, name, timeout: 20 }),
  });
  t.is(await pool.call.withDefault(), "fallback");
  t.is(await pool.call.withMaybe(), undefined);
  await t.throwsAsync(pool.call.withError(), { instanceOf: RangeError, message: "too slow" });
  await t.throwsAsync(pool.call.withNumber(), { code: "ERR_KNITTING_TASK_TIMEOUT" });
  const error = t.throws(() => importTask({ href, name, timeout: { time: 20, default: () => 1 } }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.regex(error.message, /a value a call can carry/);
  // A Map clones to the workers, but could not come back as the call's result.
  t.throws(() => importTask({ href, name, timeout: { time: 20, default: new Map() } }), { code: "ERR_KNITTING_INVALID_OPTION", message: /Map/ });
});

test("an unsupported result rejects that call only", async (t) => {
  using pool = createPool()({ returnsFunction: tasks.returnsFunction, returnsMap: tasks.returnsMap, echo });
  await t.throwsAsync(pool.call.returnsFunction(), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD" });
  await t.throwsAsync(pool.call.returnsMap(), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /Map/ });
  t.is(await pool.call.echo(1), 1);
});

test("an unsupported argument rejects that call only, without a synchronous throw", async (t) => {
  using pool = createPool()({ echo });
  const pending = pool.call.echo(() => {});
  t.true(pending instanceof Promise);
  await t.throwsAsync(pending, { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /function/i });
  await t.throwsAsync(pool.call.echo(Symbol("local")), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /Symbol\.for/ });
  t.is(await pool.call.echo("fine"), "fine");
});

// ---- options and definitions -------------------------------------------------

test("unknown or bad options are rejected with ERR_KNITTING_INVALID_OPTION", (t) => {
  const bad = [{ thread: 2 }, { threads: 0 }, { threads: 1.5 }, { threads: "2" }, { unsafe: { BufferReferenceReturn: "steal" } }, { unsafe: { other: 1 } }, { inliner: true }];
  for (const options of bad) {
    const error = t.throws(() => createPool(options), { code: "ERR_KNITTING_INVALID_OPTION" });
    t.truthy(error.message.length > 20);
  }
  t.throws(() => task({ f: () => 1, retries: 3 }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(() => task({ f: () => 1, timeout: "soon" }), { code: "ERR_KNITTING_INVALID_OPTION" });
});

test("options read only what is plainly there: symbol keys, hidden keys, null and arrays are refused", (t) => {
  const hidden = Object.defineProperty({}, "threads", { value: 2, enumerable: false });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const bad = [{ threads: null }, { [Symbol("threads")]: 2 }, hidden, { unsafe: [] }, { unsafe: null }, [], { worker: { startupTimeoutMs: -1 } }, { worker: { nope: 1 } }, new Proxy({ threads: 1 }, {}), revoked.proxy];
  for (const options of bad) t.throws(() => createPool(options), { code: "ERR_KNITTING_INVALID_OPTION" });
  const maps = [{ echo: tasks.echo, [Symbol("x")]: tasks.echo }, Object.defineProperty({ echo: tasks.echo }, "hidden", { value: tasks.echo }), new Proxy({ echo: tasks.echo }, {})];
  for (const map of maps) t.throws(() => createPool({ threads: 1 })(map), { code: "ERR_KNITTING_INVALID_TASK" });
  t.throws(() => task({ f: () => 1, timeout: { time: 10, bogus: 1 } }), { code: "ERR_KNITTING_INVALID_OPTION", message: /bogus/ });
  t.throws(() => task({ f: () => 1, timeout: { time: 10, default: 1, error: new Error() } }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(() => task({ f: () => 1, [Symbol("x")]: 1 }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(() => importTask({ href: "./fixtures/tasks.mjs", name: "add", extra: true }), { code: "ERR_KNITTING_INVALID_OPTION", message: /extra/ });
  t.throws(() => importTask({ href: "http://[bad" }), { code: "ERR_KNITTING_INVALID_TASK", message: /not a URL/ });
});

test("a timeout of Infinity never fires, and one beyond the timer range does not fire early", async (t) => {
  using pool = createPool({ threads: 1 })({ slowWithInfiniteTimeout: tasks.slowWithInfiniteTimeout, slowWithHugeTimeout: tasks.slowWithHugeTimeout });
  t.is(await pool.call.slowWithInfiniteTimeout(30), "finished");
  t.is(await pool.call.slowWithHugeTimeout(30), "finished");
});

test("shutdown with a delay beyond the timer range waits for the calls in flight, then closes", async (t) => {
  const pool = createPool({ threads: 1 })({ sleep: tasks.sleep });
  const inFlight = pool.call.sleep(30);
  const done = pool.shutdown(2 ** 31);
  t.true((await inFlight) > 0, "the call finished instead of being cut off at once");
  await done;
  await t.throwsAsync(pool.call.sleep(1), { code: "ERR_KNITTING_POOL_CLOSED" });
});

test("both BufferReferenceReturn modes are accepted", async (t) => {
  for (const mode of ["copy", "borrow"]) {
    const pool = createPool({ threads: 1, unsafe: { BufferReferenceReturn: mode } })({ echo });
    t.is(await pool.call.echo(mode), mode);
    await pool.shutdown();
  }
});

test("a task map entry that is neither a task nor a function is rejected", (t) => {
  t.throws(() => createPool()({ nope: 42 }), { code: "ERR_KNITTING_INVALID_TASK", message: /"nope"/ });
  t.throws(() => task({ g: () => 1 }), { code: "ERR_KNITTING_INVALID_TASK" });
});

test("setModuleUrl overrides where workers look for a module's tasks", async (t) => {
  const { add: redirected } = await import("./fixtures/module-url.mjs");
  using pool = createPool()({ add: redirected });
  t.is(await pool.call.add([1, 2]), 3);
  const { setModuleUrl } = await import("knitting");
  t.throws(() => setModuleUrl("not a url"), { code: "ERR_KNITTING_INVALID_OPTION" });
});
