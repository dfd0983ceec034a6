// Seed: a BufferReference as an Envelope body. Preamble: the imports the
// snippet relies on, and a call that shows the result.
import { createPool, isMain, task } from "knitting";
// --- the seed's snippet ---
import { Envelope } from "knitting";
import { BufferReference } from "knitting/unsafe";
export const process = task<
  Envelope<{ op: string }, BufferReference>,
  Envelope<{ done: boolean }, BufferReference>
>({
  f: (env) => {
    const pixels = env.payload.toUint8Array();
    const out = new Uint8Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) out[i] = 255 - pixels[i];
    return new Envelope({ done: true }, new BufferReference(out));
  },
});
// --- a call to show it works ---
if (isMain) {
  using pool = createPool({ threads: 1 })({ process });
  using result = await pool.call.process(
    new Envelope({ op: "invert" }, new BufferReference(new Uint8Array([0, 64, 128, 192, 255]))),
  );
  console.log(JSON.stringify(result.header), [...result.payload.toUint8Array()]);
}
