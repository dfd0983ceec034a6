// Call timings a worker has measured but not yet recorded into its lane's
// histograms. Recording costs as much as a small call's own run, so a worker
// only writes each call's (wait, run) pair here before its result leaves, and
// records the pairs into the histograms when it stops taking calls (or when
// this buffer is full). pool.stats() on the host reads the histograms and the
// pairs still here: a caller holding its result finds its call counted,
// exactly once.
//
// No lock. Pairs are numbered from 0 for the lane's whole life and recorded in
// that order, so a histogram's own count says which pairs it holds: pairs
// 0 .. count-1 are in it, pairs count .. written-1 are here. The host reads
// `written`, copies each histogram (one atomic step each), then reads the
// pairs the copies lack. A slot is reused only for the pair SAMPLES later, and
// only once its pair is recorded; the host reads `written` again afterwards
// and retries if a slot it read may have been reused meanwhile. A worker that
// dies mid-record leaves the histograms a pair apart at most; the next worker
// of the lane evens them out and goes on from there, so nothing is lost or
// counted twice, whenever a worker stops.
//
// The worker's busy time (how long it had a call in progress) is a sum of
// microseconds, added atomically each time the worker records.
//
//   int32 [0]  written: pairs ever written (wrapping)
//   int64 at byte 8: busy µs
//   float64 from byte 64: SAMPLES pairs of (wait ns, run ns)
import { createHistogram } from "node:perf_hooks";

const WRITTEN = 0;
const BUSY_AT = 8;
const DATA_AT = 64;
/** Pairs held before they must be recorded (a power of two). */
export const SAMPLES = 512;
/** Host: reads retried while the worker keeps reusing slots under it. */
const SNAPSHOT_ATTEMPTS = 4;

export class CallSamples {
  /** @param {SharedArrayBuffer} [sab] the host's (a worker opens it); omitted: a new one */
  constructor(sab) {
    this.sab = sab ?? new SharedArrayBuffer(DATA_AT + SAMPLES * 16);
    this.i32 = new Int32Array(this.sab, 0, 2);
    this.busyMicros = new BigInt64Array(this.sab, BUSY_AT, 1);
    this.f64 = new Float64Array(this.sab, DATA_AT, SAMPLES * 2);
  }

  // ---- worker side ----

  #written = 0;
  /** Pairs recorded into both histograms (wrapping, as `written`). */
  #recorded = 0;
  /** Busy ms not published yet. */
  #busyMs = 0;

  /**
   * Worker: takes over the buffer, from the lane's previous worker if there
   * was one. If that worker died between a pair's two records, the run of
   * that pair is recorded now; pairs it left unrecorded are recorded by this one.
   */
  open(runTime, waitTime) {
    this.#written = this.i32[WRITTEN];
    if (waitTime.count > runTime.count) runTime.record(this.f64[(runTime.count % SAMPLES) * 2 + 1]);
    this.#recorded = runTime.count | 0;
    return this;
  }

  /**
   * Adds a call's times (nanoseconds). Plain stores: the result that follows
   * (an atomic store into the result ring) publishes them.
   */
  add(waitNs, runNs, runTime, waitTime) {
    const w = this.#written;
    if (((w - this.#recorded) | 0) >= SAMPLES) this.record(runTime, waitTime);
    const at = (w & (SAMPLES - 1)) * 2;
    this.f64[at] = waitNs;
    this.f64[at + 1] = runNs;
    this.#written = (w + 1) | 0;
    this.i32[WRITTEN] = this.#written;
  }

  /** Adds to the busy time (published by the next record()). */
  addBusy(ms) {
    this.#busyMs += ms;
  }

  /** Records the pairs held here into the histograms (wait, then run, pair by pair), and publishes the busy time. */
  record(runTime, waitTime) {
    const end = this.#written;
    const f64 = this.f64;
    for (let r = this.#recorded; r !== end; r = (r + 1) | 0) {
      const at = (r & (SAMPLES - 1)) * 2;
      waitTime.record(f64[at]);
      runTime.record(f64[at + 1]);
    }
    this.#recorded = end;
    if (this.#busyMs >= 0.001) {
      const micros = Math.floor(this.#busyMs * 1000);
      this.#busyMs -= micros / 1000;
      Atomics.add(this.busyMicros, 0, BigInt(micros));
    }
  }

  // ---- host side ----

  /**
   * Host: everything the lane measured: fresh histograms holding what its
   * `times` histograms hold plus the pairs not recorded into them yet, and
   * its busy ms.
   */
  snapshot(times) {
    const i32 = this.i32;
    const f64 = this.f64;
    for (let attempt = 1; ; attempt++) {
      const written = Atomics.load(i32, WRITTEN);
      const run = createHistogram();
      const wait = createHistogram();
      run.add(times.runTime);
      wait.add(times.waitTime);
      // Pairs run.count .. written-1 are not in `run` (and wait.count .. in `wait`).
      const fromRun = run.count | 0;
      const fromWait = wait.count | 0;
      const runs = this.#pending(fromRun, written, 1);
      const waits = this.#pending(fromWait, written, 0);
      const reused = ((Atomics.load(i32, WRITTEN) - Math.min(fromRun, fromWait)) | 0) > SAMPLES;
      if (reused && attempt < SNAPSHOT_ATTEMPTS) continue;
      for (const ns of runs) run.record(ns);
      for (const ns of waits) wait.record(ns);
      return { run, wait, busyMs: Number(Atomics.load(this.busyMicros, 0)) / 1000 };
    }
  }

  /** The values at `offset` (0 wait, 1 run) of pairs from .. to-1 (none if `from` is past `to`). */
  #pending(from, to, offset) {
    const values = [];
    const count = (to - from) | 0;
    for (let i = 0; i < count && i < SAMPLES; i++) values.push(this.f64[(((from + i) | 0) & (SAMPLES - 1)) * 2 + offset]);
    return values;
  }
}
