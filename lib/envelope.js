// Envelope: a JSON-like header plus a binary body, sent as one payload.
// The constructor validates nothing; lib/codec/encode.js checks both parts
// when the envelope is sent (and always decodes to this base class).

let isGenuine;

export class Envelope {
  /** Brand: set by this constructor (and so on every subclass instance). */
  #envelope = true;

  static {
    isGenuine = (value) => value !== null && typeof value === "object" && #envelope in value;
  }

  /**
   * @param {unknown} header JSON-like: string, number, boolean, null, arrays and plain objects of those
   * @param {ArrayBuffer | SharedArrayBuffer | import("./buffer-reference/buffer-reference.js").BufferReference | import("./shared-memory/process-shared-buffer.js").ProcessSharedBuffer} payload
   */
  constructor(header, payload) {
    Object.defineProperty(this, "header", { value: header, enumerable: true });
    Object.defineProperty(this, "payload", { value: payload, enumerable: true });
  }

  /** Disposes the body if it is disposable (a BufferReference is released); no-op for other bodies. */
  [Symbol.dispose]() {
    const body = this.payload;
    if (body !== null && typeof body === "object" && typeof body[Symbol.dispose] === "function") {
      body[Symbol.dispose]();
    }
  }
}

/**
 * Whether `value` was made by the Envelope constructor (or a subclass's). A
 * brand check: unlike instanceof, it runs no user code (no Proxy traps).
 */
export function isEnvelope(value) {
  return isGenuine(value);
}
