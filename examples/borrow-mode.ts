// Seed: the "borrow" return mode. Preamble: the invert task and the pixels.
import { createPool, isMain } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { invert } from "./invert-task.ts";
// --- the seed's snippet (its import is hoisted here; ES imports live at the top level) ---
import { BufferReferenceReturn } from "knitting/unsafe";

if (isMain) {
  const pixels = new Uint8Array([0, 64, 128, 192, 255]);
  // --- the rest of the seed's snippet ---
  using pool = createPool({
    threads: 1,
    unsafe: { BufferReferenceReturn: BufferReferenceReturn.Borrow },
  })({ invert });
  {
    using result = await pool.call.invert(new BufferReference(pixels));
    const out = result.toUint8Array(); // borrowed — valid only while result lives
    console.log([...out]);
  } // result is released here; do not read out after this point
}
