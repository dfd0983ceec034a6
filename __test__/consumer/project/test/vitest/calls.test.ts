import { expect, test } from "vitest";
import { createPool, isMain } from "knitting";
import { add, failWithCode, isMainInWorker } from "../../src/tasks.ts";

test("isMain is true in the test runner's thread and false in a pool worker", async () => {
  expect(isMain).toBe(true);
  await using pool = createPool({ threads: 2 })({ isMainInWorker });
  expect(await pool.call.isMainInWorker()).toBe(false);
});

test("calls run on the pool and errors keep their code", async () => {
  using pool = createPool({ threads: 2 })({ add, failWithCode });
  const sums = await Promise.all(Array.from({ length: 100 }, (_, i) => pool.call.add([i, 1])));
  expect(sums).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  await expect(pool.call.failWithCode("E_CONSUMER")).rejects.toMatchObject({ name: "RangeError", code: "E_CONSUMER" });
});

test("a bad option is refused with a stable code", () => {
  expect(() => createPool({ threads: -1 })({ add })).toThrowError(expect.objectContaining({ code: "ERR_KNITTING_INVALID_OPTION" }));
});
