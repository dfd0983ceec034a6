// BufferReference construct + toUint8Array() + release() against a plain copy
// (new Uint8Array(source)), at several sizes. Sources are allocated outside
// the timed region (tinybench's beforeEach). Run: npm run bench
import { Bench } from "tinybench";
import { BufferReference } from "knitting/unsafe";
import { printEnvironment, printTable } from "./report.mjs";

const KiB = 1024;
const MiB = 1024 * KiB;
const sizes = [8 * KiB, 256 * KiB, MiB, 8 * MiB];
const label = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);

const bench = new Bench({ time: 800, warmupTime: 200 });
for (const size of sizes) {
  let source;
  const fresh = () => {
    source = new Uint8Array(size);
    source[0] = 1;
    source[size - 1] = 2;
  };
  bench.add(
    `reference ${label(size)}`,
    () => {
      const ref = new BufferReference(source);
      if (ref.toUint8Array()[size - 1] !== 2) throw new Error("wrong bytes");
      ref.release();
    },
    { beforeEach: fresh },
  );
  let moved;
  bench.add(
    `move ${label(size)}`,
    () => {
      moved = new BufferReference(source);
      if (moved.toUint8Array()[size - 1] !== 2) throw new Error("wrong bytes");
    },
    { beforeEach: fresh, afterEach: () => moved.release() },
  );
  bench.add(
    `copy ${label(size)}`,
    () => {
      const copy = new Uint8Array(source);
      if (copy[size - 1] !== 2) throw new Error("wrong bytes");
    },
    { beforeEach: fresh },
  );
}

printEnvironment("BufferReference construct + toUint8Array() + release() vs new Uint8Array(source)");
await bench.run();
const median = (name) => bench.getTask(name).result.latency.p50 * 1000; // µs
const rows = sizes.map((size) => {
  const ref = median(`reference ${label(size)}`);
  const move = median(`move ${label(size)}`);
  const copy = median(`copy ${label(size)}`);
  return [label(size), ref.toFixed(2), move.toFixed(2), copy.toFixed(2), `${(copy / ref).toFixed(1)}x`];
});
printTable(
  ["size", "construct+read+release µs", "construct+read µs", "copy µs", "copy / reference"],
  rows,
);
const ratio = (kind) => median(`${kind} ${label(sizes.at(-1))}`) / median(`${kind} ${label(sizes[0])}`);
console.log(
  `\n8 MiB / 8 KiB: construct+read+release ${ratio("reference").toFixed(2)}x, ` +
    `construct+read ${ratio("move").toFixed(2)}x (size-independent when close to 1)`,
);
