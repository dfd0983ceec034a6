// Process workers side by side, one worker each, in one run. Run: npm run bench:process
//   (A) tiny calls in flight (x => x + 1): calls/s, median of 5 rounds of 20,000
//   (B) tiny calls one at a time: median round trip (µs) of 2,000
//   (C) a 1 MiB and an 8 MiB payload, one call at a time (the task reads its
//       first and last byte): median ms of 20 calls (writing the bytes is not timed). knitting sends a ProcessSharedBuffer
//       (both processes map it: nothing is copied) and, for comparison, the
//       plain bytes; the peers send the bytes (copied through their IPC).
// Peers: child_process.fork with advanced serialization (plain IPC),
// tinypool's runtime "child_process", workerpool's workerType "process"
// (both with advanced serialization, else they could not carry bytes at all).
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import Tinypool from "tinypool";
import workerpool from "workerpool";
import { createPool } from "knitting";
import { ProcessSharedBuffer } from "knitting/shared-memory";
import { addOneTask, touchBytesTask, touchSharedTask } from "./peers/process-tasks.mjs";
import { median } from "./measure.mjs";
import { printEnvironment, printTable } from "./report.mjs";

const IN_FLIGHT = 20_000;
const SEQUENTIAL = 2_000;
const PAYLOADS = 20;
const MiB = 1 << 20;
const peersFile = fileURLToPath(new URL("./peers/process-peers.cjs", import.meta.url));
const tasksFile = fileURLToPath(new URL("./peers/process-tasks.mjs", import.meta.url));

async function inFlight(run) {
  const rates = [];
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => run(i)));
    if (results[IN_FLIGHT - 1] !== IN_FLIGHT) throw new Error("wrong result");
    if (round > 0) rates.push(IN_FLIGHT / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

async function oneAtATime(run) {
  const times = [];
  for (let i = 0; i < SEQUENTIAL + 100; i++) {
    const start = performance.now();
    if ((await run(i)) !== i + 1) throw new Error("wrong result");
    if (i >= 100) times.push(performance.now() - start);
  }
  return median(times) * 1000;
}

/**
 * Median ms of a call carrying `size` bytes with fresh contents each time:
 * prepare(size, fill) writes them (not timed), send(prepared) makes the call.
 */
async function payload(size, prepare, send) {
  const times = [];
  for (let i = 0; i < PAYLOADS + 3; i++) {
    const fill = (i * 7) & 127;
    const prepared = prepare(size, fill);
    const start = performance.now();
    if ((await send(prepared)) !== 2 * fill) throw new Error("wrong result");
    if (i >= 3) times.push(performance.now() - start);
  }
  return median(times);
}

/** A forked child answering [id, name, arg] messages. */
function forkPeer() {
  const child = fork(peersFile, { serialization: "advanced", env: { ...process.env, KNITTING_BENCH_FORK: "1" } });
  const pending = new Map();
  let next = 0;
  child.on("message", ([id, value]) => {
    pending.get(id)(value);
    pending.delete(id);
  });
  const call = (name, arg) => new Promise((resolve) => {
    const id = next++;
    pending.set(id, resolve);
    child.send([id, name, arg]);
  });
  return { run: (x) => call("addOne", x), touch: (bytes) => call("touch", bytes), close: () => child.kill() };
}

const filled = (size, fill) => new Uint8Array(size).fill(fill);

async function main() {
  printEnvironment("process workers: knitting vs fork IPC, tinypool child_process, workerpool process (1 worker each)");
  const rows = [];

  const knitting = createPool({ threads: 1, worker: { runtime: "process" } })({ addOneTask, touchBytesTask, touchSharedTask });
  const shared = { [MiB]: ProcessSharedBuffer.create(MiB), [8 * MiB]: ProcessSharedBuffer.create(8 * MiB) };
  const fillShared = (size, fill) => {
    shared[size].bytes().fill(fill);
    return shared[size];
  };
  const viaShared = (psb) => knitting.call.touchSharedTask(psb);
  const viaBytes = (bytes) => knitting.call.touchBytesTask(bytes);
  rows.push(["knitting (ProcessSharedBuffer)", await inFlight((x) => knitting.call.addOneTask(x)), await oneAtATime((x) => knitting.call.addOneTask(x)),
    await payload(MiB, fillShared, viaShared), await payload(8 * MiB, fillShared, viaShared)]);
  rows.push(["knitting (bytes copied)", "", "", await payload(MiB, filled, viaBytes), await payload(8 * MiB, filled, viaBytes)]);
  await knitting.shutdown();

  const forked = forkPeer();
  rows.push(["child_process.fork IPC", await inFlight(forked.run), await oneAtATime(forked.run), await payload(MiB, filled, forked.touch), await payload(8 * MiB, filled, forked.touch)]);
  forked.close();

  const tinypool = new Tinypool({ filename: tasksFile, runtime: "child_process", serialization: "advanced", minThreads: 1, maxThreads: 1 });
  const tinyBytes = (bytes) => tinypool.run(bytes, { name: "touch" });
  rows.push(["tinypool child_process", await inFlight((x) => tinypool.run(x)), await oneAtATime((x) => tinypool.run(x)), await payload(MiB, filled, tinyBytes), await payload(8 * MiB, filled, tinyBytes)]);
  await tinypool.destroy();

  const wp = workerpool.pool(peersFile, { workerType: "process", maxWorkers: 1, forkOpts: { serialization: "advanced" } });
  const wpBytes = (bytes) => wp.exec("touch", [bytes]);
  rows.push(["workerpool process", await inFlight((x) => wp.exec("addOne", [x])), await oneAtATime((x) => wp.exec("addOne", [x])), await payload(MiB, filled, wpBytes), await payload(8 * MiB, filled, wpBytes)]);
  await wp.terminate();

  const base = rows.find((r) => r[0] === "child_process.fork IPC");
  const fmt = (v, digits = 0) => (v === "" ? "" : v.toFixed(digits));
  printTable(
    ["pool", "(A) tiny calls/s", "vs fork", "(B) round trip µs", "(C) 1 MiB ms", "(C) 8 MiB ms"],
    rows.map(([name, a, b, c1, c8]) => [name, fmt(a), a === "" ? "" : `${(a / base[1]).toFixed(1)}x`, fmt(b, 1), fmt(c1, 3), fmt(c8, 3)]),
  );
}

await main();
