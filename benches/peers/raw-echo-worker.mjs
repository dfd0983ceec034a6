// Plain worker_threads + postMessage, section (D): [id, x] in, [id, x] out.
import { parentPort } from "node:worker_threads";

parentPort.on("message", (message) => {
  parentPort.postMessage(message);
});
