// Plain worker_threads + postMessage, pipelined: [id, x] in, [id, x + 1] out.
import { parentPort } from "node:worker_threads";

parentPort.on("message", (message) => {
  parentPort.postMessage([message[0], message[1] + 1]);
});
