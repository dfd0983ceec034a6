import { expect, test } from "vitest";
import { createPool } from "knitting";
import { BufferReference } from "knitting/unsafe";
import { plusOne } from "../../src/tasks.ts";

for (const mode of ["copy", "borrow"] as const) {
  test(`a BufferReference goes to a worker and comes back (${mode})`, async () => {
    const pool = createPool({ threads: 2, unsafe: { BufferReferenceReturn: mode } })({ plusOne });
    const bytes = new Uint8Array(64 * 1024).map((_, i) => i & 255);
    const sent = new BufferReference(bytes);
    expect(bytes.byteLength).toBe(0); // moved, not copied
    const back = await pool.call.plusOne(sent);
    expect(sent.released).toBe(true);
    await pool.shutdown();
    const view = back.toUint8Array(); // read after the worker is gone
    expect(view.length).toBe(64 * 1024);
    expect(view.every((b, i) => b === ((i + 1) & 255))).toBe(true);
    back.release();
    expect(() => back.toUint8Array()).toThrowError(expect.objectContaining({ code: "ERR_KNITTING_RELEASED" }));
  });
}
