// Measurements more than one bench makes, so that they mean the same everywhere.

/** Calls in flight per round of throughput(). */
export const IN_FLIGHT = 100_000;

/**
 * (A): median calls/s over 5 rounds of IN_FLIGHT calls in flight, after one
 * warm-up round. `pool.run(x)` must resolve with x + 1.
 */
export async function throughput(pool) {
  const rates = [];
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => pool.run(i)));
    const seconds = (performance.now() - start) / 1000;
    if (results[IN_FLIGHT - 1] !== IN_FLIGHT) throw new Error("wrong result");
    if (round > 0) rates.push(IN_FLIGHT / seconds);
  }
  return median(rates);
}

/** The median of some numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}
