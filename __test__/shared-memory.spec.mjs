// knitting/shared-memory: ProcessSharedBuffer in one thread, between threads
// of a pool, and between processes; closing never exposes unmapped memory.
import test from "ava";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { once } from "node:events";
import { setImmediate as nextTurn } from "node:timers/promises";
import { createPool, Envelope } from "knitting";
import { ProcessSharedBuffer, getDefaultProcessSharedBufferPrimitives, sharedMemoryStats } from "knitting/shared-memory";
import * as alias from "knitting/process-shared-buffer";
import * as tasks from "./fixtures/shared-memory-tasks.mjs";

const child = new URL("./fixtures/shared-memory-child.mjs", import.meta.url).pathname;
const uniqueName = (label) => `knitting-test-${label}-${process.pid}-${Math.random().toString(36).slice(2)}`;
const shmNames = () => readdirSync("/dev/shm");
const close = (psb) => psb.descriptor.mapping.close();

test("create, views, ranges and metadata", (t) => {
  t.is(alias.ProcessSharedBuffer, ProcessSharedBuffer, "knitting/process-shared-buffer is the same module");
  const psb = ProcessSharedBuffer.create(100);
  t.is(psb.byteLength, 100);
  t.is(psb.size, 128, "sizes round up to 64 bytes");
  t.is(psb.descriptor.kind, "anonymous");
  t.true(psb.fd >= 0);
  t.true(psb.bytes().every((b) => b === 0), "zero-filled");
  psb.bytes()[3] = 7;
  t.is(psb.dataView().getUint8(3), 7, "every view shows the same bytes");
  t.is(psb.bytes().buffer, psb.getBuffer(), "one engine buffer per mapping");
  const tail = psb.subbuffer(64, 32);
  tail.view(Int32Array)[0] = -5;
  t.is(psb.dataView().getInt32(64, true), -5);
  t.throws(() => psb.view(Float64Array), { instanceOf: RangeError, code: "ERR_KNITTING_INVALID_ARGUMENT", message: /multiples of 8/ });
  t.throws(() => psb.subbuffer(90, 20), { instanceOf: RangeError });
  t.throws(() => psb.view(Array), { instanceOf: TypeError, code: "ERR_KNITTING_INVALID_ARGUMENT" });
  t.throws(() => ProcessSharedBuffer.create(0), { code: "ERR_KNITTING_INVALID_ARGUMENT" });
  t.throws(() => ProcessSharedBuffer.create({ size: 8, mode: "bogus" }), { code: "ERR_KNITTING_INVALID_ARGUMENT" });
  t.throws(() => new ProcessSharedBuffer(), { code: "ERR_KNITTING_INVALID_ARGUMENT" });
  const metadata = tail.toMetadata();
  t.deepEqual(JSON.parse(JSON.stringify(tail)), metadata);
  t.like(metadata, { version: 1, byteOffset: 64, byteLength: 32, descriptor: { kind: "anonymous", size: 128 } });
  const again = ProcessSharedBuffer.parse(tail.stringify());
  t.is(again.view(Int32Array)[0], -5, "metadata maps the same memory again");
  close(again);
  close(psb);
});

test("named objects: create refuses an existing name, open maps it, unlink removes it from /dev/shm", (t) => {
  const name = uniqueName("named");
  const created = ProcessSharedBuffer.create({ size: 4096, mode: "create", name });
  t.true(shmNames().includes(name));
  t.throws(() => ProcessSharedBuffer.create({ size: 64, mode: "create", name }), { code: "ERR_KNITTING_SHARED_MEMORY", message: /exists/ });
  const opened = ProcessSharedBuffer.create({ mode: "open", name });
  created.bytes()[0] = 42;
  t.is(opened.bytes()[0], 42);
  t.is(opened.descriptor.name, `/${name}`);
  getDefaultProcessSharedBufferPrimitives().unlinkSharedMemory(name);
  t.false(shmNames().includes(name));
  t.throws(() => ProcessSharedBuffer.create({ mode: "open", name }), { code: "ERR_KNITTING_SHARED_MEMORY" });
  opened.bytes()[1] = 9;
  t.is(created.bytes()[1], 9, "mappings outlive the name");
  close(created);
  close(opened);
});

test.serial("closing detaches every view this thread took (length 0, never unmapped memory) and frees the mapping", (t) => {
  const before = sharedMemoryStats();
  const psb = ProcessSharedBuffer.create(1 << 20);
  const views = [psb.bytes(), psb.view(Int32Array), psb.subbuffer(8).bytes()];
  views[0].fill(1);
  t.is(sharedMemoryStats().openMappings, before.openMappings + 1);
  close(psb);
  for (const view of views) t.is(view.length, 0);
  t.true(psb.descriptor.mapping.closed);
  t.throws(() => psb.bytes(), { code: "ERR_KNITTING_RELEASED" });
  t.deepEqual(sharedMemoryStats(), before, "unmapped: every view was proven detached");
  t.notThrows(() => close(psb), "close is idempotent");
});

test.serial("a buffer moved away with transfer() keeps its mapping until exit, counted", (t) => {
  const before = sharedMemoryStats();
  const psb = ProcessSharedBuffer.create(4096);
  psb.bytes()[0] = 5;
  const moved = psb.getBuffer().transfer();
  close(psb);
  t.is(new Uint8Array(moved)[0], 5, "the moved buffer still reads mapped memory");
  const after = sharedMemoryStats();
  t.is(after.keptMappings, before.keptMappings + 1);
  t.is(after.keptBytes, before.keptBytes + 4096);
});

test("a dropped buffer whose view lives on is never unmapped under that view", async (t) => {
  const before = sharedMemoryStats();
  const view = (() => {
    const psb = ProcessSharedBuffer.create(1 << 16);
    psb.bytes().fill(7);
    return psb.bytes();
  })();
  for (let i = 0; i < 20; i++) {
    globalThis.gc();
    await nextTurn();
  }
  t.true(view.every((b) => b === 7), "still mapped");
  t.true(sharedMemoryStats().openMappings + sharedMemoryStats().keptMappings >= before.openMappings + before.keptMappings + 1);
});

test.serial("a pool worker sees the same memory (Atomics included); its views detach when the call settles", async (t) => {
  const before = sharedMemoryStats();
  await using pool = createPool({ threads: 2 })(tasks);
  const psb = ProcessSharedBuffer.create(64);
  const sums = await Promise.all(Array.from({ length: 50 }, () => pool.call.bump({ psb, by: 2 })));
  t.is(Atomics.load(psb.view(Int32Array), 0), 100, "every worker added to the same word");
  t.is(Math.max(...sums), 100);
  t.is(psb.bytes()[8], 0xab);
  {
    // One worker, so the call that reads the stash runs where the stash was made.
    await using single = createPool({ threads: 1 })(tasks);
    t.is(await single.call.stash(psb.subbuffer(0, 16)), 16);
    t.is(await single.call.stashedLength(), 0, "the worker's view detached when its call settled");
  }
  const back = await pool.call.sameBack(psb);
  t.is(back.bytes()[8], 0xab, "a buffer returned by the worker is the same memory");
  close(back);
  close(psb);
  t.deepEqual(sharedMemoryStats(), before, "nothing left mapped: host and worker handles closed, views proven detached");
});

test("an Envelope with a ProcessSharedBuffer body: the worker writes through it, and the same range comes back", async (t) => {
  await using pool = createPool({ threads: 1 })(tasks);
  const psb = ProcessSharedBuffer.create(64);
  const back = await pool.call.bumpEnvelope(new Envelope({ tag: "img" }, psb.subbuffer(16, 32)));
  t.true(back instanceof Envelope);
  t.deepEqual(back.header, { tag: "img:seen", offset: 16 });
  t.is(psb.bytes()[16], 1, "the worker wrote through the body");
  t.deepEqual([back.payload.byteOffset, back.payload.byteLength, back.payload.bytes()[0]], [16, 32, 1]);
  t.deepEqual(back.payload.toMetadata(), psb.subbuffer(16, 32).toMetadata(), "the same metadata after the round trip");
  close(back.payload);
  close(psb);
});

test("a buffer a worker creates and returns stays readable after the pool is gone", async (t) => {
  const pool = createPool({ threads: 1 })(tasks);
  const made = await pool.call.make({ size: 1 << 20, fill: 3 });
  await pool.shutdown();
  t.is(made.byteLength, 1 << 20);
  t.true(made.bytes().every((b) => b === 3));
  close(made);
});

test("a closed buffer is refused as a payload, without consuming anything", async (t) => {
  await using pool = createPool({ threads: 1 })(tasks);
  const psb = ProcessSharedBuffer.create(64);
  close(psb);
  await t.throwsAsync(pool.call.sameBack(psb), { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /closed/ });
  t.is(await pool.call.stashedLength().catch(() => "serving"), "serving", "the pool still serves");
});

for (const mode of ["anonymous (an inherited descriptor)", "named"]) {
  test(`another process maps the same memory: ${mode}`, async (t) => {
    const named = mode === "named";
    const name = uniqueName("child");
    const psb = named ? ProcessSharedBuffer.create({ size: 64, mode: "create", name }) : ProcessSharedBuffer.create(64);
    psb.bytes()[8] = 77;
    const children = Array.from({ length: 3 }, () =>
      spawn(process.execPath, [child, psb.stringify()], { stdio: ["ignore", "pipe", "inherit", named ? "ignore" : psb.fd] }),
    );
    const outputs = await Promise.all(
      children.map(async (c) => {
        let out = "";
        c.stdout.on("data", (d) => (out += d));
        // "close", not "exit": a child can exit before its stdout has been read.
        const [code] = await once(c, "close");
        t.is(code, 0);
        return out.trim();
      }),
    );
    t.deepEqual(outputs, ["77", "77", "77"], "each child saw the parent's byte");
    t.is(Atomics.load(psb.view(Int32Array), 0), 3000, "Atomics.add from three processes, none lost");
    t.true(children.map((c) => c.pid).includes(Atomics.load(psb.view(Int32Array), 1)));
    if (named) getDefaultProcessSharedBufferPrimitives().unlinkSharedMemory(name);
    close(psb);
    t.false(shmNames().includes(name));
  });
}

test("wait and notify work across processes (Atomics.wait takes only SharedArrayBuffer views)", async (t) => {
  const psb = ProcessSharedBuffer.create(64);
  t.is(psb.wait(0, 1, 0), "not-equal");
  t.is(psb.wait(0, 0, 1), "timed-out");
  t.is(await psb.waitAsync(0, 0, 1), "timed-out");
  t.throws(() => psb.wait(16, 0), { instanceOf: RangeError });
  t.throws(() => psb.subbuffer(2).wait(0, 0), { instanceOf: RangeError });
  const waiter = spawn(process.execPath, [child, psb.stringify(), "waiter"], { stdio: ["ignore", "ignore", "inherit", psb.fd] });
  const exited = once(waiter, "exit"); // listen now: the child may exit while the loop below waits
  Atomics.store(psb.view(Int32Array), 2, 1);
  psb.notify(2); // wakes the child, if it is already waiting (if not, it sees 1 and does not wait)
  // The usual loop: wait while the word still holds the old value (the event loop stays free).
  const outcomes = [];
  while (Atomics.load(psb.view(Int32Array), 3) === 0) outcomes.push(await psb.waitAsync(3, 0, 30_000));
  t.is(Atomics.load(psb.view(Int32Array), 3), 5);
  t.false(outcomes.includes("timed-out"));
  const [code] = await exited;
  t.is(code, 0);
  close(psb);
});

test("views of a received buffer returned by a worker arrive as copies of its bytes, not detached", async (t) => {
  await using pool = createPool({ threads: 1 })(tasks);
  const psb = ProcessSharedBuffer.create(64);
  psb.bytes().set([1, 2, 3, 4]);
  const { bytes, buffer, data, words } = await pool.call.viewsBack(psb);
  t.deepEqual([...bytes.subarray(0, 4)], [1, 2, 3, 4]);
  t.is(bytes.length, 64);
  t.is(buffer.byteLength, 64);
  t.is(data.getUint8(3), 4);
  t.is(words.length, 16);
  psb.bytes()[0] = 9;
  t.is(bytes[0], 1, "a copy: later writes to the shared memory do not show through");
  close(psb);
});

test("members called on something that is not a ProcessSharedBuffer throw a coded TypeError", (t) => {
  for (const member of Object.getOwnPropertyNames(ProcessSharedBuffer.prototype).filter((name) => name !== "constructor")) {
    const { get, value } = Object.getOwnPropertyDescriptor(ProcessSharedBuffer.prototype, member);
    for (const receiver of [{}, null, Object.create(ProcessSharedBuffer.prototype)]) {
      t.throws(() => (get ?? value).call(receiver), { instanceOf: TypeError, code: "ERR_KNITTING_INVALID_ARGUMENT" }, member);
    }
  }
});
