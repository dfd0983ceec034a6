// The inliner lane (createPool option `inliner`): the host thread takes
// calls from the pool's queue and runs them itself, as one more lane. It
// claims exactly as a worker does (so attribution, cancellation and the
// queue's order are the same), in a macrotask of its own, never inside
// pool.call. `position: "last"` takes calls only while no worker is idle;
// `"first"` takes them whenever calls wait. `dispatchThreshold` is how many
// calls must wait before it takes any, `batchSize` how many it takes per turn.
// A task the host cannot run (one from importTask, which only workers import)
// is left to the workers.
import { decode } from "../codec/decode.js";
import { closeAdopted, collectAdopted } from "../shared-memory/process-shared-buffer.js";
import { prepare } from "../codec/prepare.js";
import { HELD } from "../transport/slot-value.js";
import { CallTimes, laneTimes } from "../worker/call-times.js";

export class Inliner {
  #settings;
  #queue;
  #seats;
  #functions;
  #lane;
  #held;
  #settle;
  #dropped;
  #scheduled = false;
  /** This lane's run and wait times (pool.stats()), recorded as a worker records its own. */
  times;
  openedAt = performance.now();
  #clock;

  /**
   * @param {{ position: "first" | "last", batchSize: number, dispatchThreshold: number }} settings
   * @param {{
   *   queue: import("../transport/call-queue.js").CallQueue, seats: import("../transport/doorbell.js").Seats,
   *   functions: (Function | undefined)[], lane: number,
   *   held(handle): [unknown, boolean] | undefined, settle(handle, serial, ok, value): void,
   *   dropped(handle, serial): void, stats: boolean,
   * }} pool
   */
  constructor(settings, { queue, seats, functions, lane, held, settle, dropped, stats }) {
    this.times = stats ? laneTimes() : undefined;
    this.#clock = new CallTimes(this.times, performance.timeOrigin, queue);
    this.#dropped = dropped;
    this.#settings = settings;
    this.#queue = queue;
    this.#seats = seats;
    this.#functions = functions;
    this.#lane = lane;
    this.#held = held;
    this.#settle = settle;
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
    for (let n = 0; n < this.#settings.batchSize; n++) {
      const popped = this.#queue.pop(this.#lane, this.#take, this.#notMine);
      if (popped !== true) return;
    }
    this.consider(); // more may wait: another batch in the next turn (the host may be asleep by then)
  };

  /** Leaves calls of tasks the host cannot run. */
  #notMine = (taskIndex) => this.#functions[taskIndex] === undefined;

  #take = (handle, serial, taskIndex, wire, tagged, failure) => {
    if (failure !== undefined) return this.#settle(handle, serial, false, failure);
    if (this.#queue.aborted(handle, serial)) return this.#dropped(handle, serial);
    if (wire === HELD) {
      const held = this.#held(handle); // the value never left this thread
      if (held === undefined) return;
      [wire, tagged] = held;
    }
    const start = this.#clock.started(handle);
    const wait = this.#clock.wait;
    let result;
    let received = [];
    try {
      let arg;
      [arg, received] = collectAdopted(() => decode(wire, tagged));
      result = this.#functions[taskIndex](arg);
    } catch (error) {
      return this.#finish(handle, serial, false, error, start, wait, received);
    }
    if (result !== null && typeof result?.then === "function") {
      Promise.resolve(result).then(
        (value) => this.#finish(handle, serial, true, value, start, wait, received),
        (error) => this.#finish(handle, serial, false, error, start, wait, received),
      );
    } else this.#finish(handle, serial, true, result, start, wait, received);
  };

  /** A result goes through the codec as a worker's would: the same values are refused, the same are copied or moved. */
  #finish(handle, serial, ok, value, start, wait, received) {
    this.#clock.ended(start, wait, false); // each call is timed on its own here
    let outcome;
    try {
      const { wire, tagged } = prepare(value, "result");
      outcome = decode(wire, tagged);
    } catch (error) {
      ok = false;
      outcome = error;
    }
    closeAdopted(received); // as a worker does when a call settles
    this.#settle(handle, serial, ok, outcome);
  }
}
