// The shared-memory transport pieces, on real threads where it matters: the
// call queue under contention (every call claimed exactly once), the result
// ring (every item, in order), the outbox's backlog and the payload arena.
import test from "ava";
import { CallSamples } from "../lib/transport/call-samples.js";
import { laneTimes } from "../lib/worker/call-times.js";
import { Worker } from "node:worker_threads";
import { once } from "node:events";
import { CallQueue, Payload } from "../lib/transport/call-queue.js";
import { SpscRing } from "../lib/transport/spsc-ring.js";
import { Outbox } from "../lib/transport/outbox.js";
import { PayloadArena } from "../lib/transport/payload-arena.js";
import { ARENA_BYTES, CONTROL_BYTES, RING_SLOTS } from "../lib/transport/layout.js";
import { serialize } from "../lib/codec/serialize.js";

const stressWorker = new URL("./fixtures/transport-stress-worker.mjs", import.meta.url);
const DONE = CONTROL_BYTES / 4 - 1; // spare control words: "the producer is done", "a round is ready"
const GO = CONTROL_BYTES / 4 - 2;

test("CallQueue on real threads: 4 workers claim 300,000 calls, each exactly once, each worker in queue order", async (t) => {
  t.timeout(60_000, "the workers stopped claiming (the queue's head went wrong)");
  const CALLS = 300_000;
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  const queue = new CallQueue(control);
  queue.ensureHandles(CALLS);
  const logs = Array.from({ length: 4 }, () => new Int32Array(new SharedArrayBuffer(4 * (CALLS + 1))));
  const workers = logs.map(
    (log, i) => new Worker(stressWorker, { workerData: { mode: "consume", control: control.buffer, queue: queue.shared, log: log.buffer, lane: i + 1, doneIndex: DONE, goIndex: GO } }),
  );
  const finished = workers.map((worker) => once(worker, "message"));
  await Promise.all(workers.map((worker) => once(worker, "online")));
  // Rounds: fill the whole queue, then let every worker drain it at once, so
  // that claims contend all the time (a plain store instead of the
  // compare-and-swap hands one call to two workers within a round or two).
  for (let handle = 0; handle < CALLS; ) {
    while (handle < CALLS && queue.push(handle, 1, 0, Payload.PRIMITIVE, handle * 2, 0) === true) handle++;
    Atomics.add(control, GO, 1);
    Atomics.notify(control, GO);
    while (queue.backlog() > 0) await new Promise((resolve) => setImmediate(resolve));
  }
  Atomics.store(control, DONE, 1);
  Atomics.add(control, GO, 1);
  Atomics.notify(control, GO);
  await Promise.all(finished);
  const seen = new Uint8Array(CALLS);
  let total = 0;
  for (const [i, log] of logs.entries()) {
    const count = log[0];
    total += count;
    for (let k = 1; k <= count; k++) {
      const handle = log[k];
      seen[handle]++;
      if (k > 1 && handle <= log[k - 1]) t.fail(`worker ${i + 1} claimed ${handle} after ${log[k - 1]}`);
      if (queue.startedBy(handle, 1) !== i + 1) t.fail(`call ${handle} not recorded as started by worker ${i + 1}`);
    }
  }
  t.is(total, CALLS, "as many claims as calls");
  t.true(seen.every((n) => n === 1), "every call claimed exactly once");
  t.true(logs.filter((log) => log[0] > 0).length >= 2, "the claims were contended");
});

test("SpscRing on real threads: 500,000 items arrive complete and in order", async (t) => {
  const COUNT = 500_000;
  const ring = new SpscRing();
  const worker = new Worker(stressWorker, { workerData: { mode: "produce", ring: ring.sab, count: COUNT, control: new SharedArrayBuffer(CONTROL_BYTES) } });
  const finished = once(worker, "message");
  let next = 0;
  let ok = true;
  const check = (handle, serial, meta, wire) => {
    const expected = handle % 3 === 0 ? `s${handle}` : handle;
    if (handle !== next || serial !== (handle ^ 0x5a5a) || meta !== 1 || wire !== expected) ok = false;
    next++;
  };
  while (next < COUNT) {
    if (ring.drain(check) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await finished;
  t.true(ok, "every item in order, with its fields");
  t.is(next, COUNT);
  t.false(ring.hasItems());
});

test("an outbox keeps what the full ring has no room for, in order, and says when it wrote (so the host is rung)", (t) => {
  const ring = new SpscRing();
  const port = { posted: [], postMessage(value) { this.posted.push(value); } };
  const outbox = new Outbox(ring, port);
  for (let id = 0; id < RING_SLOTS; id++) t.true(outbox.send(id, 0, 1, id, false, false, []));
  t.false(outbox.send(RING_SLOTS, 0, 1, "late", false, false, []), "the ring is full: kept");
  const big = new Date(0);
  t.false(outbox.send(RING_SLOTS + 1, 0, 1, big, false, false, []), "a value for the port waits its turn too");
  t.deepEqual(port.posted, [big], "posted at once, so port messages keep the order of their items");
  t.is(outbox.waiting, 2);
  t.false(outbox.flush(), "still no room");
  const items = [];
  ring.drain((handle) => items.push(handle));
  t.is(items.length, RING_SLOTS);
  t.true(outbox.flush(), "wrote the waiting items: the caller rings the host");
  t.is(outbox.waiting, 0);
  const rest = [];
  ring.drain((handle, serial, meta, wire) => rest.push([handle, typeof wire === "symbol" ? "port" : wire]));
  t.deepEqual(rest, [[RING_SLOTS, "late"], [RING_SLOTS + 1, "port"]]);
  t.false(outbox.flush(), "nothing waiting, nothing written");
});

test("JSON-exact results travel as JSON text: in the slot when short, else on the port", (t) => {
  const ring = new SpscRing();
  const port = { posted: [], postMessage(value) { this.posted.push(value); } };
  const outbox = new Outbox(ring, port);
  const small = { a: [1, "two", null], b: { c: true } };
  const large = { text: "z".repeat(500) };
  t.true(outbox.send(1, 0, 1, small, false, true, []));
  t.true(outbox.send(2, 0, 1, large, false, true, []));
  t.deepEqual(port.posted, [JSON.stringify(large)], "the long one went on the port, as text");
  const items = [];
  ring.drain((handle, serial, meta, wire, flags) => items.push([handle, wire, flags]));
  t.deepEqual(items[0][1], small, "parsed back from the slot");
  t.is(typeof items[1][1], "symbol", "a PORT item, flagged as JSON text for the reader");
  t.true((items[1][2] & 2) !== 0);
});

test("the payload arena reuses space in queue order and never hands out bytes still unread", (t) => {
  const arena = new PayloadArena();
  const consumed = new Set();
  const released = (pos) => consumed.has(pos);
  const block = (n, fill) => new Uint8Array(n).fill(fill);
  const quarter = ARENA_BYTES / 4;
  const a = arena.store(block(quarter, 1), 0, released);
  const b = arena.store(block(quarter, 2), 1, released);
  const c = arena.store(block(quarter, 3), 2, released);
  t.deepEqual([a, b, c], [0, quarter, 2 * quarter]);
  t.is(arena.store(block(quarter + 8, 4), 3, released), -1, "no room until a call is claimed");
  t.is(arena.store(block(ARENA_BYTES / 4 + 1, 4), 3, released), -1, "values above a quarter of the arena never go there");
  consumed.add(0);
  const d = arena.store(block(quarter - 8, 4), 3, released);
  t.is(d, 3 * quarter, "the end first");
  const e = arena.store(block(quarter - 8, 5), 4, released);
  t.is(e, 0, "then around, into the space call 0 freed");
  t.is(arena.bytes[b], 2, "call 1's bytes untouched");
  t.is(arena.bytes[c + quarter - 1], 3, "call 2's bytes untouched");
  t.is(arena.store(block(64, 6), 5, released), -1, "call 1 still unread: no room before it");
  for (const pos of [1, 2, 3, 4]) consumed.add(pos);
  t.is(arena.store(block(64, 6), 5, released), 0, "all read: the arena starts over");
});

test("the queue keeps serialized values in the slot or the arena, and held values on the host", (t) => {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  const queue = new CallQueue(control);
  queue.ensureHandles(8);
  const small = { a: [1, 2], b: "x" };
  const large = { text: "y".repeat(10_000) };
  t.true(queue.push(0, 10, 0, Payload.SERIALIZED, serialize(small), 0));
  t.true(queue.push(1, 11, 1, Payload.SERIALIZED, serialize(large), 1));
  t.true(queue.push(2, 12, 2, Payload.HELD, undefined, 1));
  const got = [];
  const take = (...args) => got.push(args);
  while (queue.pop(3, take));
  t.deepEqual(got[0], [0, 10, 0, small, false, undefined]);
  t.deepEqual(got[1], [1, 11, 1, large, true, undefined]);
  t.is(typeof got[2][3], "symbol", "a HELD marker: the value waits on the host");
  t.deepEqual([queue.startedBy(0, 10), queue.startedBy(1, 11), queue.startedBy(2, 12)], [3, 3, 3]);
  t.is(queue.startedBy(0, 9), 0, "an entry names only the call with its serial");
});

test("call samples: histograms plus pending pairs count every call once, also across a worker that died mid-record", (t) => {
  const times = laneTimes();
  const host = new CallSamples(times.samples);
  const counts = () => {
    const { run, wait } = host.snapshot(times);
    return [run.count, wait.count, run.max, wait.max];
  };
  const first = new CallSamples(times.samples).open(times.runTime, times.waitTime);
  let calls = 0;
  const add = (samples) => {
    calls++;
    samples.add(calls, 1000 + calls, times.runTime, times.waitTime); // small values: histograms keep them exact
  };
  for (let i = 0; i < 700; i++) add(first); // more than the buffer holds: it recorded once on the way
  t.true(times.runTime.count > 0 && times.runTime.count < 700);
  t.deepEqual(counts(), [700, 700, 1700, 700]);
  first.record(times.runTime, times.waitTime);
  t.deepEqual(counts(), [700, 700, 1700, 700], "recording moves pairs, it does not add them");
  add(first);
  add(first);
  // The worker dies between the two records of pair 700 (its wait is in, its run is not).
  times.waitTime.record(701);
  const second = new CallSamples(times.samples).open(times.runTime, times.waitTime);
  t.is(times.runTime.count, times.waitTime.count, "the next worker evens the histograms out");
  t.deepEqual(counts(), [702, 702, 1702, 702]);
  for (let i = 0; i < 10; i++) add(second);
  t.deepEqual(counts(), [712, 712, 1712, 712]);
  second.record(times.runTime, times.waitTime);
  t.deepEqual(counts(), [712, 712, 1712, 712]);
  t.is(times.runTime.min, 1001);
});
