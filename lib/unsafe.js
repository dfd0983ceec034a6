// Entry point of `knitting/unsafe`.
export { BufferReference, BufferReferenceReturn } from "./buffer-reference/buffer-reference.js";
export { referenceStats, addressOf } from "./native.js";
