// piscina's worker for benches/references.bench.mjs: the same two tasks,
// results moved back with piscina's move() (selected with run(..., { name })).
import { threadId } from "node:worker_threads";
import { move } from "piscina";

export function invert(input) {
  const out = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = 255 - input[i];
  return move(out);
}

export function touch(bytes) {
  bytes[0] = 255 - bytes[0];
  return move(bytes);
}

export function where() {
  return threadId;
}
