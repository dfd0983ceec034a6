// Plain worker_threads + postMessage, pipelined: [id, x] in, [id, x + 1] out;
// [id, ms, "busy"] keeps the worker busy for ms first (as add-one.mjs's busy).
import { parentPort } from "node:worker_threads";

function busy(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
}

parentPort.on("message", ([id, x, op]) => {
  parentPort.postMessage([id, op === "busy" ? busy(x) : x + 1]);
});
