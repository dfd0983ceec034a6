// knitting against piscina, tinypool and plain worker_threads + postMessage,
// side by side in one run. Run: npm run bench:pool
//   (A) 100,000 tiny calls in flight, 1 and 2 threads: calls/s (median of 5 rounds)
//   (B) one call at a time: µs per call (median)
//   (C) CPU used by an idle 2-thread pool over 3 s, and by one call every 5 ms
//   (D) payload mix, one call at a time, 1 thread: µs per echo round trip (median)
//   (E) latency after idle: a call after 1, 2, 5 or 10 ms of quiet, 1 and 2 threads (median µs)
//   (F) one worker busy: 2 threads, one busy with an 800 ms synchronous task;
//       100 calls one at a time meanwhile (median and slowest µs, calls done while busy)
//   (G) burst after idle: 2 threads, 20 ms of quiet, then 1,000 calls at once (median ms to settle all)
import { threadId } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { createPool } from "knitting";
import { addOneTask, busyTask, computeTask, echoTask, whereTask } from "./peers/add-one.mjs";
import { createRawPool } from "./peers/raw-pool.mjs";
import { printEnvironment, printTable } from "./report.mjs";
import { throughput } from "./measure.mjs";

const workerFile = new URL("./peers/add-one.mjs", import.meta.url).href;

// Each contender: run(x) → x + 1 on a worker; busy(ms) keeps a worker busy for ms.
const peers = {
  knitting: async (threads) => {
    const pool = createPool({ threads })({ addOneTask, busyTask, whereTask });
    const where = await pool.call.whereTask();
    if (where === threadId) throw new Error("knitting ran on the host thread");
    return { run: (x) => pool.call.addOneTask(x), busy: (ms) => pool.call.busyTask(ms), destroy: () => pool.shutdown() };
  },
  piscina: async (threads) => {
    const pool = new Piscina({ filename: workerFile, minThreads: threads, maxThreads: threads });
    return { run: (x) => pool.run(x), busy: (ms) => pool.run(ms, { name: "busy" }), destroy: () => pool.destroy() };
  },
  tinypool: async (threads) => {
    const pool = new Tinypool({ filename: workerFile, minThreads: threads, maxThreads: threads });
    return { run: (x) => pool.run(x), busy: (ms) => pool.run(ms, { name: "busy" }), destroy: () => pool.destroy() };
  },
  "worker_threads": async (threads) => {
    const pool = createRawPool(threads);
    return { ...pool, busy: (ms) => pool.run(ms, "busy") };
  },
};

async function sequential(pool) {
  for (let i = 0; i < 200; i++) await pool.run(i);
  const samples = [];
  for (let i = 0; i < 2000; i++) {
    const start = performance.now();
    await pool.run(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1] * 1000;
}

async function cpuPercent(pool, trickle) {
  await pool.run(1);
  await sleep(200);
  const start = process.cpuUsage();
  const began = performance.now();
  if (trickle) {
    while (performance.now() - began < 3000) {
      await pool.run(1);
      await sleep(5);
    }
  } else await sleep(3000);
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / (performance.now() - began)) * 100;
}

printEnvironment("Pools side by side: throughput, latency, CPU");
const rows = [];
for (const [name, make] of Object.entries(peers)) {
  const row = [name];
  for (const threads of [1, 2]) {
    const pool = await make(threads);
    row.push(Math.round(await throughput(pool)).toLocaleString("en"));
    if (threads === 1) row.push((await sequential(pool)).toFixed(1));
    if (threads === 2) {
      row.push((await cpuPercent(pool, false)).toFixed(2));
      row.push((await cpuPercent(pool, true)).toFixed(2));
    }
    await pool.destroy();
  }
  rows.push(row);
  console.log(`done: ${name}`);
}
// Reorder: name, A(1), A(2), B, C idle, C trickle
const table = rows.map(([name, a1, b, a2, idle, trickle]) => [name, a1, a2, b, idle, trickle]);
printTable(["pool", "(A) calls/s, 1 thread", "(A) calls/s, 2 threads", "(B) µs/call", "(C) idle CPU %", "(C) trickle CPU %"], table);
const base = table[0];
const ratio = (col) => table.slice(1).map((r) => `${r[0]} ${(parseFloat(String(base[col]).replace(/,/g, "")) / parseFloat(String(r[col]).replace(/,/g, ""))).toFixed(2)}x`).join(", ");
console.log(`\nknitting / peer, (A) 1 thread: ${ratio(1)}`);
console.log(`knitting / peer, (A) 2 threads: ${ratio(2)}`);
console.log(`peer / knitting, (B) latency: ${table.slice(1).map((r) => `${r[0]} ${(r[3] / base[3]).toFixed(2)}x`).join(", ")}`);

// ---- (D) payload mix: each pool (1 thread) echoes the value back, one call at a time ----

const echoFile = new URL("./peers/echo.mjs", import.meta.url).href;
const echoPeers = {
  knitting: async () => {
    const pool = createPool({ threads: 1 })({ echoTask, whereTask });
    if ((await pool.call.whereTask()) === threadId) throw new Error("knitting ran on the host thread");
    return { run: (x) => pool.call.echoTask(x), destroy: () => pool.shutdown() };
  },
  piscina: async () => {
    const pool = new Piscina({ filename: echoFile, minThreads: 1, maxThreads: 1 });
    return { run: (x) => pool.run(x), destroy: () => pool.destroy() };
  },
  tinypool: async () => {
    const pool = new Tinypool({ filename: echoFile, minThreads: 1, maxThreads: 1 });
    return { run: (x) => pool.run(x), destroy: () => pool.destroy() };
  },
  "worker_threads": async () => createRawPool(1, new URL("./peers/raw-echo-worker.mjs", import.meta.url)),
};

/** A plain object whose JSON is about 1 KiB. */
function jsonLikeObject() {
  return {
    id: 48151623,
    name: "order-2024-000417",
    active: true,
    score: 98.25,
    customer: { id: 7781, name: "Ada Lovelace", email: "ada@example.com", tier: "gold" },
    shipping: { street: "12 Analytical Engine Row", city: "London", zip: "NW1 6XE", country: "GB" },
    tags: ["express", "gift", "fragile", "priority"],
    items: Array.from({ length: 11 }, (_, i) => ({ sku: `SKU-${1000 + i}`, title: `Widget model ${i}`, qty: i + 1, price: 9.5 + i })),
    note: null,
  };
}

const jsonLike = jsonLikeObject();
const kib = new Uint8Array(1024).fill(7);
const mib = new Uint8Array(1024 * 1024).fill(9);
/** [label, value, check(result), timed calls, warm-up calls] */
const payloads = [
  ["number", 12345.678, (r) => r === 12345.678, 2000, 200],
  ['string "hello world"', "hello world", (r) => r === "hello world", 2000, 200],
  [`object (${JSON.stringify(jsonLike).length} B of JSON)`, jsonLike, (r) => r.items.length === 11 && r.items[10].sku === "SKU-1010" && r.customer.tier === "gold", 2000, 200],
  ["Uint8Array 1 KiB", kib, (r) => r.length === 1024 && r[0] === 7 && r[1023] === 7, 2000, 200],
  ["Uint8Array 1 MiB", mib, (r) => r.length === mib.length && r[0] === 9 && r[mib.length - 1] === 9, 300, 30],
];

async function echoSamples(pool, value, check, calls, warmup, samples) {
  for (let i = 0; i < warmup + calls; i++) {
    const start = performance.now();
    const result = await pool.run(value);
    const us = (performance.now() - start) * 1000;
    if (!check(result)) throw new Error("wrong echo");
    if (i >= warmup) samples.push(us);
  }
}

const echoPools = [];
for (const [name, make] of Object.entries(echoPeers)) echoPools.push([name, await make()]);
const mixRows = [];
for (const [label, value, check, calls, warmup] of payloads) {
  const samples = echoPools.map(() => []);
  // Two passes in opposite orders, half the calls each, against drift on a shared machine.
  const order = echoPools.map((_, i) => i);
  for (const pass of [order, order.toReversed()]) {
    for (const i of pass) await echoSamples(echoPools[i][1], value, check, calls >> 1, warmup, samples[i]);
  }
  const medians = samples.map((list) => list.sort((a, b) => a - b)[list.length >> 1]);
  mixRows.push([label, ...medians.map((us) => us.toFixed(1)), ...medians.slice(1).map((us) => `${(us / medians[0]).toFixed(2)}x`)]);
}
await Promise.all(echoPools.map(([, pool]) => pool.destroy()));
console.log("done: (D)");
const echoNames = echoPools.map(([name]) => name);
console.log("\n(D) payload mix: one echo call at a time, 1 thread; median µs per round trip, ratio = peer / knitting");
printTable(["payload", ...echoNames.map((n) => `${n} µs`), ...echoNames.slice(1).map((n) => `${n} / knitting`)], mixRows);

// ---- (E) latency after idle, (F) one worker busy, (G) burst after idle ----

const median = (list) => list.toSorted((a, b) => a - b)[list.length >> 1];

/** Median µs of one call made after `gap` ms of quiet (150 calls per gap). */
async function afterIdle(pool, gap) {
  const samples = [];
  for (let i = 0; i < 150; i++) {
    await sleep(gap);
    const start = performance.now();
    await pool.run(i);
    samples.push((performance.now() - start) * 1000);
  }
  return median(samples);
}

/**
 * One worker busy for 800 ms; meanwhile (after 100 ms, so that everything
 * idle has gone to sleep) 100 calls one at a time, 1 ms apart.
 */
async function oneBusy(pool) {
  const busyDone = pool.busy(800).then(() => performance.now());
  await sleep(100);
  const samples = [];
  const finished = [];
  for (let i = 0; i < 100; i++) {
    const start = performance.now();
    await pool.run(i);
    const end = performance.now();
    samples.push((end - start) * 1000);
    finished.push(end);
    await sleep(1);
  }
  const busyEnd = await busyDone;
  const during = finished.filter((t) => t < busyEnd).length;
  return [median(samples), Math.max(...samples), during];
}

/** Median ms for 1,000 calls made at once after 20 ms of quiet (15 bursts). */
async function burstAfterIdle(pool) {
  const times = [];
  for (let i = 0; i < 15; i++) {
    await sleep(20);
    const start = performance.now();
    await Promise.all(Array.from({ length: 1000 }, (_, k) => pool.run(k)));
    times.push(performance.now() - start);
  }
  return median(times);
}

const gaps = [1, 2, 5, 10];
const idleRows = [];
const busyRows = [];
const burstRows = [];
for (const [name, make] of Object.entries(peers)) {
  for (const threads of [1, 2]) {
    const pool = await make(threads);
    for (let i = 0; i < 300; i++) await pool.run(i); // warm
    const row = [`${name}, ${threads} thread${threads > 1 ? "s" : ""}`];
    for (const gap of gaps) row.push((await afterIdle(pool, gap)).toFixed(1));
    idleRows.push(row);
    if (threads === 2) {
      const [mid, slowest, during] = await oneBusy(pool);
      busyRows.push([name, mid.toFixed(1), slowest.toFixed(0), `${during} of 100`]);
      burstRows.push([name, (await burstAfterIdle(pool)).toFixed(2)]);
    }
    await pool.destroy();
  }
  console.log(`done: ${name} (E, F, G)`);
}
console.log("\n(E) latency after idle: one call after a quiet gap; median µs per round trip (150 calls per gap)");
printTable(["pool", ...gaps.map((g) => `after ${g} ms`)], idleRows);
const idleRatio = (threads) =>
  idleRows.filter((r) => r[0].endsWith(threads === 1 ? "1 thread" : "2 threads")).slice(1)
    .map((r) => `${r[0].split(",")[0]} ${gaps.map((_, i) => (r[i + 1] / idleRows[threads - 1][i + 1]).toFixed(2)).join("/")}x`);
console.log(`peer / knitting (1, 2, 5, 10 ms), 1 thread: ${idleRatio(1).join(", ")}`);
console.log(`peer / knitting (1, 2, 5, 10 ms), 2 threads: ${idleRatio(2).join(", ")}`);
console.log("\n(F) one worker busy (2 threads, one worker in an 800 ms synchronous task): 100 calls one at a time meanwhile");
printTable(["pool", "median µs", "slowest µs", "done while the busy task ran"], busyRows);
console.log("\n(G) burst after idle (2 threads): 20 ms of quiet, then 1,000 calls at once; median ms until all settled");
printTable(["pool", "ms per burst"], burstRows);

// ---- (H) the cost of pool.stats(): knitting with stats on (the default) and off, interleaved ----

/** Median calls/s of `count` calls of computeTask(us) in flight. */
async function computeThroughput(run, count, us) {
  const rates = [];
  for (let round = 0; round < 4; round++) {
    const start = performance.now();
    await Promise.all(Array.from({ length: count }, () => run(us)));
    if (round > 0) rates.push(count / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

const statsSamples = { true: [], false: [] };
for (let round = 0; round < 5; round++) {
  for (const stats of [true, false]) {
    const sample = [];
    for (const threads of [1, 2]) {
      const pool = createPool({ threads, stats })({ addOneTask, computeTask });
      const run = (x) => pool.call.addOneTask(x);
      sample.push(await throughput({ run }));
      if (threads === 1) sample.push(await sequential({ run }));
      if (threads === 2) sample.push(await computeThroughput((us) => pool.call.computeTask(us), 20_000, 10));
      await pool.shutdown();
    }
    statsSamples[stats].push(sample);
  }
}
const statsColumns = ["(A) calls/s, 1 thread", "(B) µs/call", "(A) calls/s, 2 threads", "10 µs tasks/s, 2 threads"];
const statsMedian = (stats, col) => {
  const values = statsSamples[stats].map((s) => s[col]).sort((a, b) => a - b);
  return values[values.length >> 1];
};
const statsRows = statsColumns.map((name, col) => {
  const on = statsMedian(true, col);
  const off = statsMedian(false, col);
  const fmt = (v) => (col === 1 ? v.toFixed(2) : Math.round(v).toLocaleString("en"));
  return [name, fmt(on), fmt(off), `${(on / off).toFixed(3)}x`];
});
console.log("\n(H) stats on (default) vs stats: false, knitting; medians of 5 interleaved rounds");
printTable(["measure", "stats on", "stats off", "on / off"], statsRows);
