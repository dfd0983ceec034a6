// Seed: "Use using to release automatically". Preamble: the pool and pixels
// of the previous example.
import { createPool, isMain, task } from "knitting";
import { BufferReference } from "knitting/unsafe";
export const invert = task<BufferReference, BufferReference>({
  f: (ref) => {
    const pixels = ref.toUint8Array();
    const out = new Uint8Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) out[i] = 255 - pixels[i];
    return new BufferReference(out);
  },
});
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
