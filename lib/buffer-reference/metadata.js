// BufferReference metadata, in the established library's shape: what
// toMetadata() returns, and the structural guard for it. Metadata describes
// a reference (for logs and diagnostics); it cannot make one: a reference
// rebuilt from a raw address could not know whether its bytes still exist.

/** The `kind` of BufferReference metadata (also its codec id). */
export const BUFFER_REFERENCE_KIND = "knitting.bufferReference";
export const BUFFER_REFERENCE_CODEC_ID = BUFFER_REFERENCE_KIND;

const RUNTIMES = ["node", "deno", "bun"];
const isCount = (value) => Number.isSafeInteger(value) && value >= 0;

/** Whether `value` has the shape of BufferReference metadata. */
export function isBufferReferenceMetadata(value) {
  if (value === null || typeof value !== "object") return false;
  const { kind, origin, runtime, pointer, token, byteOffset, byteLength } = value;
  return (
    kind === BUFFER_REFERENCE_KIND && typeof origin === "string" && typeof pointer === "string" && typeof token === "string" &&
    RUNTIMES.includes(runtime) && isCount(byteOffset) && isCount(byteLength)
  );
}
