// Every error the JS layer raises, written once. Each carries a stable `code`
// (the same codes the Rust core uses, see src/errors.rs) and a message that
// says what to do instead.

/** @param {ErrorConstructor} Kind @param {string} code @param {string} message */
function coded(Kind, code, message, options) {
  const error = new Kind(message, options);
  Object.defineProperty(error, "code", { value: code, enumerable: true, configurable: true, writable: true });
  return error;
}

export const Codes = Object.freeze({
  INVALID_SOURCE: "ERR_KNITTING_INVALID_SOURCE",
  RELEASED: "ERR_KNITTING_RELEASED",
});

export const Errors = {
  missingSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference needs a source: pass an ArrayBuffer or a typed array / DataView over one."),
  notABufferSource: (received) =>
    coded(TypeError, Codes.INVALID_SOURCE,
      `BufferReference expects an ArrayBuffer or an ArrayBufferView (typed array or DataView); received ${received}.`),
  sharedSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a SharedArrayBuffer (or a view over one): shared memory cannot be detached or moved. " +
        "Pass the SharedArrayBuffer itself as a call argument to share it, or copy it into an ArrayBuffer first."),
  resizableSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a resizable ArrayBuffer: moving it would copy. " +
        "Use buffer.transferToFixedLength() first, or allocate a fixed-length ArrayBuffer."),
  detachedSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a detached ArrayBuffer: its bytes were already moved or freed. " +
        "Create the reference from a buffer that still holds its bytes."),
  nonDetachableSource: (cause) =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot move this ArrayBuffer because the engine does not allow it to be detached " +
        "(for example a WebAssembly.Memory buffer). Copy the bytes into a new ArrayBuffer first.",
      { cause }),
  pooledBufferSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a Node Buffer that shares its ArrayBuffer with other data (Node's Buffer pool): " +
        "moving it would empty unrelated Buffers. Use Buffer.alloc(size), or copy with new Uint8Array(buffer)."),
};

/** A short, safe description of a value for error messages. */
export function describe(value) {
  if (value === null) return "null";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value !== "object") return typeof value;
  const name = value.constructor?.name;
  return typeof name === "string" && name ? `an instance of ${name}` : "an object";
}
