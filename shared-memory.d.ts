// Types of `knitting/shared-memory` (alias `knitting/process-shared-buffer`).

/** Where a ProcessSharedBuffer's memory lives, as this process sees it. */
export interface ProcessSharedBufferDescriptor {
  /** The object's descriptor in this process (-1 once closed). */
  fd: number;
  /** The name of a named object (`"/..."`), or null for an anonymous one. */
  name: string | null;
  /** Size of the mapping in bytes (the requested size rounded up to 64). */
  size: number;
  byteLength: number;
  runtime: "node" | "deno" | "bun";
  kind: "anonymous" | "named";
}

/** `toMetadata()`: plain data that `fromMetadata()` maps again, here or in another process. */
export interface ProcessSharedBufferMetadata {
  version: 1;
  descriptor: ProcessSharedBufferDescriptor;
  byteOffset: number;
  byteLength: number;
}

export type ProcessSharedBufferCreateOptions =
  | { size: number; mode?: "anonymous" }
  | { size: number; mode: "create"; name: string }
  | { mode: "open"; name: string };

/**
 * A mapping made by the primitives (see setDefaultProcessSharedBufferPrimitives).
 * Replacements must return what the default primitives return (they may wrap them).
 */
export interface SharedMemoryMapping {
  readonly closed: boolean;
  close(): void;
}

export interface ProcessSharedBufferPrimitives {
  createSharedMemory(options: { size: number; mode: "anonymous" | "create"; name?: string }): SharedMemoryMapping;
  mapSharedMemory(descriptor: { name?: string; fd?: number }): SharedMemoryMapping;
  unlinkSharedMemory(name: string): void;
}

type TypedArrayClass =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

/**
 * Bytes in OS shared memory: every thread and process that maps the object
 * sees the same bytes (Atomics on its views work across them). A payload of
 * calls to thread workers (the worker sees the same memory; its views detach
 * when the call settles).
 */
export declare class ProcessSharedBuffer {
  private constructor();
  /** A new buffer of `size` bytes (anonymous), or as the options say. */
  static create(options: number | ProcessSharedBufferCreateOptions): ProcessSharedBuffer;
  static fromMetadata(metadata: ProcessSharedBufferMetadata): ProcessSharedBuffer;
  static parse(json: string): ProcessSharedBuffer;
  static fromDescriptor(
    descriptor: { name?: string | null; fd?: number },
    range?: { byteOffset?: number; byteLength?: number },
  ): ProcessSharedBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly size: number;
  readonly fd: number;
  /** With `mapping.close()`: detaches every view this thread took and closes the mapping. */
  readonly descriptor: ProcessSharedBufferDescriptor & { mapping: SharedMemoryMapping };
  /** A typed array over this buffer (its offset and length must be multiples of the element size). */
  view<C extends TypedArrayClass = Uint8ArrayConstructor>(Ctor?: C): InstanceType<C>;
  bytes(): Uint8Array;
  dataView(): DataView;
  /** The engine buffer over the whole mapping. */
  getBuffer(): ArrayBuffer;
  subbuffer(offset: number, length?: number): ProcessSharedBuffer;
  /** Atomics.wait across processes: blocks while Int32 `index` holds `value` (Atomics.wait itself takes only SharedArrayBuffer views). */
  wait(index: number, value: number, timeoutMs?: number): "ok" | "not-equal" | "timed-out";
  /** wait() without blocking (a native thread waits). */
  waitAsync(index: number, value: number, timeoutMs?: number): Promise<"ok" | "not-equal" | "timed-out">;
  /** Wakes up to `count` waiters on Int32 `index`, in any process; returns how many woke. */
  notify(index: number, count?: number): number;
  toMetadata(): ProcessSharedBufferMetadata;
  toJSON(): ProcessSharedBufferMetadata;
  stringify(): string;
}

export declare function getDefaultProcessSharedBufferPrimitives(): ProcessSharedBufferPrimitives;
export declare function setDefaultProcessSharedBufferPrimitives(primitives?: Partial<ProcessSharedBufferPrimitives>): void;

/** Process-wide: mappings with an open handle, and mappings kept until exit because a view of them could not be proven gone. */
export declare function sharedMemoryStats(): { openMappings: number; openBytes: number; keptMappings: number; keptBytes: number };
