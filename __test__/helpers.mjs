// Shared helpers for the test files.
import { setImmediate as nextTurn } from "node:timers/promises";
import { referenceStats } from "knitting/unsafe";

/** Bytes 0..n-1 (mod 256), in a fresh ArrayBuffer of their own. */
export function pattern(n, seed = 0) {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i + seed) & 255;
  return bytes;
}

/** True when every byte of `view` matches `pattern(view.length, seed)`. */
export function hasPattern(view, seed = 0) {
  for (let i = 0; i < view.length; i++) if (view[i] !== ((i + seed) & 255)) return false;
  return true;
}

/**
 * Runs the garbage collector and lets finalizers run (Node defers them to a
 * later turn of the event loop) until `done()` holds or `rounds` run out.
 * After the first rounds it also pauses between them: on a loaded machine
 * (and on Node 26) the engine's concurrent collector may need wall time, not
 * only turns, before the finalizers it owes can run.
 */
export async function collectUntil(done, rounds = 60) {
  for (let i = 0; i < rounds && !done(); i++) {
    globalThis.gc();
    await nextTurn();
    if (i >= 20) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return done();
}

export const liveRegions = () => referenceStats().liveRegions;

/** Calls `call()` every 20 ms until one rejects; returns that error (for lanes that fail after a few starts). */
export async function firstRejection(call) {
  for (;;) {
    let error;
    await call().catch((e) => (error = e));
    if (error !== undefined) return error;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
