import { BufferReference } from "knitting/unsafe";

const pixels = new Uint8Array([0, 64, 128, 192, 255]);
const ref = new BufferReference(pixels); // pixels.buffer is now detached
console.log(pixels.byteLength); // 0 — the source was moved
console.log(ref.byteLength); // 5
