// Types of `knitting/utils`: values to binary buffers and back (docs/utils.md).

/** An ArrayBuffer, a SharedArrayBuffer, or a view of one (typed array, DataView, Buffer). */
export type BufferSource = ArrayBufferLike | ArrayBufferView;

/** A new ArrayBuffer with a copy of the bytes. */
export declare function bytesToBuffer(bytes: BufferSource): ArrayBuffer;
/** A Uint8Array over the buffer's bytes (a view, not a copy). */
export declare function bufferToBytes(buffer: BufferSource): Uint8Array;
/** `text` as UTF-8, in a new ArrayBuffer. */
export declare function stringToBuffer(text: string): ArrayBuffer;
/** The bytes decoded as UTF-8. */
export declare function bufferToString(buffer: BufferSource): string;
/** `JSON.stringify(value)` as UTF-8, in a new ArrayBuffer. */
export declare function jsonToBuffer(value: unknown): ArrayBuffer;
/** `JSON.parse` of the bytes decoded as UTF-8. */
export declare function bufferToJson<T = unknown>(buffer: BufferSource): T;
/** The numbers as 64-bit floats (platform byte order), in a new ArrayBuffer. */
export declare function numbersToBuffer(numbers: ArrayLike<number> | Iterable<number>): ArrayBuffer;
/** The bytes read as 64-bit floats: a view when aligned, else a copy. */
export declare function bufferToNumbers(buffer: BufferSource): Float64Array;
