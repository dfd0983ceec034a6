// Seed: the default "copy" return mode, spelled out. Preamble: the invert task.
import { createPool, isMain } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { invert } from "./invert-task.ts";

if (isMain) {
  // --- the seed's snippet ---
  using pool = createPool({
    threads: 1,
    unsafe: { BufferReferenceReturn: "copy" },
  })({ invert });
  // --- a call to show it works ---
  const result = await pool.call.invert(new BufferReference(new Uint8Array([1, 2])));
  console.log([...result.toUint8Array()]);
}
