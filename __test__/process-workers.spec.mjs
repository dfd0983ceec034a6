// Process workers (worker: { runtime: "process" }): the pool's API and tasks,
// run by child processes that share a channel in OS shared memory.
import test from "ava";
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createPool, Envelope, importTask } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { ProcessSharedBuffer } from "knitting/shared-memory";
import * as tasks from "./fixtures/process-tasks.mjs";
import { firstRejection } from "./helpers.mjs";

const processPool = (threads = 1, worker = {}) => createPool({ threads, worker: { runtime: "process", ...worker } })(tasks);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const shm = () => readdirSync("/dev/shm");

test("calls run in child processes, where isMain is false", async (t) => {
  await using pool = processPool(2);
  const places = await Promise.all(Array.from({ length: 8 }, () => pool.call.where()));
  for (const { pid, isMain } of places) {
    t.not(pid, process.pid);
    t.false(isMain);
  }
  t.is(pool.stats().workers.length, 2);
});

test("payload kinds arrive as sent, both ways", async (t) => {
  await using pool = processPool();
  const values = [
    undefined, null, true, 0, -0, 1.5, NaN, 2n ** 70n, -(2n ** 70n), 0n, "ü🌍", "lone \ud800 surrogate", { "key \udc00": 1 },
    [1, , 3], { a: { b: [new Date(5)] } }, JSON.parse('{"__proto__": 5}'), new ArrayBuffer(8, { maxByteLength: 64 }),
    new Uint8Array([1, 2, 3]), new Float64Array([1.5]), new ArrayBuffer(4), new DataView(new ArrayBuffer(2)),
    Buffer.from("buf"), new Uint8Array(100_000).fill(7), new Error("plain", { cause: 1 }), new Envelope({ k: 1 }, new ArrayBuffer(3)),
  ];
  for (const value of values) t.deepEqual(await pool.call.echo(value), value);
  const back = await pool.call.echo(Buffer.from("buf"));
  t.true(Buffer.isBuffer(back));
  t.is((await pool.call.echo(new ArrayBuffer(8, { maxByteLength: 64 }))).maxByteLength, 64, "a resizable buffer stays resizable");
  t.is(Object.getOwnPropertyDescriptor(await pool.call.echo(JSON.parse('{"__proto__": 5}')), "__proto__")?.value, 5, "an own __proto__ key stays a key");
});

test("errors keep their class, message, code and cause", async (t) => {
  await using pool = processPool();
  const error = await t.throwsAsync(pool.call.fail("no"), { instanceOf: RangeError, message: "no", code: "E_TASK" });
  t.is(error.cause.message, "inner");
  t.is(await pool.call.echo(1), 1, "the worker still serves");
});

test("a BufferReference or SharedArrayBuffer is refused at the process boundary, nothing consumed, the worker healthy", async (t) => {
  await using pool = processPool();
  const boundary = { code: "ERR_KNITTING_PROCESS_BOUNDARY", message: /cannot cross a process-worker boundary.*ProcessSharedBuffer/is };
  const ref = new BufferReference(new Uint8Array([1, 2, 3]));
  await t.throwsAsync(pool.call.echo(ref), boundary);
  t.false(ref.released, "the reference was not consumed");
  t.is(ref.byteLength, 3);
  await t.throwsAsync(pool.call.echo(new Envelope({ h: 1 }, ref)), boundary);
  t.false(ref.released);
  await t.throwsAsync(pool.call.echo({ nested: ref }), boundary);
  const sab = new SharedArrayBuffer(8);
  await t.throwsAsync(pool.call.echo(sab), boundary);
  await t.throwsAsync(pool.call.echo(new Int32Array(sab)), boundary);
  await t.throwsAsync(pool.call.echo(new Envelope({}, sab)), boundary);
  await t.throwsAsync(pool.call.echo([1, { deep: new Uint8Array(sab) }]), boundary);
  t.is(await pool.call.echo("still here"), "still here");
  t.deepEqual([...new Uint8Array(ref.toArrayBuffer())], [1, 2, 3], "its bytes are intact");
});

for (const mode of ["inherit", "named"]) {
  test(`a ProcessSharedBuffer is the same memory in the child (channel ${mode}), Atomics included`, async (t) => {
    const prefix = `knitting-spec-${mode}-`;
    {
      await using pool = processPool(2, { processSharedMemory: mode === "named" ? { mode, namePrefix: prefix } : mode });
      const psb = ProcessSharedBuffer.create(64);
      const sums = await Promise.all(Array.from({ length: 20 }, () => pool.call.bump({ psb, by: 3 })));
      t.is(Atomics.load(psb.view(Int32Array), 0), 60, "every child added to the same word");
      t.is(Math.max(...sums), 60);
      t.is(psb.bytes()[8], 0xcd);
      const made = await pool.call.make({ size: 1 << 20, fill: 9 });
      t.is(made.byteLength, 1 << 20);
      t.true(made.bytes().every((b) => b === 9), "a buffer made in the child is readable here");
      made.descriptor.mapping.close();
      const back = await pool.call.bumpEnvelope(new Envelope({ tag: "img" }, psb.subbuffer(16, 32)));
      t.true(back instanceof Envelope, "an Envelope with a ProcessSharedBuffer body crosses");
      t.deepEqual(back.header, { tag: "img:seen", offset: 16 });
      t.is(psb.bytes()[16], 1, "the child wrote through the body");
      t.deepEqual([back.payload.byteOffset, back.payload.byteLength, back.payload.bytes()[0]], [16, 32, 1]);
      psb.descriptor.mapping.close();
    }
    t.deepEqual(shm().filter((n) => n.startsWith(prefix)), [], "no shared-memory object outlives the pool");
  });
}

test("a dying child rejects only the call it ran, the calls it had not started run elsewhere, and it is replaced", async (t) => {
  await using pool = processPool(2);
  const calls = Array.from({ length: 200 }, (_, i) => (i === 100 ? pool.call.exit(7) : pool.call.echo(i)));
  const results = await Promise.allSettled(calls);
  const rejected = results.filter((r) => r.status === "rejected");
  t.is(rejected.length, 1);
  t.is(rejected[0].reason.code, "ERR_KNITTING_WORKER_EXITED");
  t.regex(rejected[0].reason.message, /code 7/);
  t.is(results[100].status, "rejected");
  t.is(await pool.call.echo("after"), "after");
});

test("a child killed from outside rejects its call with the signal, and is replaced", async (t) => {
  await using pool = processPool(1);
  const running = pool.call.busy(60_000);
  const { pid } = await Promise.race([pool.call.where(), new Promise((r) => setTimeout(r, 50)).then(() => ({ pid: pool.stats().workers[0].threadId }))]);
  process.kill(pid, "SIGKILL");
  await t.throwsAsync(running, { code: "ERR_KNITTING_WORKER_EXITED", message: /SIGKILL/ });
  t.not((await pool.call.where()).pid, pid);
});

test("a call is not held up by a busy child while another is idle", async (t) => {
  await using pool = processPool(2);
  await Promise.all([pool.call.echo(0), pool.call.echo(0)]); // both children ready
  const order = [];
  const slow = pool.call.busy(1500).then(() => order.push("busy"));
  await new Promise((r) => setTimeout(r, 100));
  await Promise.all(Array.from({ length: 5 }, (_, i) => pool.call.echo(i).then(() => order.push("quick"))));
  await slow;
  t.deepEqual(order, ["quick", "quick", "quick", "quick", "quick", "busy"]);
});

test("calls queued behind a busy child move to a child that became idle", async (t) => {
  await using pool = processPool(2);
  await Promise.all([pool.call.echo(0), pool.call.echo(0)]);
  // Both busy; the burst is spread over both; the short one frees its child first.
  const long = pool.call.busy(2000);
  const short = pool.call.busy(200);
  const burst = Array.from({ length: 40 }, (_, i) => pool.call.echo(i));
  const done = [];
  await Promise.all(burst.map((p) => p.then(() => done.push("echo"))).concat(long.then(() => done.push("long")), short));
  t.is(done.at(-1), "long", "every queued call finished before the long one");
});

test("shutdown reaps every child, also one stuck in an endless loop, and unlinks named channels", async (t) => {
  const prefix = "knitting-spec-shutdown-";
  const pool = processPool(2, { processSharedMemory: { mode: "named", namePrefix: prefix, unlinkOnShutdown: true } });
  const pids = pool.stats().workers.map((w) => w.threadId);
  const stuck = pool.call.forever();
  await pool.call.echo(1);
  await pool.shutdown();
  await t.throwsAsync(stuck, { code: "ERR_KNITTING_THREAD_CLOSED" });
  for (const pid of pids) t.false(alive(pid), `child ${pid} was reaped`);
  t.deepEqual(shm().filter((n) => n.startsWith(prefix)), []);
});

test("children die with their host, even one killed without shutdown, and leave no named channel", (t) => {
  const script = `
    import { createPool } from "knitting";
    import * as tasks from ${JSON.stringify(new URL("./fixtures/process-tasks.mjs", import.meta.url).href)};
    const pool = createPool({ threads: 2, worker: { runtime: "process", processSharedMemory: { mode: "named", namePrefix: "knitting-spec-killed-${process.pid}-" } } })(tasks);
    await Promise.all([pool.call.echo(1), pool.call.echo(2)]);
    console.log(JSON.stringify([pool.stats().workers.map((w) => w.threadId), process.pid]));
    process.kill(process.pid, "SIGKILL");`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname, timeout: 30_000 });
  const [pids] = JSON.parse(result.stdout.trim());
  t.is(pids.length, 2);
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline);
  t.deepEqual(pids.filter(alive), [], "no child outlives its host");
  t.deepEqual(shm().filter((n) => n.startsWith(`knitting-spec-killed-${process.pid}-`)), [], "nor does a named channel");
});

test("process worker options are validated", (t) => {
  const make = (worker, extra = {}) => () => createPool({ ...extra, worker: { runtime: "process", ...worker } })(tasks);
  t.throws(make({ processRuntime: "python" }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(make({ processCommandPrefix: "bwrap" }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(make({ processSharedMemory: "magic" }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(make({ processSharedMemory: { namePrefix: "a/b" } }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(make({}, { stats: true }), { code: "ERR_KNITTING_UNSUPPORTED_OPTION" });
  t.throws(() => createPool({ worker: { processRuntime: "node" } }), { code: "ERR_KNITTING_INVALID_OPTION", message: /runtime to "process"/ });
});

test("processCommandPrefix runs the child through the given command", async (t) => {
  await using pool = processPool(1, { processCommandPrefix: ["/usr/bin/env", "KNITTING_SPEC_PREFIX=1"] });
  const { pid } = await pool.call.where();
  t.not(pid, process.pid);
});

test("a hard deadline kills the child running an overdue call (it is replaced); an AbortSignal cancels a call", async (t) => {
  await using pool = processPool(1);
  const { pid } = await pool.call.where();
  await t.throwsAsync(pool.call.forever(undefined, { hardTimeoutMs: 300 }), { code: "ERR_KNITTING_TASK_TIMEOUT" });
  const after = await pool.call.where();
  t.not(after.pid, pid, "the stuck child was replaced");
  const controller = new AbortController();
  const cancelled = pool.call.later(10_000, { signal: controller.signal });
  controller.abort(new Error("no longer needed"));
  await t.throwsAsync(cancelled, { message: "no longer needed" });
  t.is(await pool.call.echo("next"), "next");
});

test("a task module that cannot load, or never finishes loading, fails the pool's calls with the reason", async (t) => {
  const missing = createPool({ threads: 1, worker: { runtime: "process" } })({
    never: importTask({ href: new URL("./fixtures/does-not-exist.mjs", import.meta.url).href, name: "never" }),
  });
  await t.throwsAsync(missing.call.never(), { code: "ERR_KNITTING_TASK_NOT_FOUND", message: /does-not-exist/ });
  await missing.shutdown();
  const hanging = createPool({ threads: 1, worker: { runtime: "process", startupTimeoutMs: 500 } })({
    never: importTask({ href: new URL("./fixtures/hang-on-import.mjs", import.meta.url).href, name: "never" }),
  });
  await t.throwsAsync(hanging.call.never(), { code: "ERR_KNITTING_TASK_NOT_FOUND", message: /within 500 ms/ });
  await hanging.shutdown();
});

test("a worker command that does not exist fails the calls at once with what to do, and shutdown still ends", async (t) => {
  const pool = processPool(1, { processCommandPrefix: ["/nonexistent/knitting-no-such-command"] });
  await t.throwsAsync(pool.call.echo(1), { code: "ERR_KNITTING_TASK_NOT_FOUND", message: /knitting-no-such-command" was not found/ });
  await pool.shutdown();
  t.pass();
});

test("results that outgrow the ring all arrive (the writer waits for room and is rung)", async (t) => {
  await using pool = processPool(1);
  const results = await Promise.all(Array.from({ length: 1500 }, () => pool.call.bytesOf(100_000)));
  t.is(results.length, 1500);
  t.true(results.every((r) => r.length === 100_000));
});

test("a timer a task leaves behind fires while the child is idle", async (t) => {
  await using pool = processPool(1);
  await pool.call.leaveTimer();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(await pool.call.flag(), 1);
});

test("a sparse array costs what it holds: length 1e8 (and 2^32 - 1) with two elements round-trips exactly", async (t) => {
  await using pool = processPool(1);
  for (const length of [1e8, 2 ** 32 - 1]) {
    const sparse = [];
    sparse[3] = "three";
    sparse[length - 1] = { last: true };
    const back = await pool.call.echo(sparse);
    t.is(back.length, length);
    t.deepEqual(Object.keys(back), ["3", String(length - 1)], "only the elements sent are present");
    t.is(back[3], "three");
    t.deepEqual(back[length - 1], { last: true });
    t.false(0 in back || 4 in back || length - 2 in back, "holes stay holes");
  }
  const mixed = [1, , , 4, [, "x", ,], , undefined];
  mixed.length = 10;
  const back = await pool.call.echo(mixed);
  t.deepEqual(back, mixed);
  t.deepEqual(Object.keys(back), ["0", "3", "4", "6"]);
  t.deepEqual(Object.keys(back[4]), ["1"]);
  t.is(back[4].length, 3);
});

test("worker.bootstrap data and importTask timeouts reach process workers exactly, of any size", async (t) => {
  const small = { date: new Date(5), nan: NaN, undef: undefined, bytes: new Uint8Array([1, 2, 3]), big: 10n, minusZero: -0, sparse: [1, , 3], error: new RangeError("kept") };
  // (300 KB once failed with E2BIG in the environment; over 4 MiB travels in a shared-memory object of its own)
  const data = { ...small, text: "x".repeat(300_000), large: new Uint8Array(6 << 20).fill(9) };
  const echo = new URL("./fixtures/process-tasks.mjs", import.meta.url).href;
  await using pool = createPool({ threads: 2, worker: { runtime: "process", bootstrap: { href: "./fixtures/bootstrap.mjs", data } } })({
    bootstrapSeen: tasks.bootstrapSeen,
    late: importTask({ href: echo, name: "later", timeout: { time: 50, default: 10n } }),
    lateError: importTask({ href: echo, name: "later", timeout: { time: 50, error: new RangeError("too slow") } }),
  });
  const seen = await Promise.all([pool.call.bootstrapSeen(), pool.call.bootstrapSeen()]);
  for (const { data: got, totalNumberOfThread } of seen) {
    const { text, large, ...rest } = got;
    t.deepEqual(rest, small);
    t.is(text, data.text);
    t.true(large instanceof Uint8Array && Buffer.from(large.buffer, large.byteOffset, large.byteLength).equals(data.large), "6 MiB of bytes, exactly");
    t.true("undef" in got, "an undefined value keeps its key");
    t.true(got.date instanceof Date && got.bytes instanceof Uint8Array && got.error instanceof RangeError);
    t.false(1 in got.sparse);
    t.is(totalNumberOfThread, 2);
  }
  // (Which child ran each call is the scheduler's choice: each saw its own place.)
  for (const { thread } of seen) t.true(thread === 0 || thread === 1);
  t.is(await pool.call.late(5000), 10n, "a bigint default");
  await t.throwsAsync(pool.call.lateError(5000), { instanceOf: RangeError, message: "too slow" });
});

test("worker.bootstrap data or an importTask timeout a process worker cannot get exactly is refused at createPool, nothing started", (t) => {
  const before = shm().length;
  const echo = new URL("./fixtures/process-tasks.mjs", import.meta.url).href;
  const withData = (data) => () =>
    createPool({ threads: 1, worker: { runtime: "process", bootstrap: { href: "./fixtures/bootstrap.mjs", data } } })({ echo: tasks.echo });
  const refused = { code: "ERR_KNITTING_INVALID_OPTION", message: /worker\.bootstrap\.data reaches process workers as a call argument does.*Map at worker\.bootstrap\.data\.map/s };
  const error = t.throws(withData({ map: new Map([[1, 2]]) }), refused);
  t.is(error.cause.code, "ERR_KNITTING_UNSUPPORTED_PAYLOAD");
  t.throws(withData({ set: new Set([1]) }), { code: "ERR_KNITTING_INVALID_OPTION" });
  t.throws(withData({ shared: new SharedArrayBuffer(8) }), { code: "ERR_KNITTING_INVALID_OPTION", message: /SharedArrayBuffer/ });
  // (importTask itself refuses a default a call could not carry back, for threads and processes alike.)
  t.throws(
    () => createPool({ threads: 1, worker: { runtime: "process" } })({ echo: importTask({ href: echo, name: "echo", timeout: { time: 1, default: new Map() } }) }),
    { code: "ERR_KNITTING_INVALID_OPTION", message: /Map.*task\(\{ f, timeout \}\)/s },
  );
  t.is(shm().length, before);
});

test("a value whose parts share parts crosses once per part and arrives shared; results that cannot be written reject only their call", async (t) => {
  await using pool = processPool(1);
  let graph = { leaf: 1n };
  for (let i = 0; i < 40; i++) graph = { a: graph, b: [graph, new Date(0)] };
  const back = await pool.call.echo(graph);
  let bottom = back;
  for (let i = 0; i < 40; i++) bottom = bottom.b[0];
  t.is(bottom.leaf, 1n, "2^40 paths through 41 objects cross, each part about once");
  const bytes = new Uint8Array(4);
  const detaching = {
    a: bytes,
    get b() {
      bytes.buffer.transfer();
      return 1;
    },
  };
  await t.throwsAsync(pool.call.echo(detaching), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /could not copy/ });
  t.is(await pool.call.echo("still here"), "still here");
});

test("children that keep exiting right after they start, running no call, fail the calls instead of restarting forever", async (t) => {
  t.timeout(60_000);
  const pool = createPool({ threads: 1, worker: { runtime: "process" } })({ echo: importTask({ href: "./fixtures/exit-after-load.mjs", name: "echo" }) });
  const error = await firstRejection(() => pool.call.echo(1));
  t.is(error.code, "ERR_KNITTING_TASK_NOT_FOUND");
  t.regex(error.message, /exited with code 9 within 1000 ms of starting, while it ran no call/);
  await pool.shutdown();
});

test("a buffer closed while its call is on the way is never confused with a file that took its descriptor number", async (t) => {
  const { openSync, closeSync, readFileSync, writeFileSync, rmSync } = await import("node:fs");
  const file = `/tmp/knitting-spec-unrelated-${process.pid}.txt`;
  writeFileSync(file, "UNRELATED".padEnd(4096, "."));
  await using pool = processPool(1);
  await pool.call.echo("ready");
  const psb = ProcessSharedBuffer.create(64);
  const call = pool.call.scribble(psb);
  psb.descriptor.mapping.close(); // before the child has opened it...
  const fd = openSync(file, "r+"); // ...and the number is free for this file
  const outcome = await call.then(() => "ran", (error) => error.code);
  closeSync(fd);
  t.is(readFileSync(file, "utf8").slice(0, 9), "UNRELATED", "the child never wrote the file");
  t.is(outcome, "ERR_KNITTING_SHARED_MEMORY");
  rmSync(file);
});
