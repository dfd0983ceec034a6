// Seed: "Use using to release automatically". Preamble: the pool and pixels
// of the previous example.
import { createPool, isMain } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { invert } from "./invert-task.ts";

if (isMain) {
  const pixels = new Uint8Array([0, 64, 128, 192, 255]);
  using pool = createPool({ threads: 1 })({ invert });
  // --- the seed's snippet ---
  {
    using result = await pool.call.invert(new BufferReference(pixels));
    const out = result.toUint8Array();
    console.log([...out]);
  } // result is released here
}
