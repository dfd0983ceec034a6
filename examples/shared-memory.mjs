// A ProcessSharedBuffer shared by the pool's worker threads and a child process.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createPool, isMain, task } from "knitting";
import { ProcessSharedBuffer } from "knitting/shared-memory";

export const add = task({ f: ({ psb, n }) => Atomics.add(psb.view(Int32Array), 0, n) });

if (process.argv[2] === "child") {
  // The parent handed the object down as descriptor 3.
  const metadata = JSON.parse(process.argv[3]);
  metadata.descriptor.fd = 3;
  const psb = ProcessSharedBuffer.fromMetadata(metadata);
  Atomics.add(psb.view(Int32Array), 0, 100);
  psb.descriptor.mapping.close();
} else if (isMain) {
  const psb = ProcessSharedBuffer.create(64);
  const pool = createPool({ threads: 2 })({ add });
  await Promise.all([1, 2, 3].map((n) => pool.call.add({ psb, n })));
  console.log(Atomics.load(psb.view(Int32Array), 0)); // 6

  const deno = typeof Deno !== "undefined" ? ["run", "--allow-env", "--allow-read", "--allow-ffi"] : [];
  const child = spawn(process.execPath, [...deno, import.meta.filename, "child", psb.stringify()], {
    stdio: ["ignore", "inherit", "inherit", psb.fd],
  });
  await once(child, "exit");
  console.log(Atomics.load(psb.view(Int32Array), 0)); // 106

  const view = psb.bytes();
  psb.descriptor.mapping.close();
  console.log(view.length); // 0: closing detached it
  await pool.shutdown();
}
