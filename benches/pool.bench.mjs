// knitting against piscina, tinypool and plain worker_threads + postMessage,
// side by side in one run. Run: npm run bench:pool
//   (A) 100,000 tiny calls in flight, 1 and 2 threads: calls/s (median of 5 rounds)
//   (B) one call at a time: µs per call (median)
//   (C) CPU used by an idle 2-thread pool over 3 s, and by one call every 5 ms
import { threadId } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { createPool } from "knitting";
import { addOneTask, whereTask } from "./peers/add-one.mjs";
import { createRawPool } from "./peers/raw-pool.mjs";
import { printEnvironment, printTable } from "./report.mjs";

const workerFile = new URL("./peers/add-one.mjs", import.meta.url).href;
const N = 100_000;

const peers = {
  knitting: async (threads) => {
    const pool = createPool({ threads })({ addOneTask, whereTask });
    const where = await pool.call.whereTask();
    if (where === threadId) throw new Error("knitting ran on the host thread");
    return { run: (x) => pool.call.addOneTask(x), destroy: () => pool.shutdown() };
  },
  piscina: async (threads) => {
    const pool = new Piscina({ filename: workerFile, minThreads: threads, maxThreads: threads });
    return { run: (x) => pool.run(x), destroy: () => pool.destroy() };
  },
  tinypool: async (threads) => {
    const pool = new Tinypool({ filename: workerFile, minThreads: threads, maxThreads: threads });
    return { run: (x) => pool.run(x), destroy: () => pool.destroy() };
  },
  "worker_threads": async (threads) => createRawPool(threads),
};

/** Median calls/s over 5 rounds of N calls in flight, after one warm-up round. */
async function throughput(pool) {
  const rates = [];
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: N }, (_, i) => pool.run(i)));
    const seconds = (performance.now() - start) / 1000;
    if (results[N - 1] !== N) throw new Error("wrong result");
    if (round > 0) rates.push(N / seconds);
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

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
