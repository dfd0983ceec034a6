// The runtimes of the test matrix besides the project's own Node 24: the
// versions pinned in ./pinned/package.json, installed on first use into
// ./pinned/node_modules (npm ci, from the npm registry) and called by path.
// (A package of its own, not devDependencies of the project: every Node
// package links a bin named `node`, which would replace the project's Node 24.)
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("./pinned/", import.meta.url));
const binaries = {
  node22: `${here}node_modules/node22/bin/node`,
  node26: `${here}node_modules/node26/bin/node`,
  deno: `${here}node_modules/deno/deno`,
  bun: `${here}node_modules/bun/bin/bun.exe`,
};

/** Paths of the pinned runtimes' executables, installing them first if any is missing. */
export function runtimes() {
  if (!Object.values(binaries).every((path) => existsSync(path))) {
    console.log(`\n$ npm ci   (in ${here}: Node 22 and 26, Deno and Bun for the runtime matrix)`);
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: here, stdio: "inherit" });
  }
  return binaries;
}

/** The flags Deno needs to load the addon (see the README's runtime table). */
export const DENO_FLAGS = ["--allow-env", "--allow-read", "--allow-ffi"];
