// knitting on each runtime the tests cover (Node 22, 24, 26, Deno, Bun: the
// versions pinned in __test__/runtimes/pinned), in one run. Run: npm run bench:runtimes
//   (A) 100,000 tiny calls in flight, 1 and 2 threads: calls/s (median of 5 rounds; as in pool.bench.mjs)
//   (a) 1 MiB round trip, one call at a time, 1 thread: the task reads its
//       input and returns a new buffer (as in references.bench.mjs), as a
//       BufferReference and as a plain (copied) Uint8Array: median ms of 100 calls
// Run by Node, this file runs itself under each runtime with --measure; each
// child prints one JSON line, and the parent prints the table.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { createPool } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { addOneTask } from "./peers/add-one.mjs";
import { invertBytesTask, invertRefTask, whereTask } from "./peers/references.mjs";
import { median, throughput } from "./measure.mjs";
import { printTable } from "./report.mjs";

const MiB = 1 << 20;
const ROUND_TRIPS = 100;

async function measure() {
  const result = {};
  for (const threads of [1, 2]) {
    const pool = createPool({ threads })({ addOneTask, whereTask });
    if ((await pool.call.whereTask()) === threadId) throw new Error("knitting ran on the host thread");
    result[`A${threads}`] = await throughput({ run: (x) => pool.call.addOneTask(x) });
    await pool.shutdown();
  }
  const pool = createPool({ threads: 1 })({ invertRefTask, invertBytesTask });
  const roundTrip = async (kind) => {
    const times = [];
    for (let i = 0; i < ROUND_TRIPS + 10; i++) {
      const fill = i & 127;
      const src = new Uint8Array(MiB).fill(fill);
      const start = performance.now();
      const ref = kind === "ref" ? await pool.call.invertRefTask(new BufferReference(src)) : undefined;
      const bytes = ref ? ref.toUint8Array() : await pool.call.invertBytesTask(src);
      if (bytes.length !== MiB || bytes[0] !== 255 - fill || bytes[MiB - 1] !== 255 - fill) throw new Error("wrong result");
      if (i >= 10) times.push(performance.now() - start);
      ref?.release();
    }
    return median(times);
  };
  result.ref = await roundTrip("ref");
  result.bytes = await roundTrip("bytes");
  await pool.shutdown();
  console.log(JSON.stringify(result));
}

/** @param {typeof import("../__test__/runtimes/install.mjs")} install */
function compare({ runtimes, DENO_FLAGS }) {
  const bin = runtimes();
  const self = fileURLToPath(import.meta.url);
  const contenders = [
    ["node 22", bin.node22, [self, "--measure"]],
    ["node 24", process.execPath, [self, "--measure"]],
    ["node 26", bin.node26, [self, "--measure"]],
    ["deno", bin.deno, ["run", ...DENO_FLAGS, self, "--measure"]],
    ["bun", bin.bun, [self, "--measure"]],
  ];
  const rows = [];
  for (const [name, command, args] of contenders) {
    const version = spawnSync(command, ["--version"], { encoding: "utf8" }).stdout.trim().split(/\s|\n/).find((w) => /\d+\.\d+/.test(w));
    const run = spawnSync(command, args, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 10 * 60_000 });
    const line = run.stdout.trim().split("\n").at(-1);
    if (run.status !== 0 || !line?.startsWith("{")) throw new Error(`${name} failed:\n${run.stdout}\n${run.stderr}`);
    const r = JSON.parse(line);
    rows.push([`${name.split(" ")[0]} ${version.replace(/^v/, "")}`, Math.round(r.A1).toLocaleString("en"), Math.round(r.A2).toLocaleString("en"), r.ref.toFixed(2), r.bytes.toFixed(2)]);
  }
  console.log(`# knitting on each runtime (${new Date().toISOString().slice(0, 10)})`);
  printTable(["runtime", "(A) calls/s, 1 thread", "(A) calls/s, 2 threads", "(a) 1 MiB BufferReference ms", "(a) 1 MiB Uint8Array ms"], rows);
}

if (process.argv.includes("--measure")) await measure();
else compare(await import("../__test__/runtimes/install.mjs"));
