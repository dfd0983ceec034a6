// Every runnable example prints what its comments promise.
import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
const examples = fileURLToPath(new URL("../examples/", import.meta.url));

const expected = {
  "move.mjs": "0\n5\n",
};

for (const [file, output] of Object.entries(expected)) {
  test(`examples/${file} prints the documented values`, async (t) => {
    const { stdout } = await run(process.execPath, [file], { cwd: examples });
    t.is(stdout, output);
  });
}
