// The copy engine: one memcpy against rayon's parallel copy, by size, to set
// the threshold from which copies run in parallel. Run: npm run bench:copy
import { Bench } from "tinybench";
import { copyInto, setCopyParallelThreshold, copyParallelThreshold } from "../lib/native.js";
import { printEnvironment, printTable } from "./report.mjs";

const KiB = 1024;
const MiB = 1024 * KiB;
const sizes = [256 * KiB, MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB];
const label = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);
const initial = copyParallelThreshold();

const bench = new Bench({ time: 500, warmupTime: 100 });
for (const size of sizes) {
  const source = new Uint8Array(size).fill(1);
  const target = new ArrayBuffer(size);
  new Uint8Array(target).fill(2); // touch the pages once, outside the timed region
  bench.add(`memcpy ${label(size)}`, () => copyInto(source, target), {
    beforeAll: () => setCopyParallelThreshold(Number.MAX_SAFE_INTEGER),
  });
  bench.add(`rayon ${label(size)}`, () => copyInto(source, target), {
    beforeAll: () => setCopyParallelThreshold(0),
  });
}

printEnvironment("Copy engine: one memcpy vs rayon's parallel copy");
await bench.run();
setCopyParallelThreshold(initial);
const median = (name) => bench.getTask(name).result.latency.p50 * 1000;
const rows = sizes.map((size) => {
  const one = median(`memcpy ${label(size)}`);
  const par = median(`rayon ${label(size)}`);
  return [label(size), one.toFixed(1), par.toFixed(1), `${(one / par).toFixed(2)}x`];
});
printTable(["size", "memcpy µs", "rayon µs", "memcpy / rayon"], rows);
console.log(`\ncurrent threshold: ${label(initial)} (copies at or above it run on rayon)`);
