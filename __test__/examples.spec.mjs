// Every runnable example prints what its comments promise.
import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { examples as expected, seedExamples } from "./fixtures/examples-expected.mjs";

const run = promisify(execFile);
const examples = fileURLToPath(new URL("../examples/", import.meta.url));

for (const [file, output] of Object.entries(expected)) {
  test(`examples/${file} prints the documented values`, async (t) => {
    const { stdout } = await run(process.execPath, [file], { cwd: examples, timeout: 60_000 });
    t.is(stdout, output);
  });
}

// The seed page's examples (TypeScript with `using`: Node 24 strips the types; the
// Node 22 run lowers `using` first, see runtimes/lower-using.mjs).
for (const [file, output] of Object.entries(seedExamples)) {
  test(`examples/${file} runs as written and prints the seed's values`, async (t) => {
    const { stdout } = await run(process.execPath, [file], { cwd: examples, timeout: 60_000 });
    t.is(stdout, output);
  });
}
