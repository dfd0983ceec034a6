// Entry point of every pool worker thread: opens the pool's shared memory,
// imports the modules that define the pool's tasks, then runs its scheduling
// loop (loop.js). Results go back through the worker's own result ring and
// port (the Outbox).
import { parentPort, workerData } from "node:worker_threads";
import { kImportingTasks } from "../symbols.js";
import { CallQueue } from "../transport/call-queue.js";
import { HostBell, Seats } from "../transport/doorbell.js";
import { STARTUP_READY, startupIndex } from "../transport/layout.js";
import { Outbox } from "../transport/outbox.js";
import { SpscRing } from "../transport/spsc-ring.js";
import { loadTasks } from "./load-tasks.js";
import { Runner, prepareFailure } from "./run.js";
import { runBootstrap } from "./bootstrap.js";
import { startLoop } from "./loop.js";
import { CallTimes } from "./call-times.js";

globalThis[kImportingTasks] = true;

const { lane, threads, maxAwake, callPort, resultPort, budgets, strategy, bootstrap } = workerData;
const control = new Int32Array(workerData.control);
const queue = new CallQueue(control, workerData.queue);
const seats = new Seats(control, threads, strategy);
const bell = new HostBell(control);
let loop;
const runner = new Runner(
  new Outbox(new SpscRing(workerData.results), resultPort),
  () => bell.ring(),
  () => loop?.asyncSettled(),
  () => loop?.returned(),
  (handle, serial) => queue.aborted(handle, serial),
  new CallTimes(workerData.stats, workerData.hostTimeOrigin, queue),
);

// The host's messages: an abort of a call this worker runs (its task's signal
// fires). The listener also keeps this worker alive while it sleeps without
// blocking (a pending Atomics.waitAsync does not).
parentPort.on("message", (message) => {
  if (message?.abort !== undefined) runner.abortRunning(message.abort[0], message.abort[1]);
});

runner.maxPayloadBytes = workerData.maxPayloadBytes;
if (workerData.resolveAfterFinishingAll) runner.holdResults();

// The host reads how far a worker got (which module it was importing) if it
// dies or hangs before it is ready.
const stage = (value) => Atomics.store(control, startupIndex(lane), value);


// What this thread's event loop holds before user code runs: ours (see startLoop).
const baseline = process.getActiveResourcesInfo().length;
runBootstrap(bootstrap, lane, threads).then(() => loadTasks(workerData.tasks, (index) => stage(index + 1))).then(
  (tasks) => {
    globalThis[kImportingTasks] = false;
    runner.tasks = tasks;
    loop = startLoop({ lane, queue, seats, bell, callPort, runner, maxAwake, budgets, baseline });
    stage(STARTUP_READY);
    loop.start();
  },
  (error) => {
    const { wire, tagged } = prepareFailure(error, false);
    parentPort.postMessage({ type: "startup-failed", wire, tagged });
  },
);
