// Type-level tests: `tsc -p .` must accept the lines below and reject each
// line marked @ts-expect-error (an unused expectation is an error too).
import { createPool, Envelope, task, importTask, isMain, type Pool } from "knitting";
import { BufferReference, BufferReferenceReturn, referenceStats } from "knitting/unsafe";
import { bufferToJson, bufferToNumbers, jsonToBuffer, numbersToBuffer, stringToBuffer } from "knitting/utils";

export const add = task({ f: ([a, b]: [number, number]) => a + b });
export const greet = task({ f: async (name: string) => `hi ${name}` });
export const invert = task<BufferReference, BufferReference>({ f: (ref) => ref });
export const reply = task<Envelope<{ op: string }, BufferReference>, Envelope<{ done: boolean }, ArrayBuffer>>({
  f: (env) => new Envelope({ done: env.header.op === "x" }, new ArrayBuffer(1)),
});
export function double(x: number): number {
  return x * 2;
}
const imported = importTask<string, number>({ href: "./elsewhere.js" });

async function check() {
  if (!isMain) return;
  const pool = createPool({ threads: 2, unsafe: { BufferReferenceReturn: BufferReferenceReturn.Borrow } })({
    add,
    greet,
    invert,
    reply,
    double,
    imported,
  });
  const sum: number = await pool.call.add([1, 2]);
  const text: string = await pool.call.greet("you");
  const ref: BufferReference = await pool.call.invert(new BufferReference(new Uint8Array(4)));
  const env = await pool.call.reply(new Envelope({ op: "x" }, new BufferReference(new Uint8Array(1))));
  const done: boolean = env.header.done;
  const doubled: number = await pool.call.double(Promise.resolve(21));
  const n: number = await pool.call.imported("a");

  // @ts-expect-error: add takes a [number, number]
  pool.call.add("nope");
  // @ts-expect-error: greet resolves with a string
  const wrong: number = await pool.call.greet("x");
  // @ts-expect-error: no such task
  pool.call.missing();
  // @ts-expect-error: an Envelope task rejects a plain object
  pool.call.reply({ header: { op: "x" }, payload: new ArrayBuffer(1) });
  // @ts-expect-error: unknown option
  createPool({ thread: 2 });
  // @ts-expect-error: only "copy" or "borrow"
  createPool({ unsafe: { BufferReferenceReturn: "steal" } });

  const single = add.createPool({ threads: 1 });
  const alsoSum: number = await single.call([3, 4]);
  await single.shutdown();

  // Control: abort-aware tasks, call options, stats.
  const watchful = task({
    abortSignal: true,
    f: async (n: number, { hasAborted, signal, now }) => (hasAborted() || signal.aborted ? -1 : n + now() * 0),
  });
  const controlled = createPool({ threads: 1, worker: { hardTimeoutMs: 1000, resourceLimits: { maxOldGenerationSizeMb: 64 } }, stats: true })({ watchful });
  const pending = controlled.call.watchful(1, { signal: AbortSignal.timeout(100), hardTimeoutMs: 50 });
  pending.reject?.();
  const stats = controlled.stats();
  const waited: number | undefined = stats.waitTime?.percentile(99);
  const lanes: number = stats.workers.filter((w) => w.thread !== "inliner").length;
  // @ts-expect-error: a signal must be an AbortSignal
  controlled.call.watchful(1, { signal: true });
  // @ts-expect-error: runtime is "thread", "process" or "compiled"
  createPool({ worker: { runtime: "fiber" } });
  await controlled.shutdown();

  // knitting/utils
  const rows = bufferToJson<{ rows: number[] }>(jsonToBuffer({ rows: [1] })).rows;
  const floats: Float64Array = bufferToNumbers(numbersToBuffer(new Set([1, 2])));
  // @ts-expect-error: stringToBuffer takes a string
  stringToBuffer(42);

  const typed: Pool<{ add: typeof add }> = createPool()({ add });
  await typed.shutdown(10);
  await pool[Symbol.asyncDispose]();
  const { liveRegions }: { liveRegions: number } = referenceStats();
  return [sum, text, ref, done, doubled, n, wrong, alsoSum, liveRegions, waited, lanes, rows, floats];
}
void check;
