// The tasks benches/process.bench.mjs runs in process workers: knitting's as
// task exports, tinypool's child_process runtime as this module's default.
import { task } from "knitting";

export default function addOne(x) {
  return x + 1;
}

/** Reads a payload's first and last byte (a Uint8Array, or a ProcessSharedBuffer's bytes). */
export function touch(bytes) {
  return bytes[0] + bytes[bytes.length - 1];
}

export const addOneTask = task({ f: addOne });
export const touchBytesTask = task({ f: touch });
export const touchSharedTask = task({ f: (psb) => touch(psb.bytes()) });
