// The other side of benches/process.bench.mjs's process peers: a plain
// child_process.fork worker (run with KNITTING_BENCH_FORK=1) or a workerpool
// process worker. Both answer addOne and touch.
const addOne = (x) => x + 1;
const touch = (bytes) => bytes[0] + bytes[bytes.length - 1];

if (process.env.KNITTING_BENCH_FORK === "1") {
  process.on("message", ([id, name, arg]) => process.send([id, name === "touch" ? touch(arg) : addOne(arg)]));
} else {
  require("workerpool").worker({ addOne, touch });
}
