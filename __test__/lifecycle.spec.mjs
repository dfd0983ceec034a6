// Worker death, shutdown and process lifetime.
import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { setEnvironmentData } from "node:worker_threads";
import { createPool, Envelope, importTask } from "knitting";
import { BufferReference } from "knitting/unsafe";
import * as tasks from "./fixtures/tasks.mjs";
import { firstRejection } from "./helpers.mjs";

const run = promisify(execFile);
const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

test("a worker that exits rejects only its own calls and is replaced", async (t) => {
  using pool = createPool({ threads: 1 })({ exitWorker: tasks.exitWorker, echo: tasks.echo });
  const error = await t.throwsAsync(pool.call.exitWorker(3), { code: "ERR_KNITTING_WORKER_EXITED" });
  t.regex(error.message, /code 3/);
  t.is(await pool.call.echo("after"), "after");
});

test("an uncaught exception in a worker rejects its calls with the cause, and the pool keeps serving", async (t) => {
  using pool = createPool({ threads: 2 })({ crashLater: tasks.crashLater, echo: tasks.echo });
  const error = await t.throwsAsync(pool.call.crashLater(), { code: "ERR_KNITTING_WORKER_EXITED" });
  t.is(error.cause?.message, "uncaught in worker");
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.call.echo(i)));
  t.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("shutdown rejects calls in flight with Thread closed and later calls with Pool is shut down", async (t) => {
  const pool = createPool({ threads: 2 })({ neverSettles: tasks.neverSettles, echo: tasks.echo });
  const inFlight = [pool.call.neverSettles(), pool.call.neverSettles()];
  const done = pool.shutdown();
  t.is(pool.shutdown(), done, "idempotent: the same promise");
  for (const call of inFlight) {
    const error = await t.throwsAsync(call, { code: "ERR_KNITTING_THREAD_CLOSED" });
    t.regex(error.message, /Thread closed/);
  }
  const late = await t.throwsAsync(pool.call.echo(1), { code: "ERR_KNITTING_POOL_CLOSED" });
  t.regex(late.message, /Pool is shut down/);
  t.is(await done, undefined);
});

test("shutdown(delay) lets calls in flight finish within the delay", async (t) => {
  const pool = createPool({ threads: 1 })({ sleep: tasks.sleep, neverSettles: tasks.neverSettles });
  await pool.call.sleep(1); // the worker is up
  const quick = pool.call.sleep(10);
  const stuck = pool.call.neverSettles();
  const done = pool.shutdown(300);
  t.true((await quick) > 0);
  await t.throwsAsync(stuck, { code: "ERR_KNITTING_THREAD_CLOSED" });
  await done;
});

test("Symbol.dispose starts shutdown; calls right after reject", async (t) => {
  const pool = createPool()({ echo: tasks.echo });
  pool[Symbol.dispose]();
  await t.throwsAsync(pool.call.echo(1), { code: "ERR_KNITTING_POOL_CLOSED" });
  await pool.shutdown();
});

test("an idle pool does not keep the process alive; an in-flight call does", async (t) => {
  const { stdout } = await run(process.execPath, [fixture("idle-exit.mjs")], { timeout: 30_000 });
  t.is(stdout, "pong\n");
});

test("a module that forgets the isMain guard gets an error that says so", async (t) => {
  const { stdout } = await run(process.execPath, [fixture("unguarded.mjs")], { timeout: 30_000 });
  const { code, message } = JSON.parse(stdout);
  t.is(code, "ERR_KNITTING_TASK_NOT_FOUND");
  t.regex(message, /isMain/);
});

test("a task that is not exported gets an error that says so", async (t) => {
  const { stdout } = await run(process.execPath, [fixture("not-exported.mjs")], { timeout: 30_000 });
  const { code, message } = JSON.parse(stdout);
  t.is(code, "ERR_KNITTING_TASK_NOT_FOUND");
  t.regex(message, /export/);
  t.regex(message, /hidden/);
});

test("a task whose module fails to import, or whose export is not a function, fails only its own calls", async (t) => {
  using pool = createPool({ threads: 2 })({
    echo: tasks.echo,
    addOne: importTask({ href: "./fixtures/broken-tasks.mjs", name: "addOne" }),
    notATask: importTask({ href: "./fixtures/broken-tasks.mjs", name: "notATask" }),
    broken: importTask({ href: "./fixtures/throws-on-import.mjs" }),
  });
  const notAFunction = await t.throwsAsync(pool.call.notATask(), { instanceOf: TypeError, code: "ERR_KNITTING_TASK_NOT_FOUND" });
  t.regex(notAFunction.message, /"notATask" of .*broken-tasks\.mjs is a number, not a function/);
  t.regex(notAFunction.message, /Exports found: addOne, notATask/);
  const broken = await t.throwsAsync(pool.call.broken(), { code: "ERR_KNITTING_TASK_NOT_FOUND" });
  t.regex(broken.message, /throws-on-import\.mjs/);
  t.is(broken.cause?.message, "this module fails on purpose");
  t.is(await pool.call.echo("still here"), "still here", "the pool's other tasks run");
  t.is(await pool.call.addOne(1), 2, "and so do the other tasks of the same module");
  t.like(pool.stats(), { completed: 2, failed: 2 });
});

test("a timer a task module starts as it loads keeps running while its worker is idle", async (t) => {
  const ticks = new Int32Array(new SharedArrayBuffer(4));
  setEnvironmentData("knitting.test.moduleTimer", ticks.buffer);
  const pool = createPool({ threads: 1 })({ arm: importTask({ href: "./fixtures/module-timer.mjs", name: "arm" }) });
  t.is(await pool.call.arm(), "armed");
  // No call is in flight now: only the module's own timer can move the count.
  while (Atomics.load(ticks, 0) < 3) {
    const { async, value } = Atomics.waitAsync(ticks, 0, Atomics.load(ticks, 0), 1000);
    if (async) await value;
  }
  t.true(Atomics.load(ticks, 0) >= 3);
  await pool.shutdown();
  setEnvironmentData("knitting.test.moduleTimer", undefined);
});

test("workers that keep exiting right after they start, running no call, fail the pool's calls instead of restarting forever", async (t) => {
  t.timeout(60_000);
  const pool = createPool({ threads: 1 })({ echo: importTask({ href: "./fixtures/exit-after-load.mjs", name: "echo" }) });
  const error = await firstRejection(() => pool.call.echo(1));
  t.is(error.code, "ERR_KNITTING_TASK_NOT_FOUND");
  t.regex(error.message, /exited with code 9 within 1000 ms of starting, while it ran no call/);
  t.regex(error.message, /started 4 times/);
  await pool.shutdown();
});

test("a task module that exits while it is imported fails its calls with the module and the cause, after a few attempts", async (t) => {
  t.timeout(60_000);
  const starts = new Int32Array(new SharedArrayBuffer(4));
  setEnvironmentData("knitting.test.starts", starts.buffer);
  const pool = createPool({ threads: 2 })({ never: importTask({ href: "./fixtures/exit-on-import.mjs", name: "never" }) });
  const error = await t.throwsAsync(pool.call.never(), { code: "ERR_KNITTING_TASK_NOT_FOUND" });
  t.regex(error.message, /exit-on-import\.mjs/);
  t.regex(error.message, /exited with code 3/);
  t.regex(error.message, /started 4 times/);
  await t.throwsAsync(pool.call.never(), { code: "ERR_KNITTING_TASK_NOT_FOUND" });
  await pool.shutdown();
  t.is(Atomics.load(starts, 0), 8, "4 starts per worker, then no more");
  setEnvironmentData("knitting.test.starts", undefined);
});

test("a task module that never finishes loading fails its calls once worker.startupTimeoutMs has passed", async (t) => {
  t.timeout(60_000);
  // The module never settles, so any limit is reached; this one is far above
  // what starting a worker takes on a loaded machine.
  const pool = createPool({ threads: 1, worker: { startupTimeoutMs: 5000 } })({ never: importTask({ href: "./fixtures/hang-on-import.mjs", name: "never" }) });
  const error = await t.throwsAsync(pool.call.never(), { code: "ERR_KNITTING_TASK_NOT_FOUND" });
  t.regex(error.message, /hang-on-import\.mjs/);
  t.regex(error.message, /within 5000 ms/);
  await pool.shutdown();
});

test("a pool dropped without shutdown() is closed once it is collected", async (t) => {
  if (process.platform !== "linux") return t.pass("counts threads through /proc");
  const { stdout } = await run(process.execPath, ["--expose-gc", fixture("dropped-pool.mjs")], { timeout: 60_000 });
  t.is(stdout, "closed\n");
});

test("a pool created by a running task works (nested pools), unlike one created while a worker imports its tasks", async (t) => {
  using pool = createPool({ threads: 1 })({ nested: tasks.nested });
  t.deepEqual(await pool.call.nested(20), { value: 6765, onAnotherThread: true });
});

test("shutdown() called while an argument is being encoded rejects that call, never leaves it pending", async (t) => {
  const pool = createPool({ threads: 1 })({ echo: tasks.echo });
  const arg = {
    get value() {
      pool.shutdown();
      return 1;
    },
  };
  await t.throwsAsync(pool.call.echo(arg), { code: "ERR_KNITTING_POOL_CLOSED" });
  // An Envelope header getter that shuts the pool down: the body is not taken.
  const second = createPool({ threads: 1 })({ echo: tasks.echo });
  const ref = new BufferReference(new Uint8Array([1, 2, 3]));
  const header = {
    get op() {
      second.shutdown();
      return "invert";
    },
  };
  await t.throwsAsync(second.call.echo(new Envelope(header, ref)), { code: "ERR_KNITTING_POOL_CLOSED" });
  t.false(ref.released, "the reference was not consumed");
  t.deepEqual([...ref.toUint8Array()], [1, 2, 3]);
});
