// Plain worker_threads worker for benches/references.bench.mjs: [op, bytes]
// in (bytes moved in the transfer list), the result moved back the same way.
import { parentPort, threadId } from "node:worker_threads";

parentPort.on("message", ([op, input]) => {
  if (op === "invert") {
    const out = new Uint8Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = 255 - input[i];
    parentPort.postMessage(out, [out.buffer]);
  } else if (op === "touch") {
    input[0] = 255 - input[0];
    parentPort.postMessage(input, [input.buffer]);
  } else parentPort.postMessage(threadId);
});
