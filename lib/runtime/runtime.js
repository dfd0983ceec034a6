// Which JavaScript runtime hosts the library, and what follows from it.
import process from "node:process";

/** "deno", "bun" or "node" (told to worker.bootstrap functions, and used for the differences below). */
export const runtime = typeof globalThis.Deno !== "undefined" ? "deno" : typeof process.versions.bun === "string" ? "bun" : "node";

/**
 * Whether a node:perf_hooks histogram sent to a worker thread records into the
 * same histogram (call timing for pool.stats() relies on it). Node: yes.
 * Deno 2.9 clones it on the sending side but the worker cannot deserialize it;
 * Bun 1.4 refuses to clone it (DataCloneError).
 */
export const sharesHistograms = runtime === "node";
