// Types of `knitting/unsafe`.

/**
 * A zero-copy handle on the bytes of an ArrayBuffer. Constructing one moves
 * the bytes out of the source, which is detached at once (its views read as
 * length 0). Only the source's region is reachable through the reference.
 */
export declare class BufferReference implements Disposable {
  /**
   * @param source an ArrayBuffer, or a typed array / DataView over one. Throws
   *   a `TypeError` with code `ERR_KNITTING_INVALID_SOURCE` for a
   *   SharedArrayBuffer (or a view over one), a resizable, detached or
   *   non-detachable buffer, a pooled Node Buffer, or anything else.
   */
  constructor(source: ArrayBuffer | ArrayBufferView);
  /** Length of the region in bytes; 0 once released. */
  readonly byteLength: number;
  /**
   * True once `release()` ran, once the reference was sent to a worker, or
   * once the buffer from `toArrayBuffer()` was moved away (`transfer()`).
   */
  readonly released: boolean;
  /**
   * A `Uint8Array` over exactly the moved region. Every call is a view of the
   * same buffer. Throws `ERR_KNITTING_RELEASED` after release.
   */
  toUint8Array(): Uint8Array;
  /**
   * The ArrayBuffer holding exactly the moved region (the same object on every
   * call). Throws `ERR_KNITTING_RELEASED` after release.
   */
  toArrayBuffer(): ArrayBuffer;
  /**
   * Frees the bytes now; every view handed out reads as length 0 afterwards.
   * Idempotent.
   */
  release(): void;
  /** Same as `release()`, for `using`. */
  [Symbol.dispose](): void;
  /**
   * What this reference is, for logs and diagnostics (pointer and token as
   * decimal strings). Throws `ERR_KNITTING_RELEASED` after release.
   */
  toMetadata(): BufferReferenceMetadata;
  /**
   * Not supported: a reference rebuilt from a raw address could read freed
   * memory. Always throws (`ERR_KNITTING_UNSUPPORTED_OPTION`, or
   * `ERR_KNITTING_INVALID_ARGUMENT` for metadata of the wrong shape): send the
   * reference itself instead.
   */
  static fromMetadata(metadata: BufferReferenceMetadata): never;
}

/** The runtimes a BufferReference can come from. */
export type BufferReferenceRuntime = "node" | "deno" | "bun";

/** What `toMetadata()` returns (JSON-safe). */
export interface BufferReferenceMetadata {
  kind: "knitting.bufferReference";
  /** `"<runtime>:<pid>"` */
  origin: string;
  runtime: BufferReferenceRuntime;
  /** Address of the first byte, in decimal. */
  pointer: string;
  token: string;
  byteOffset: number;
  byteLength: number;
}

/** `kind` of BufferReference metadata, and its codec id. */
export declare const BUFFER_REFERENCE_KIND: "knitting.bufferReference";
export declare const BUFFER_REFERENCE_CODEC_ID: "knitting.bufferReference";
/** Whether `value` has the shape of BufferReference metadata. */
export declare function isBufferReferenceMetadata(value: unknown): value is BufferReferenceMetadata;

/** How the host takes possession of a BufferReference a worker returns. */
export declare const BufferReferenceReturn: Readonly<{ Copy: "copy"; Borrow: "borrow" }>;
export type BufferReferenceReturn = (typeof BufferReferenceReturn)[keyof typeof BufferReferenceReturn];

/** Process-wide counters of the ownership registry (diagnostics). */
export interface ReferenceStats {
  /** Regions owned by live (unreleased, uncollected) references. */
  liveRegions: number;
  /** Bytes in those regions. */
  bytesHeld: number;
  /** Regions deliberately leaked until exit to rule out a use-after-free. */
  leakedRegions: number;
  /** Bytes in those regions. */
  leakedBytes: number;
}

/** What the ownership registry holds right now, across every thread. */
export declare function referenceStats(): ReferenceStats;

/**
 * Address of the first byte `value` exposes, read from that very object in
 * the calling thread (`0n` when it has none). For tests that prove a move did
 * not copy.
 */
export declare function addressOf(value: ArrayBuffer | SharedArrayBuffer | ArrayBufferView): bigint;
