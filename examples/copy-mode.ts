// Seed: the default "copy" return mode, spelled out. Preamble: the invert task.
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
  // --- the seed's snippet ---
  using pool = createPool({
    threads: 1,
    unsafe: { BufferReferenceReturn: "copy" },
  })({ invert });
  // --- a call to show it works ---
  const result = await pool.call.invert(new BufferReference(new Uint8Array([1, 2])));
  console.log([...result.toUint8Array()]);
}
