// The worker's half of pool.stats(): how long each call waited (from
// pool.call to its start) and ran, and how long the worker was busy (had a
// call running or awaiting). The lane's node:perf_hooks histograms are made
// by the host and shared (a histogram cloned to another thread records into
// the same native histogram). Values are nanoseconds.
//
// A call's (wait, run) pair goes into the lane's CallSamples before its
// result leaves, and into the histograms once the worker stops taking calls
// (recording costs about as much as a small call): the result is not delayed
// by recording, and a caller holding its result finds its call counted
// (pool.stats() reads both). Reading the clock costs about as much too, so a
// call run straight after another starts when that one ended: one read per
// call, two for a call after a pause.
import { createHistogram } from "node:perf_hooks";
import { microsBetween, workerMicros } from "../transport/call-clock.js";
import { CallSamples } from "../transport/call-samples.js";

/** A lane's stats, made on the host: its workers (or the inliner) record into them. */
export const laneTimes = () => ({
  runTime: createHistogram(),
  waitTime: createHistogram(),
  samples: new CallSamples().sab,
});

const ns = (ms) => Math.max(1, Math.round(ms * 1e6));

export class CallTimes {
  #times;
  /** @type {CallSamples | undefined} */
  #samples;
  #micros;
  #queue;
  /** How long the call started last waited (ns). */
  wait = 0;
  /**
   * When the synchronous call that just ended ended, while the loop goes
   * straight on to the next call: that call's start.
   */
  #lastEnd = -1;
  /** Calls in progress: async ones awaiting, and the one running. */
  #active = 0;
  /** Start of the busy stretch in progress (-1: idle). */
  #busySince = -1;

  /**
   * @param {ReturnType<typeof laneTimes> | undefined} times undefined: stats are off
   * @param {number} hostTimeOrigin the host's performance.timeOrigin
   * @param {import("../transport/call-queue.js").CallQueue} queue where each call's send time is
   */
  constructor(times, hostTimeOrigin, queue) {
    this.#times = times;
    this.#samples = times === undefined ? undefined : new CallSamples(times.samples).open(times.runTime, times.waitTime);
    this.#micros = workerMicros(hostTimeOrigin);
    this.#queue = queue;
  }

  /**
   * Call `handle` starts. Returns its start time (performance.now(); 0 with
   * stats off), and leaves how long it waited in `wait`.
   */
  started(handle) {
    if (this.#samples === undefined) return 0;
    const sent = this.#queue.sentAt(handle);
    let now = this.#lastEnd;
    this.#lastEnd = -1;
    // The last call's end is this one's start, unless this call was sent
    // after it (while that result was being written): then read the clock.
    if (now < 0 || ((this.#micros(now) - sent) | 0) < 0) now = performance.now();
    this.wait = Math.max(1, microsBetween(sent, this.#micros(now)) * 1000);
    if (this.#active++ === 0 && this.#busySince < 0) this.#busySince = now;
    return now;
  }

  /**
   * The call that started at `start` after waiting `wait` ns ended. `sync`:
   * it returned (the loop may go straight on to the next call); else an
   * async task settled.
   */
  ended(start, wait, sync) {
    const samples = this.#samples;
    if (samples === undefined) return;
    const now = performance.now();
    samples.add(wait, ns(now - start), this.#times.runTime, this.#times.waitTime);
    this.#active--;
    if (sync) this.#lastEnd = now;
    else if (this.#active === 0) {
      this.#idle(now);
      samples.record(this.#times.runTime, this.#times.waitTime);
    }
  }

  /** The loop stopped taking calls (it waits, yields or sleeps): times go into the histograms. */
  interrupted() {
    const samples = this.#samples;
    if (samples === undefined) return;
    const end = this.#lastEnd;
    this.#lastEnd = -1;
    if (end >= 0 && this.#active === 0) this.#idle(end);
    samples.record(this.#times.runTime, this.#times.waitTime);
  }

  #idle(now) {
    if (this.#busySince < 0) return;
    this.#samples.addBusy(now - this.#busySince);
    this.#busySince = -1;
  }

  /** Milliseconds call `handle` has waited since pool.call (for a task timeout counted from then). */
  waitedMs(handle) {
    return microsBetween(this.#queue.sentAt(handle), this.#micros(performance.now())) / 1000;
  }
}
