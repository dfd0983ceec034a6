// Call timings a worker has measured but not yet recorded into its lane's
// histograms. Recording costs as much as a small call's own run, so a worker
// only writes each call's (wait, run) pair here before its result leaves, and
// records the pairs into the histograms when it stops taking calls (or when
// this buffer is full). pool.stats() on the host reads the histograms and the
// pairs still here, consistently: a caller holding its result finds its call
// counted, exactly once.
//
// Consistency is a sequence lock: the worker makes `seq` odd while it moves
// pairs into the histograms and even again after; the host reads everything,
// then checks that `seq` is the same even number as before, else reads again.
// The worker overwrites a pair only after it was recorded (that changes seq).
// The worker's busy time (ms it had a call in progress) is a sum, published
// with each record, under the same lock.
//
//   int32 [0] written   pairs ever written (wrapping), [1] recorded, [2] seq
//   float64 at byte 32: busy ms
//   float64 from byte 64: SAMPLES pairs of (wait ns, run ns)
import { createHistogram } from "node:perf_hooks";

const WRITTEN = 0;
const RECORDED = 1;
const SEQ = 2;
const BUSY_AT = 32;
const DATA_AT = 64;
/** Pairs held before they must be recorded. */
export const SAMPLES = 512;
/** Host: how long a snapshot is retried before it settles for the histograms alone (a worker stopped mid-record). */
const SNAPSHOT_MS = 5;

export class CallSamples {
  /** @param {SharedArrayBuffer} [sab] the host's (a worker opens it); omitted: a new one */
  constructor(sab) {
    this.sab = sab ?? new SharedArrayBuffer(DATA_AT + SAMPLES * 16);
    this.i32 = new Int32Array(this.sab, 0, DATA_AT / 4);
    this.f64 = new Float64Array(this.sab, DATA_AT, SAMPLES * 2);
    this.busy = new Float64Array(this.sab, BUSY_AT, 1);
  }

  // ---- worker side ----

  #written = 0;
  #recorded = 0;
  /** Busy ms not published yet. */
  #busyMs = 0;

  /**
   * Worker: takes over the buffer (from the lane's previous worker, if it
   * died). Pairs it left are recorded by this one; if it died while recording
   * them, they are dropped (some may be in the histograms already).
   */
  open() {
    const i32 = this.i32;
    this.#written = i32[WRITTEN];
    this.#recorded = Atomics.load(i32, RECORDED);
    if (Atomics.load(i32, SEQ) & 1) {
      this.#recorded = this.#written;
      Atomics.store(i32, RECORDED, this.#written);
      Atomics.add(i32, SEQ, 1);
    }
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

  /** Records the pairs held here into the histograms, and publishes the busy time. */
  record(runTime, waitTime) {
    const end = this.#written;
    let r = this.#recorded;
    if (r === end && this.#busyMs === 0) return;
    const i32 = this.i32;
    const f64 = this.f64;
    Atomics.add(i32, SEQ, 1); // odd: recording
    this.busy[0] += this.#busyMs;
    this.#busyMs = 0;
    for (; r !== end; r = (r + 1) | 0) {
      const at = (r & (SAMPLES - 1)) * 2;
      waitTime.record(f64[at]);
      runTime.record(f64[at + 1]);
    }
    this.#recorded = end;
    Atomics.store(i32, RECORDED, end);
    Atomics.add(i32, SEQ, 1); // even: done
  }

  // ---- host side ----

  /**
   * Host: everything the lane measured: fresh histograms of what its `times`
   * histograms hold and the pairs not recorded into them yet, and its busy ms.
   */
  snapshot(times) {
    const i32 = this.i32;
    const f64 = this.f64;
    const giveUpAt = performance.now() + SNAPSHOT_MS;
    for (;;) {
      const seq = Atomics.load(i32, SEQ);
      if ((seq & 1) === 0) {
        const recorded = Atomics.load(i32, RECORDED);
        const written = Atomics.load(i32, WRITTEN);
        const pending = [];
        for (let r = recorded; r !== written && pending.length < SAMPLES * 2; r = (r + 1) | 0) {
          const at = (r & (SAMPLES - 1)) * 2;
          pending.push(f64[at], f64[at + 1]);
        }
        const run = createHistogram();
        const wait = createHistogram();
        run.add(times.runTime);
        wait.add(times.waitTime);
        const busyMs = this.busy[0];
        if (Atomics.load(i32, SEQ) === seq) {
          for (let i = 0; i < pending.length; i += 2) {
            wait.record(pending[i]);
            run.record(pending[i + 1]);
          }
          return { run, wait, busyMs };
        }
      }
      // The worker was recording: read again (a worker stopped mid-record
      // leaves only its histograms to read).
      if (performance.now() > giveUpAt) {
        const run = createHistogram();
        const wait = createHistogram();
        run.add(times.runTime);
        wait.add(times.waitTime);
        return { run, wait, busyMs: this.busy[0] };
      }
    }
  }
}
