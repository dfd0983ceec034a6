// Envelope: a JSON-like header plus a binary body, sent as one payload.
// The constructor validates nothing; lib/codec/encode.js checks both parts
// when the envelope is sent (and always decodes to this base class).

export class Envelope {
  /**
   * @param {unknown} header JSON-like: string, number, boolean, null, arrays and plain objects of those
   * @param {ArrayBuffer | SharedArrayBuffer | import("./buffer-reference/buffer-reference.js").BufferReference} payload
   */
  constructor(header, payload) {
    Object.defineProperty(this, "header", { value: header, enumerable: true });
    Object.defineProperty(this, "payload", { value: payload, enumerable: true });
  }

  /** Disposes the body if it is disposable (a BufferReference is released); no-op for ArrayBuffer / SharedArrayBuffer. */
  [Symbol.dispose]() {
    const body = this.payload;
    if (body !== null && typeof body === "object" && typeof body[Symbol.dispose] === "function") {
      body[Symbol.dispose]();
    }
  }
}
