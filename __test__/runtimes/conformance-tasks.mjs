// Tasks of the runtime conformance run (conformance.mjs). Imported by the
// host and again by the pool's workers, on every runtime.
import { threadId } from "node:worker_threads";
import process from "node:process";
import { Envelope, isMain, task } from "knitting";
import { BufferReference, addressOf } from "knitting/unsafe";

export const add = task({ f: ([a, b]) => a + b });
export const echo = task({ f: (value) => value });
export const where = task({ f: () => ({ threadId, isMain, pid: process.pid }) });
export const throwCoded = task({
  f: (message) => {
    throw Object.assign(new TypeError(message, { cause: new Error("inner") }), { code: "E_CONFORMANCE" });
  },
});
export const exitWorker = task({ f: (code) => process.exit(code) });
export const sleep = task({ f: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) });

/** Writes 1 into every Int32 of a SharedArrayBuffer (shared, so the host sees it). */
export const fillShared = task({
  f: (sab) => {
    new Int32Array(sab).fill(1);
    return sab.byteLength;
  },
});

/** Where the worker sees a reference's bytes, and their sum. */
export const inspect = task({
  f: (ref) => {
    const view = ref.toUint8Array();
    let sum = 0;
    for (const b of view) sum += b;
    return { address: addressOf(view), sum };
  },
});

/** A new buffer of n bytes (i * 7) & 255, moved back in an Envelope whose header says where the worker wrote it. */
export const produce = task({
  f: (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (i * 7) & 255;
    return new Envelope({ address: String(addressOf(out)) }, new BufferReference(out));
  },
});

/** Like produce, as a bare reference. */
export const produceBare = task({
  f: (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (i * 7) & 255;
    return new BufferReference(out);
  },
});

/** Adds one to every byte, in place, and returns the reference it received. */
export const plusOneInPlace = task({
  f: (ref) => {
    const view = ref.toUint8Array();
    for (let i = 0; i < view.length; i++) view[i] = (view[i] + 1) & 255;
    return ref;
  },
});

/** Adds `by` to Int32 slot 0 of a ProcessSharedBuffer with Atomics. */
export const bumpShared = task({ f: ({ psb, by }) => Atomics.add(psb.view(Int32Array), 0, by) + by });
