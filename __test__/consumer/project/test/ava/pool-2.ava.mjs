// One of several ava files that run in parallel (ava's default: each file in
// its own worker thread), each with its own 2-thread pool.
import test from "ava";
import { createPool, isMain } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { add, failWithCode, isMainInWorker, plusOne } from "../../src/tasks.ts";

const pool = createPool({ threads: 2 })({ add, failWithCode, isMainInWorker, plusOne });
test.after.always(() => pool.shutdown());

test("file 2: isMain holds in ava's worker thread, and is false in a pool worker", async (t) => {
  t.true(isMain);
  t.false(await pool.call.isMainInWorker());
});

test("file 2: calls and coded errors", async (t) => {
  const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.call.add([i, 2])));
  t.deepEqual(sums, Array.from({ length: 200 }, (_, i) => i + 2));
  const error = await t.throwsAsync(pool.call.failWithCode("E_FILE_2"), { instanceOf: RangeError });
  t.is(error.code, "E_FILE_2");
});

test("file 2: a BufferReference round trip, and using", async (t) => {
  using sent = new BufferReference(new Uint8Array(4096).fill(2));
  using back = await pool.call.plusOne(sent);
  t.true(sent.released);
  t.true(back.toUint8Array().every((b) => b === 2 + 1));
});
