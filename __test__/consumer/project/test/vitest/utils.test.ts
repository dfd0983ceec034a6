import { expect, test } from "vitest";
import { createPool } from "knitting";
import { bufferToString, stringToBuffer } from "knitting/utils";
import { shout } from "../../src/tasks.ts";

test("knitting/utils buffers travel through a pool", async () => {
  await using pool = createPool({ threads: 2 })({ shout });
  expect(bufferToString(await pool.call.shout(stringToBuffer("héllo")))).toBe("HÉLLO");
});
