// The one place that loads the native addon (built into ../native by
// `npm run build`). When it cannot load, the error's first line says why in
// terms a user can act on: a runtime permission that is missing (Deno), no
// binary for this platform, or a checkout that was never built.
//
// It is loaded synchronously (require of the CommonJS loader napi-rs
// generates): a top-level await here would make every worker's startup
// asynchronous at this point, and Node 24 aborts the whole process (a V8
// CHECK) when a worker is terminated in the middle of such an import.
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";
import { Errors } from "./errors.js";

let native;
try {
  native = createRequire(import.meta.url)("../native/index.cjs");
} catch (cause) {
  throw explain(cause);
}

export const {
  NativeBufferReference,
  NativeSharedMemory,
  addressOf,
  adjustExternalMemory,
  copyInto,
  copyParallelThreshold,
  dieWithParent,
  referenceStats,
  releaseSharedMemory,
  retainSharedMemory,
  setCopyParallelThreshold,
  sharedMemoryStats,
  unlinkSharedMemory,
} = native;

/** Every error in `error`'s cause chain (the loader chains one per place it tried). */
function chain(error) {
  const all = [];
  for (let e = error; e != null && all.length < 32 && !all.includes(e); e = e.cause) {
    all.push(e);
    if (Array.isArray(e.cause)) all.push(...e.cause);
  }
  return all;
}

function explain(cause) {
  const errors = chain(cause);
  const text = errors.map((e) => `${e?.name ?? ""} ${e?.message ?? e}`).join("\n");
  // Deno reports a missing permission as NotCapable (Deno 2) or PermissionDenied.
  if (typeof globalThis.Deno !== "undefined" && /NotCapable|PermissionDenied|Requires \w+ access/.test(text)) {
    const flags = ["env", "read", "ffi"].filter((kind) => new RegExp(`Requires ${kind} access`).test(text)).map((kind) => `--allow-${kind}`);
    return Errors.nativePermission(flags, cause);
  }
  const loader = errors.find((e) => e?.code === "MODULE_NOT_FOUND" && String(e.message).includes("index.cjs"));
  if (loader !== undefined) return Errors.nativeNotBuilt(cause);
  const libc = process.platform === "linux" ? (process.report?.getReport?.().header?.glibcVersionRuntime ? "-gnu" : "-musl") : "";
  const platform = `${process.platform}-${process.arch}${libc}`;
  const shipped = shippedBinaries();
  if (!shipped.includes(platform)) return Errors.nativeMissing(platform, shipped, cause);
  const reason = errors.map((e) => String(e?.message ?? e)).find((message) => message.includes(`knitting.${platform}.node`)) ?? errors.at(-1)?.message;
  return Errors.nativeBroken(platform, reason, cause);
}

/** The platforms this copy of the package has binaries for (knitting.<platform>.node). */
function shippedBinaries() {
  try {
    return readdirSync(new URL("../native/", import.meta.url))
      .map((name) => /^knitting\.(.+)\.node$/.exec(name)?.[1])
      .filter((platform) => platform !== undefined);
  } catch {
    return [];
  }
}
