// knitting against piscina, tinypool and plain worker_threads + postMessage,
// side by side in one run. Run: npm run bench:pool
//   (A) 100,000 tiny calls in flight, 1 and 2 threads: calls/s (median of 5 rounds)
//   (B) one call at a time: µs per call (median)
//   (C) CPU used by an idle 2-thread pool over 3 s, and by one call every 5 ms
//   (D) payload mix, one call at a time, 1 thread: µs per echo round trip (median)
import { threadId } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { createPool } from "knitting";
import { addOneTask, echoTask, whereTask } from "./peers/add-one.mjs";
import { createRawPool } from "./peers/raw-pool.mjs";
import { printEnvironment, printTable } from "./report.mjs";
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
  ["number", 12345.678, (r) => r === 12345.678, 600, 100],
  ['string "hello world"', "hello world", (r) => r === "hello world", 600, 100],
  [`object (${JSON.stringify(jsonLike).length} B of JSON)`, jsonLike, (r) => r.items.length === 11 && r.items[10].sku === "SKU-1010" && r.customer.tier === "gold", 600, 100],
  ["Uint8Array 1 KiB", kib, (r) => r.length === 1024 && r[0] === 7 && r[1023] === 7, 600, 100],
  ["Uint8Array 1 MiB", mib, (r) => r.length === mib.length && r[0] === 9 && r[mib.length - 1] === 9, 60, 10],
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
