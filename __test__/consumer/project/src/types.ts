// Compiled with tsc --noEmit under nodenext and bundler resolution: the
// published typings resolve for a TypeScript consumer and describe the API.
import { createPool, Envelope, importTask, isMain, task, type PoolStats } from "knitting";
import { BufferReference, addressOf } from "knitting/unsafe";
import { bufferToJson, jsonToBuffer } from "knitting/utils";
import { ProcessSharedBuffer } from "knitting/shared-memory";
import { add, plusOne } from "./tasks.ts";

const later = importTask<[number, number], number>({ href: "./tasks.ts", name: "add" });

export async function main(): Promise<void> {
  if (!isMain) return;
  await using pool = createPool({ threads: 2, worker: { hardTimeoutMs: 1000 } })({ add, plusOne, later });
  const sum: number = await pool.call.add([1, 2]);
  const back: BufferReference = await pool.call.plusOne(new BufferReference(new Uint8Array(8)));
  const length: number = await pool.call.later([2, 2], { signal: AbortSignal.timeout(100) });
  const stats: PoolStats = pool.stats();
  const address: bigint = addressOf(back.toUint8Array());
  const json = bufferToJson<{ n: number }>(jsonToBuffer({ n: sum + length }));
  const envelope = new Envelope({ n: json.n }, new ArrayBuffer(4));
  const psb = ProcessSharedBuffer.create({ size: 64, mode: "anonymous" });
  const words: Int32Array = psb.view(Int32Array);
  Atomics.add(words, 0, 1);
  psb.descriptor.mapping.close();
  console.log(stats.queueSize, address, envelope.header, task);
  // @ts-expect-error: add takes a pair of numbers
  await pool.call.add("nope");
}
