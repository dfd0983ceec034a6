// The knitting tasks of benches/references.bench.mjs (workers import this
// module, not the bench file, so the bench does not run again in a worker).
//   (a) "new":      read the input, write a new buffer out[i] = 255 - in[i], return it
//   (b) "in place": flip byte 0 of the input and hand the same bytes back
import { threadId } from "node:worker_threads";
import { task } from "knitting";
import { BufferReference } from "knitting/unsafe";

// Each task holds its loop itself, as piscina's and the worker_threads peer's
// do. The same loop moved into a helper that the task calls runs 3-5x slower
// in every V8 isolate that has detached an ArrayBuffer (all of these workers
// have): Maglev inlines the helper into the task and, on that path, calls the
// TypedArray length getter on every iteration, and the inlined loop cannot
// tier up on its own (measured with perf; see benches/README.md). Comparing
// contenders whose task code differs in that shape would measure V8, not the
// transports.

/** (a) BufferReference in, a new BufferReference out (moved both ways). */
export const invertRefTask = task({
  f: (ref) => {
    const input = ref.toUint8Array();
    const out = new Uint8Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = 255 - input[i];
    return new BufferReference(out);
  },
});
/** (a) plain Uint8Array in, a new Uint8Array out (copied both ways). */
export const invertBytesTask = task({
  f: (input) => {
    const out = new Uint8Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = 255 - input[i];
    return out;
  },
});
/** (b) BufferReference in, the same reference back (moved both ways). */
export const touchRefTask = task({
  f: (ref) => {
    const bytes = ref.toUint8Array();
    bytes[0] = 255 - bytes[0];
    return ref;
  },
});
/** (b) plain Uint8Array modified and returned (copied both ways). */
export const touchBytesTask = task({
  f: (bytes) => {
    bytes[0] = 255 - bytes[0];
    return bytes;
  },
});
export const whereTask = task({ f: () => threadId });
