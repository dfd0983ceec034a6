// The consumer test (issue #13): the package as users get it. Packs this
// package, checks that the tarball holds what users need and nothing else,
// installs it into a scratch copy of ./project together with vitest, ava and
// typescript (the versions this repository pins), then runs there:
// tsc --noEmit under nodenext and bundler resolution, deno check, vitest in
// each of its four pools, and ava (files in parallel, each in its own worker
// thread).
// Run by `npm test`; alone: `node __test__/consumer/run.mjs` after `npm run build`.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtimes } from "../runtimes/install.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "knitting-consumer-"));
const project = join(scratch, "project");

/** What a user of the package needs, and all they may get. */
const SHIPPED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^(index|unsafe|utils|shared-memory)\.d\.ts$/,
  /^lib\/[\w/-]+\.js$/,
  /^native\/index\.cjs$/,
  /^native\/knitting\.[\w-]+\.node$/,
];
const REQUIRED = ["package.json", "README.md", "LICENSE", "index.d.ts", "unsafe.d.ts", "utils.d.ts", "shared-memory.d.ts", "lib/index.js", "lib/unsafe.js", "lib/utils.js", "lib/shared-memory.js", "native/index.cjs"];

function run(command, args, cwd, options = {}) {
  console.log(`\n$ ${[command, ...args].join(" ")}`);
  return execFileSync(command, args, { cwd, stdio: options.capture ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...options.env } });
}

function fail(message) {
  console.error(`\nconsumer test FAILED: ${message}\n(scratch project kept in ${scratch})`);
  process.exit(1);
}

// 1. Pack, and check the file list.
const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", scratch], root, { capture: true }));
const files = packed.files.map((f) => f.path).sort();
const extra = files.filter((path) => !SHIPPED.some((rule) => rule.test(path)));
const missing = REQUIRED.filter((path) => !files.includes(path));
if (!files.some((path) => path.endsWith(".node"))) missing.push("native/knitting.<platform>.node");
console.log(`${packed.filename}: ${files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);
if (extra.length > 0) fail(`the tarball ships files users do not need: ${extra.join(", ")}`);
if (missing.length > 0) fail(`the tarball lacks: ${missing.join(", ")}`);

// 2. A scratch project that installs the tarball and the runners this repository pins.
cpSync(fileURLToPath(new URL("project/", import.meta.url)), project, { recursive: true });
const pinned = (name) => `${name}@${JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version}`;
run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--save-dev", join(scratch, packed.filename), ...["vitest", "ava", "typescript", "@types/node"].map(pinned)], project);

// 3. Types, then the suites.
const bin = (name) => join(project, "node_modules", ".bin", name);
try {
  for (const resolution of ["nodenext", "bundler"]) run(bin("tsc"), ["-p", `tsconfig.${resolution}.json`], project);
  run(runtimes().deno, ["check", "src/types.ts", "src/tasks.ts", "test/vitest"], project, { env: { NO_COLOR: "1" } });
  for (const pool of ["forks", "threads", "vmThreads", "vmForks"]) run(bin("vitest"), ["run", `--pool=${pool}`, "test/vitest"], project);
  run(bin("ava"), [], project);
} catch (error) {
  fail(`${error.message.split("\n")[0]}`);
}

if (process.env.KEEP_SCRATCH) console.log(scratch); else rmSync(scratch, { recursive: true, force: true });
console.log("\nconsumer test passed");
