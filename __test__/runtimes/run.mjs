// The runtime matrix (issue #11), the last step of `npm test`:
//   Node 22  the whole ava suite, `using` lowered by ./lower-using.mjs; conformance
//   Node 24  conformance (the suite itself already ran on it)
//   Node 26  the whole ava suite; conformance
//   Deno 2   every example; conformance  (deno run --allow-env --allow-read --allow-ffi, and --allow-run for process workers)
//   Bun 1    every example; conformance
// The runtimes are the versions pinned in ./pinned/package.json (install.mjs). Prints
// a table of test counts per runtime; exits 1 if anything failed.
// Alone: `node __test__/runtimes/run.mjs [node22 node24 node26 deno bun]` after `npm run build`.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { denoExtraFlags, examples, seedExamples } from "../fixtures/examples-expected.mjs";
import { DENO_FLAGS, runtimes } from "./install.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));
const conformance = fileURLToPath(new URL("./conformance.mjs", import.meta.url));
const ava = fileURLToPath(new URL("../../node_modules/ava/entrypoints/cli.mjs", import.meta.url));
/** Node 22 cannot parse `using`: every thread of that run preloads the hook that lowers it. */
const NODE22_ENV = { NODE_OPTIONS: `--import=${fileURLToPath(new URL("./lower-using.mjs", import.meta.url))}` };

const bin = runtimes();
const nodes = { node22: bin.node22, node24: process.execPath, node26: bin.node26 };

/** Runs a command, echoing its output; returns { ok, output }. */
function run(command, args, { cwd = root, env = {}, quiet = false } = {}) {
  if (!quiet) console.log(`\n$ ${[command, ...args].join(" ")}`);
  const result = spawnSync(command, args, { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, encoding: "utf8", timeout: 20 * 60_000, maxBuffer: 64 << 20 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (!quiet) process.stdout.write(output);
  return { ok: result.status === 0, output };
}

/** ava's whole suite on a Node binary: "N passed" from its summary (which omits it when a test failed: then its ✔ lines). */
function suite(node, env) {
  const { ok, output } = run(node, [ava], { env });
  const passed = Number(/(\d+) tests? passed/.exec(output)?.[1] ?? output.match(/^\s*✔/gm)?.length ?? 0);
  const failed = Number(/(\d+) tests? failed/.exec(output)?.[1] ?? 0);
  return { ok: ok && failed === 0, text: `${passed} passed${failed ? `, ${failed} failed` : ""}` };
}

function conformanceRun(command, args, env) {
  const { ok, output } = run(command, [...args, conformance], { env });
  const [, passed, failed] = /# (\d+) passed, (\d+) failed/.exec(output) ?? [, "0", "?"];
  return { ok: ok && failed === "0", text: `${passed} passed${failed !== "0" ? `, ${failed} failed` : ""}` };
}

/** Every example, checked against what it must print. */
function examplesRun(command, args) {
  const all = { ...examples, ...seedExamples };
  const failures = [];
  for (const [file, expected] of Object.entries(all)) {
    const extra = command === bin.deno ? (denoExtraFlags[file] ?? []) : [];
    const { output } = run(command, [...args, ...extra, file], { cwd: examplesDir, quiet: true });
    if (output !== expected) failures.push(`${file}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(output.slice(0, 2000))}`);
  }
  for (const failure of failures) console.log(`example failed: ${failure}`);
  console.log(`\n${command.split("/").at(-1)} ${args.join(" ")}: ${Object.keys(all).length - failures.length} of ${Object.keys(all).length} examples print what they promise`);
  return { ok: failures.length === 0, text: `${Object.keys(all).length - failures.length} of ${Object.keys(all).length}` };
}

/** Deno without --allow-ffi: the first line of the error names the missing permission. */
function denoPermission() {
  const { output } = run(bin.deno, ["run", "--allow-env", "--allow-read", "move.mjs"], { cwd: examplesDir });
  const ok = /^error: Uncaught \(in promise\) Error: knitting cannot load its native addon without Deno permission --allow-ffi\./.test(output);
  return { ok, text: ok ? "without --allow-ffi: names it" : "the missing permission is not named first" };
}

const matrix = {
  node22: () => ({ suite: suite(nodes.node22, NODE22_ENV), conformance: conformanceRun(nodes.node22, ["--expose-gc"], NODE22_ENV) }),
  node24: () => ({ conformance: conformanceRun(nodes.node24, ["--expose-gc"]) }),
  node26: () => ({ suite: suite(nodes.node26), conformance: conformanceRun(nodes.node26, ["--expose-gc"]) }),
  deno: () => ({
    examples: examplesRun(bin.deno, ["run", ...DENO_FLAGS]),
    // (--allow-run: the conformance starts process workers)
    conformance: conformanceRun(bin.deno, ["run", ...DENO_FLAGS, "--allow-run", "--v8-flags=--expose-gc"]),
    other: denoPermission(),
  }),
  bun: () => ({ examples: examplesRun(bin.bun, []), conformance: conformanceRun(bin.bun, []) }),
};

const chosen = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(matrix);
const rows = [];
for (const name of chosen) {
  if (!(name in matrix)) throw new Error(`unknown runtime ${name}; choose from ${Object.keys(matrix).join(", ")}`);
  const version = run(name === "deno" ? bin.deno : name === "bun" ? bin.bun : nodes[name], ["--version"], { quiet: true }).output.trim();
  const label = name === "deno" ? version.split(" (")[0] : name === "bun" ? `bun ${version}` : `node ${version}`;
  rows.push({ runtime: label, ...matrix[name]() });
}

const cell = (result) => (result === undefined ? "—" : `${result.ok ? "" : "FAILED: "}${result.text}`);
console.log("\n| runtime | ava suite | conformance | examples | other |\n|---|---|---|---|---|");
for (const row of rows) console.log(`| ${row.runtime} | ${cell(row.suite)} | ${cell(row.conformance)} | ${cell(row.examples)} | ${cell(row.other)} |`);
const failed = rows.some((row) => [row.suite, row.conformance, row.examples, row.other].some((r) => r !== undefined && !r.ok));
console.log(failed ? "\nruntime matrix FAILED" : "\nruntime matrix passed");
process.exitCode = failed ? 1 : 0;
