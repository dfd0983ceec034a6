// The worker's half of pool.stats(): how long each call waited (from
// pool.call to its start) and ran, and how long the worker stayed busy (had a
// call running or awaiting). The lane's node:perf_hooks histograms are made
// by the host and shared (a histogram cloned to another thread records into
// the same native histogram). Values are nanoseconds.
//
// Reading the clock costs about as much as running a small call (measured:
// two reads per call took a fifth off the pool's throughput), so calls that
// run back to back are timed as a group: the clock is read when the group
// starts and when it ends (after at most GROUP calls, or when the loop stops
// taking calls), and each call of the group gets an equal share of its time
// (starts are spaced evenly). Sums, means and utilization stay exact; a call
// alone in its group (one call at a time, any call once calls take ≥ 2 µs,
// any async task) is timed on its own.
//
// A call's times reach the lane's CallSamples before the worker rests, and
// the histograms once it stops taking calls; pool.stats() waits for an open
// group and reads both, so a caller holding a result finds its call counted.
import { createHistogram } from "node:perf_hooks";
import { microsBetween, workerMicros } from "../transport/call-clock.js";
import { CallSamples } from "../transport/call-samples.js";

/** Most calls timed as one group. */
const GROUP = 16;
/** Calls that took at least this long on average (ms) are each timed alone: a clock read is then under ~3% of a call. */
const ALONE_MS = 0.002;

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
  /** The group of calls being timed: when it started (-1: none), and when each member was sent. */
  #groupStart = -1;
  #groupSent = new Int32Array(GROUP);
  #groupSize = 0;
  #groupLimit = GROUP;
  /** Async calls awaiting. */
  #awaiting = 0;
  /** Start of the busy stretch in progress (-1: idle). */
  #busySince = -1;

  /**
   * @param {ReturnType<typeof laneTimes> | undefined} times undefined: stats are off
   * @param {number} hostTimeOrigin the host's performance.timeOrigin
   * @param {import("../transport/call-queue.js").CallQueue} queue where each call's send time is
   */
  constructor(times, hostTimeOrigin, queue) {
    this.#times = times;
    this.#samples = times === undefined ? undefined : new CallSamples(times.samples).open();
    this.#micros = workerMicros(hostTimeOrigin);
    this.#queue = queue;
  }

  /** Call `handle` starts: it joins the group (a full group is closed first). */
  started(handle) {
    if (this.#samples === undefined) return;
    if (this.#groupStart < 0) this.#openGroup(performance.now());
    else if (this.#groupSize === this.#groupLimit) {
      const now = performance.now(); // the group's end, and the next one's start
      this.#closeGroup(now);
      this.#openGroup(now);
    }
    this.#groupSent[this.#groupSize++] = this.#queue.sentAt(handle);
  }

  #openGroup(now) {
    this.#groupStart = now;
    this.#samples.groupOpened();
    if (this.#busySince < 0) this.#busySince = now;
  }

  /**
   * The call that started last returned a promise: the group closes with it
   * (its share is its synchronous part), and it is timed alone until it
   * settles. Returns its start (pass it to asyncEnded).
   */
  becameAsync() {
    if (this.#samples === undefined) return 0;
    this.#awaiting++;
    return this.#closeGroup(performance.now(), true);
  }

  /** An async call (`handle`, started at `start`) settled. */
  asyncEnded(handle, start) {
    if (this.#samples === undefined) return;
    const now = performance.now();
    const wait = microsBetween(this.#queue.sentAt(handle), this.#micros(start));
    this.#samples.add(Math.max(1, wait * 1000), ns(now - start), this.#times.runTime, this.#times.waitTime);
    if (--this.#awaiting === 0 && this.#groupStart < 0) {
      this.#idle(now);
      this.#samples.record(this.#times.runTime, this.#times.waitTime);
    }
  }

  /** The loop stopped taking calls (it waits, yields or sleeps): the group closes, times go into the histograms. */
  interrupted() {
    if (this.#samples === undefined) return;
    if (this.#groupStart >= 0) {
      const now = performance.now();
      this.#closeGroup(now);
      if (this.#awaiting === 0) this.#idle(now);
    }
    this.#samples.record(this.#times.runTime, this.#times.waitTime);
  }

  /**
   * Gives each call of the group an equal share of its time, `end` - start.
   * With `lastIsAsync`, the last member is left to asyncEnded: returns its start.
   */
  #closeGroup(end, lastIsAsync = false) {
    const start = this.#groupStart;
    const size = this.#groupSize;
    const share = (end - start) / size;
    const samples = this.#samples;
    const times = this.#times;
    const recorded = lastIsAsync ? size - 1 : size;
    const shareNs = ns(share);
    for (let i = 0; i < recorded; i++) {
      const wait = microsBetween(this.#groupSent[i], this.#micros(start + i * share));
      samples.add(Math.max(1, wait * 1000), shareNs, times.runTime, times.waitTime);
    }
    this.#groupLimit = share >= ALONE_MS ? 1 : GROUP;
    this.#groupStart = -1;
    this.#groupSize = 0;
    samples.groupClosed();
    return start + (size - 1) * share;
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
