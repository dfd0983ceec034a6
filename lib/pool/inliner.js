// The inliner lane (createPool option `inliner`): the host thread takes
// calls from the pool's queue and runs them itself, as one more lane. It
// claims exactly as a worker does (so attribution, cancellation and the
// queue's order are the same), in a macrotask of its own, never inside
// pool.call. `position: "last"` takes calls only while no worker is idle;
// `"first"` takes them whenever calls wait. `dispatchThreshold` is how many
// calls must wait before it takes any, `batchSize` how many it takes per turn.
// A task the host cannot run (one from importTask, which only workers import)
// is left to the workers.
//
// A call runs as on a worker: through the worker's own Runner (lib/worker/run.js),
// so the task's `timeout` (counted from pool.call), the abort toolkit of a
// task defined with abortSignal, the codec's checks on results and the release
// of a BufferReference argument are the same on every lane. Its "outbox" is
// this thread: a result is decoded here and settles the call.
import { decode } from "../codec/decode.js";
import { HELD, DROPPED } from "../transport/slot-value.js";
import { CallTimes, laneTimes } from "../worker/call-times.js";
import { Runner } from "../worker/run.js";

export class Inliner {
  #settings;
  #queue;
  #seats;
  /** The tasks as the host can run them, as the Runner takes them: { f, timeout, abortable }, or undefined. */
  #tasks;
  #lane;
  #held;
  #settle;
  #dropped;
  #runner;
  #scheduled = false;
  /** This lane's run and wait times (pool.stats()), recorded as a worker records its own. */
  times;
  openedAt = performance.now();
  #clock;

  /**
   * @param {{ position: "first" | "last", batchSize: number, dispatchThreshold: number }} settings
   * @param {{
   *   queue: import("../transport/call-queue.js").CallQueue, seats: import("../transport/doorbell.js").Seats,
   *   functions: (Function | { f: Function, timeout?: unknown, abortable?: boolean } | undefined)[], lane: number,
   *   held(handle): [unknown, boolean] | undefined, settle(handle, serial, ok, value): void,
   *   dropped(handle, serial): void, stats: boolean,
   * }} pool `functions`: per task, its function, or its task() definition (then its
   *   timeout and abortSignal apply here as on a worker), or undefined (workers only)
   */
  constructor(settings, { queue, seats, functions, lane, held, settle, dropped, stats }) {
    this.times = stats ? laneTimes() : undefined;
    this.#clock = new CallTimes(this.times, performance.timeOrigin, queue);
    this.#dropped = dropped;
    this.#settings = settings;
    this.#queue = queue;
    this.#seats = seats;
    this.#tasks = functions.map(runnable);
    this.#lane = lane;
    this.#held = held;
    this.#settle = settle;
    this.#runner = new Runner(
      { send: this.#answer },
      () => {},
      () => {},
      () => {},
      (handle, serial) => queue.aborted(handle, serial), // hasAborted(): reject(), its signal, a hard deadline
      this.#clock,
    );
    this.#runner.tasks = this.#tasks;
  }

  /** This lane's number (the claims table names it for the calls it runs). */
  get lane() {
    return this.#lane;
  }

  /**
   * The host aborted call (handle, serial), which this lane runs: its task's
   * signal fires, in a microtask (not inside reject() or the AbortSignal's
   * dispatch), as a worker's fires in a turn of its own.
   */
  tellAborted(handle, serial) {
    queueMicrotask(() => this.#runner.abortRunning(handle, serial));
  }

  /** The dispatcher looked: run a batch soon if calls wait that this lane should take. */
  consider() {
    if (this.#scheduled) return;
    const { position, dispatchThreshold } = this.#settings;
    // With no worker, any waiting call is enough: nobody else would run it.
    if (this.#queue.backlog() < (this.#seats.threads === 0 ? 1 : dispatchThreshold)) return;
    if (position === "last" && this.#seats.othersAvailable(this.#lane)) return; // an idle worker, or one between calls, takes them
    this.#scheduled = true;
    setImmediate(this.#runBatch);
  }

  #runBatch = () => {
    this.#scheduled = false;
    // A worker that became idle since takes the calls itself.
    if (this.#settings.position === "last" && this.#seats.othersAvailable(this.#lane)) return;
    let more = true;
    for (let n = 0; n < this.#settings.batchSize && more; n++) more = this.#queue.pop(this.#lane, this.#take, this.#notMine) === true;
    this.#clock.interrupted(); // the run of calls ends: the next one starts when it is taken, as on a worker
    if (more) this.consider(); // more may wait: another batch in the next turn (the host may be asleep by then)
  };

  /** Leaves calls of tasks the host cannot run. */
  #notMine = (taskIndex) => this.#tasks[taskIndex] === undefined;

  #take = (handle, serial, taskIndex, wire, tagged, failure) => {
    if (failure !== undefined) return this.#settle(handle, serial, false, failure);
    if (wire === HELD) {
      if (this.#queue.aborted(handle, serial)) return this.#dropped(handle, serial);
      const held = this.#held(handle); // the value never left this thread
      if (held === undefined) return;
      [wire, tagged] = held;
    }
    this.#runner.run(handle, serial, taskIndex, wire, tagged); // skips a call aborted before it starts
  };

  /**
   * The Runner's result, encoded as a worker's would be (the same values are
   * refused, the same are copied or moved): decoded here, it settles the call.
   */
  #answer = (handle, serial, status, wire, tagged) => {
    if (status === DROPPED) {
      this.#dropped(handle, serial);
      return false;
    }
    let ok = status === 1;
    let outcome;
    try {
      outcome = decode(wire, tagged);
    } catch (error) {
      ok = false;
      outcome = error;
    }
    this.#settle(handle, serial, ok, outcome);
    return false; // nothing to ring: the call has settled
  };
}

/** A task as the Runner runs it. */
function runnable(entry) {
  if (entry === undefined) return undefined;
  if (typeof entry === "function") return { f: entry, timeout: undefined, abortable: false };
  return { f: entry.f, timeout: entry.timeout, abortable: entry.abortable === true };
}
