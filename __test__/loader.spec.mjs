// Loading the native addon: when it cannot load, the first line of the error
// says what is missing and what to do (issues #11, #13).
import test from "ava";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("../", import.meta.url);
const platform = `${process.platform}-${process.arch}${process.platform === "linux" ? "-gnu" : ""}`;

/** A copy of the package's JavaScript, with the native files `native` writes. */
async function importCopy(t, native) {
  const dir = mkdtempSync(join(tmpdir(), "knitting-loader-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(new URL("lib/", root), join(dir, "lib"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "knitting-copy", type: "module" }));
  native(dir);
  return import(pathToFileURL(join(dir, "lib", "index.js")).href);
}

test("a checkout that was never built says to run npm run build", async (t) => {
  const error = await t.throwsAsync(importCopy(t, () => {}));
  t.is(error.code, "ERR_KNITTING_NATIVE_UNAVAILABLE");
  t.regex(error.message.split("\n")[0], /not built in this checkout: run `npm run build`/);
});

test("a platform without a binary is named, with what ships and how to build from source", async (t) => {
  const error = await t.throwsAsync(
    importCopy(t, (dir) => {
      cpSync(new URL("native/index.cjs", root), join(dir, "native", "index.cjs"), { recursive: true });
      writeFileSync(join(dir, "native", "knitting.plan9-mips.node"), "");
    }),
  );
  t.is(error.code, "ERR_KNITTING_NATIVE_UNAVAILABLE");
  const first = error.message.split("\n")[0];
  t.true(first.startsWith(`knitting has no native binary for ${platform} (this package ships: plan9-mips).`), first);
  t.regex(first, /Rust toolchain .*npm install && npm run build/);
  t.truthy(error.cause, "the loader's own errors stay in the cause");
});

test("a binary that is there but broken says so, with the loader's reason", async (t) => {
  const error = await t.throwsAsync(
    importCopy(t, (dir) => {
      cpSync(new URL("native/index.cjs", root), join(dir, "native", "index.cjs"), { recursive: true });
      writeFileSync(join(dir, "native", `knitting.${platform}.node`), "not a shared object");
    }),
  );
  t.is(error.code, "ERR_KNITTING_NATIVE_UNAVAILABLE");
  t.regex(error.message, new RegExp(`native binary for ${platform} is there but did not load \\(.*knitting\\.${platform}\\.node`));
});
