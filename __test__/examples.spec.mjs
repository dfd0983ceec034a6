// Every runnable example prints what its comments promise.
import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
const examples = fileURLToPath(new URL("../examples/", import.meta.url));

const expected = {
  "move.mjs": "0\n5\n",
  "pool-basics.mjs": "6765\nhello thread\n[ 75025, 121393, 196418 ]\n",
  "errors.mjs": "SyntaxError\nERR_KNITTING_UNSUPPORTED_PAYLOAD\nERR_KNITTING_POOL_CLOSED\n",
  "control.mjs": "AbortError\nstopped early\nERR_KNITTING_TASK_TIMEOUT\n5\n3 2 0 true\n",
};

for (const [file, output] of Object.entries(expected)) {
  test(`examples/${file} prints the documented values`, async (t) => {
    const { stdout } = await run(process.execPath, [file], { cwd: examples, timeout: 60_000 });
    t.is(stdout, output);
  });
}

// The seed page's examples (TypeScript with `using`: Node 24 strips the types).
const seedExamples = {
  "invert.ts": "[ 255, 191, 127, 63, 0 ]\n",
  "using-result.ts": "[ 255, 191, 127, 63, 0 ]\n",
  "copy-mode.ts": "[ 254, 253 ]\n",
  "borrow-mode.ts": "[ 255, 191, 127, 63, 0 ]\n",
  "envelope.ts": '{"done":true} [ 255, 191, 127, 63, 0 ]\n',
};

for (const [file, output] of Object.entries(seedExamples)) {
  test(`examples/${file} runs as written and prints the seed's values`, async (t) => {
    const { stdout } = await run(process.execPath, [file], { cwd: examples, timeout: 60_000 });
    t.is(stdout, output);
  });
}
