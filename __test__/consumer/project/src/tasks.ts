// Tasks of the consumer project, in TypeScript: the test runner imports this
// module on its side, and the pool's workers import it again (Node strips the
// types), so nothing here runs at import time except task definitions.
import { isMain, task } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { stringToBuffer, bufferToString } from "knitting/utils";

export const add = task<[number, number], number>({ f: ([a, b]) => a + b });

/** Adds one to every byte and moves the result back. */
export const plusOne = task<BufferReference, BufferReference>({
  f: (ref) => {
    const input = ref.toUint8Array();
    const out = new Uint8Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = (input[i]! + 1) & 255;
    return new BufferReference(out);
  },
});

export const shout = task<ArrayBuffer, ArrayBuffer>({
  f: (bytes) => stringToBuffer(bufferToString(bytes).toUpperCase()),
});

export const failWithCode = task<string, never>({
  f: (code) => {
    throw Object.assign(new RangeError("refused on purpose"), { code });
  },
});

/** What isMain says where the task runs (false: inside a pool worker). */
export const isMainInWorker = task<void, boolean>({ f: () => isMain });
