// BufferReference round trips through a 1-thread knitting pool, against the
// same buffers as plain (copied) Uint8Arrays, piscina with transfer lists and
// plain worker_threads + postMessage with transfer lists, side by side in one
// run. Run: npm run bench:references
//   (a) "new":      the task reads the input and returns a NEW buffer of the
//                   same size, out[i] = 255 - in[i]
//   (b) "in place": the task flips byte 0 of its input and returns the input
//                   (knitting: `return ref`; piscina / worker_threads: the same
//                   ArrayBuffer in the transfer list)
// Every contender has one worker thread of its own (the two knitting contenders
// a 1-thread pool each). One call at a time; each number is the median of the
// per-call times (ms).
// The timed region is: wrap or mark the source for moving, the call, and
// reading two bytes of the result (every contender checks them). Sources are
// allocated and filled between timed calls; knitting's result references are
// released after the timer stopped (the other contenders leave their results
// to the garbage collector). BENCH_SCALE=0.1 runs a tenth of the iterations.
import { Worker, threadId } from "node:worker_threads";
import { Piscina } from "piscina";
import { createPool } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { invertRefTask, invertBytesTask, touchRefTask, touchBytesTask, whereTask } from "./peers/references.mjs";
import { printEnvironment, printTable } from "./report.mjs";

const KiB = 1024;
const MiB = 1024 * KiB;
const label = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);
const scale = Number(process.env.BENCH_SCALE ?? 1);
/** [size, timed calls] per contender; a tenth as many untimed warm-up calls come first. */
const plan = [
  [8 * KiB, 400],
  [64 * KiB, 300],
  [256 * KiB, 200],
  [1 * MiB, 100],
  [4 * MiB, 50],
  [8 * MiB, 40],
].map(([size, calls]) => [size, Math.max(4, Math.round(calls * scale))]);

// ---- checks: two bytes of every result, inside the timed region ----

function checkNew(bytes, size, fill) {
  if (bytes.length !== size || bytes[0] !== 255 - fill || bytes[size - 1] !== 255 - fill) {
    throw new Error(`(a) wrong result at ${label(size)}`);
  }
}
function checkInPlace(bytes, size, fill) {
  if (bytes.length !== size || bytes[0] !== 255 - fill || bytes[size - 1] !== fill) {
    throw new Error(`(b) wrong result at ${label(size)}`);
  }
}

// ---- contenders: { new(src, fill), inPlace(src, fill), done?(result), destroy() } ----

/** Each knitting contender gets a pool (and worker) of its own, as piscina and worker_threads do. */
async function knitting(tasks) {
  const pool = createPool({ threads: 1 })({ ...tasks, whereTask });
  if ((await pool.call.whereTask()) === threadId) throw new Error("knitting ran on the host thread");
  return pool;
}

async function knittingRef() {
  const pool = await knitting({ invertRefTask, touchRefTask });
  return {
    new: async (src, fill) => {
      const size = src.length;
      const ref = await pool.call.invertRefTask(new BufferReference(src));
      checkNew(ref.toUint8Array(), size, fill);
      return ref;
    },
    inPlace: async (src, fill) => {
      const size = src.length;
      const ref = await pool.call.touchRefTask(new BufferReference(src));
      checkInPlace(ref.toUint8Array(), size, fill);
      return ref;
    },
    done: (ref) => ref.release(),
    destroy: () => pool.shutdown(),
  };
}

async function knittingBytes() {
  const pool = await knitting({ invertBytesTask, touchBytesTask });
  return {
    new: async (src, fill) => {
      const size = src.length;
      checkNew(await pool.call.invertBytesTask(src), size, fill);
    },
    inPlace: async (src, fill) => {
      const size = src.length;
      checkInPlace(await pool.call.touchBytesTask(src), size, fill);
    },
    destroy: () => pool.shutdown(),
  };
}

async function piscina() {
  const filename = new URL("./peers/references-piscina.mjs", import.meta.url).href;
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1 });
  if ((await pool.run(null, { name: "where" })) === threadId) throw new Error("piscina ran on the host thread");
  return {
    new: async (src, fill) => {
      const size = src.length;
      checkNew(await pool.run(Piscina.move(src), { name: "invert" }), size, fill);
    },
    inPlace: async (src, fill) => {
      const size = src.length;
      checkInPlace(await pool.run(Piscina.move(src), { name: "touch" }), size, fill);
    },
    destroy: () => pool.destroy(),
  };
}

/** One worker, one call at a time: [op, bytes] with bytes.buffer in the transfer list. */
async function workerThreads() {
  const worker = new Worker(new URL("./peers/references-worker.mjs", import.meta.url));
  let pending;
  worker.on("message", (value) => pending.resolve(value));
  worker.on("error", (error) => pending?.reject(error));
  const send = (op, bytes) => {
    pending = Promise.withResolvers();
    if (bytes === undefined) worker.postMessage([op]);
    else worker.postMessage([op, bytes], [bytes.buffer]);
    return pending.promise;
  };
  if ((await send("where")) === threadId) throw new Error("worker_threads ran on the host thread");
  return {
    new: async (src, fill) => {
      const size = src.length;
      checkNew(await send("invert", src), size, fill);
    },
    inPlace: async (src, fill) => {
      const size = src.length;
      checkInPlace(await send("touch", src), size, fill);
    },
    destroy: () => worker.terminate(),
  };
}

// ---- timing ----

/** Per-call times (ms) of `count` calls of `op[kind]`, after `warmup` untimed ones. */
async function measure(op, kind, size, count, warmup, samples) {
  for (let i = 0; i < warmup + count; i++) {
    const fill = (i * 37 + 11) & 255;
    const src = new Uint8Array(size).fill(fill);
    const start = performance.now();
    const result = await op[kind](src, fill);
    const ms = performance.now() - start;
    op.done?.(result);
    if (i >= warmup) samples.push(ms);
  }
}

const median = (samples) => {
  const sorted = samples.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

printEnvironment("BufferReference round trips: knitting vs plain Uint8Array, piscina and worker_threads (transfer lists)");
const contenders = [
  ["knitting ref", await knittingRef()], // BufferReference argument and result (moved)
  ["knitting u8", await knittingBytes()], // plain Uint8Array argument and result (copied)
  ["piscina move", await piscina()], // Piscina.move() both ways (transfer lists)
  ["worker_threads move", await workerThreads()], // postMessage with transfer lists both ways
];

// Warm every contender's code (host and worker) before the first timed size,
// so the 8 KiB rows measure transports rather than the JIT's first minutes.
for (const [, contender] of contenders) {
  for (const kind of ["new", "inPlace"]) await measure(contender, kind, 8 * KiB, 0, 300, []);
}

const results = {}; // kind → size → [median ms per contender]
for (const kind of ["new", "inPlace"]) {
  results[kind] = new Map();
  for (const [size, calls] of plan) {
    const samples = contenders.map(() => []);
    const warmup = Math.max(2, Math.round(calls / 10));
    // Two passes in opposite orders, half the calls each, so slow drift on a
    // shared machine does not favour whoever runs first.
    const order = contenders.map((_, i) => i);
    for (const pass of [order, order.toReversed()]) {
      for (const i of pass) await measure(contenders[i][1], kind, size, calls >> 1, warmup, samples[i]);
    }
    results[kind].set(size, samples.map(median));
  }
  console.log(`done: (${kind === "new" ? "a" : "b"})`);
}
await Promise.all(contenders.map(([, contender]) => contender.destroy()));

const names = contenders.map(([name]) => name);
const ms = (x) => x.toFixed(3);
const us = (x) => (x * 1000).toFixed(1);
for (const [kind, title] of [
  ["new", "(a) new: the task returns a new buffer of the same size (out[i] = 255 - in[i])"],
  ["inPlace", "(b) in place: the task flips byte 0 and returns its input"],
]) {
  console.log(`\n${title}; median ms per call, ratio = contender / knitting BufferReference`);
  const rows = plan.map(([size, calls]) => {
    const m = results[kind].get(size);
    return [label(size), (calls >> 1) * 2, ...m.map(ms), ...m.slice(1).map((x) => `${(x / m[0]).toFixed(2)}x`)];
  });
  printTable(["size", "calls", ...names.map((n) => `${n} ms`), ...names.slice(1).map((n) => `${n} / ref`)], rows);
}
console.log(
  "\nref: knitting, BufferReference argument and result; u8: knitting, plain Uint8Array argument and result (copied);\n" +
    "piscina move: Piscina.move() both ways; worker_threads move: postMessage with transfer lists both ways.",
);

// (a) crossover: the smallest size at which the reference beats the copy.
const aRows = plan.map(([size]) => [size, results.new.get(size)]);
const first = aRows.findIndex(([, m]) => m[0] < m[1]);
if (first === -1) {
  console.log("(a) crossover: knitting BufferReference never beats knitting Uint8Array up to 8 MiB");
} else {
  const stays = aRows.slice(first).every(([, m]) => m[0] < m[1]);
  console.log(
    `(a) crossover: knitting BufferReference beats knitting Uint8Array from ${label(aRows[first][0])} ` +
      `(${us(aRows[first][1][0])} vs ${us(aRows[first][1][1])} µs)` +
      (stays ? ", and at every larger size" : ", but not at every larger size (see the table)"),
  );
}
const b = (size) => results.inPlace.get(size)[0];
console.log(
  `(b) knitting BufferReference 8 MiB / 8 KiB: ${(b(8 * MiB) / b(8 * KiB)).toFixed(2)}x ` +
    `(${us(b(8 * MiB))} / ${us(b(8 * KiB))} µs; size-independent when close to 1)`,
);
