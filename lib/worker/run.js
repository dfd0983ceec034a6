// Runs one call on the worker and sends its result: decode the argument, call
// the task, settle (with the task's timeout for a promise), encode the result
// and hand it to the outbox. A BufferReference the task received is released
// when the task settles, unless it returned it; the ProcessSharedBuffer
// mappings it received are closed once the result is encoded, before it leaves.
import { decode } from "../codec/decode.js";
import { closeAdopted, collectAdopted } from "../shared-memory/process-shared-buffer.js";
import { prepare } from "../codec/prepare.js";
import { Errors } from "../errors.js";
import { isEnvelope } from "../envelope.js";
import { isBufferReference } from "../buffer-reference/buffer-reference.js";
import { timeoutDelay } from "../pool/options.js";
import { payloadBytes } from "../codec/payload-size.js";
import { DROPPED } from "../transport/slot-value.js";
import { setLongTimeout } from "../timers.js";

const NO_TRANSFER = Object.freeze([]);

export class Runner {
  /** @type {{ f: Function, timeout: unknown, abortable: boolean }[]} */
  tasks = [];
  /** Abort toolkits of the abort-aware calls running, by handle. */
  #toolkits = new Map();
  /** Tasks that returned a promise that has not settled yet. */
  asyncPending = 0;
  /** payload.maxPayloadBytes, for results (undefined: no cap). */
  maxPayloadBytes = undefined;
  /** In a process worker: results are encoded for another process (see encode()). */
  acrossProcesses = false;
  /** worker.resolveAfterFinishingAll: results wait here until the worker's run of calls ends (flush()). */
  #held = null;

  /**
   * @param {import("../transport/outbox.js").Outbox} outbox
   * @param {() => void} sent called after a result reached the ring (ring the host)
   * @param {() => void} asyncSettled called after an async task settled
   * @param {() => void} returned called when a task returned, before its result is sent
   * @param {(handle: number, serial: number) => boolean} aborted whether the host aborted a call
   * @param {import("./call-times.js").CallTimes} times records how long calls wait and run (pool.stats())
   */
  constructor(outbox, sent, asyncSettled, returned, aborted, times) {
    this.times = times;
    this.outbox = outbox;
    this.sent = sent;
    this.asyncSettled = asyncSettled;
    this.returned = returned;
    this.aborted = aborted;
  }

  /** Skips a call the host aborted before it ran, and tells the host its handle is free. */
  dropped(handle, serial) {
    if (this.outbox.send(handle, serial, DROPPED, undefined, false, false, NO_TRANSFER)) this.sent();
  }

  /** The host aborted call (handle, serial) while it runs: fire its task's signal. */
  abortRunning(handle, serial) {
    this.#toolkits.get(handle)?.abort(serial);
  }

  /** Runs call (handle, serial) of task `index` with the argument `wire` (decoded here). */
  run(handle, serial, index, wire, tagged) {
    if (this.aborted(handle, serial)) return this.dropped(handle, serial);
    const start = this.times.started(handle);
    const wait = this.times.wait;
    let arg;
    let received = NONE_RECEIVED;
    try {
      if (tagged) [arg, received] = collectAdopted(() => decode(wire, tagged));
      else arg = wire;
    } catch (error) {
      this.times.ended(start, wait, true);
      this.post(handle, serial, false, error?.code === undefined ? Errors.corruptPayload(error?.message ?? String(error), error) : error);
      return;
    }
    const { f, timeout, abortable } = this.tasks[index];
    let toolkit;
    let result;
    try {
      if (abortable) {
        toolkit = new AbortToolkit(this, handle, serial);
        this.#toolkits.set(handle, toolkit);
        result = invokeTaskWith(f, arg, toolkit);
      } else result = invokeTask(f, arg);
    } catch (error) {
      if (toolkit !== undefined) this.#toolkits.delete(handle);
      this.times.ended(start, wait, true);
      this.returned();
      this.post(handle, serial, false, error, received);
      releaseInput(arg);
      return;
    }
    if (result !== null && typeof result?.then === "function") {
      this.asyncPending++;
      this.returned();
      // The timeout counts from pool.call: time spent waiting for a worker is part of it.
      const waited = timeout === undefined ? 0 : this.times.waitedMs(handle);
      settleWithTimeout(Promise.resolve(result), timeout, waited).then(
        (value) => this.#settled(handle, serial, true, value, arg, received, toolkit, start, wait),
        (error) => this.#settled(handle, serial, false, error, arg, received, toolkit, start, wait),
      );
      return;
    }
    if (toolkit !== undefined) this.#toolkits.delete(handle);
    this.times.ended(start, wait, true);
    this.returned();
    this.post(handle, serial, true, result, received);
    releaseInput(arg);
  }

  /**
   * An async task settled. The worker says it is free (if it now is) before
   * the result leaves, so that whatever the host does on seeing the result
   * already sees this worker available.
   */
  #settled(handle, serial, ok, value, arg, received, toolkit, start, wait) {
    if (toolkit !== undefined && this.#toolkits.get(handle) === toolkit) this.#toolkits.delete(handle);
    this.times.ended(start, wait, false);
    this.asyncPending--;
    this.asyncSettled();
    this.#send(handle, serial, ok, value, received);
    releaseInput(arg);
  }

  /** Holds results until flush() (worker.resolveAfterFinishingAll). */
  holdResults() {
    this.#held = [];
  }

  /** Sends the results held back (the worker ran out of calls, or yields). */
  flush() {
    const held = this.#held;
    if (held === null || held.length === 0) return;
    this.#held = [];
    for (let i = 0; i < held.length; i += 5) this.#send(held[i], held[i + 1], held[i + 2], held[i + 3], held[i + 4]);
  }

  /**
   * Sends the value (ok) or reason of a call the loop is running (held with
   * resolveAfterFinishingAll). `received`: the shared-memory mappings the call
   * brought, closed once the result is encoded and before it leaves (after
   * that the host may stop this worker at any moment).
   */
  post(handle, serial, ok, value, received = NONE_RECEIVED) {
    if (this.#held !== null) this.#held.push(handle, serial, ok, value, received);
    else this.#send(handle, serial, ok, value, received);
  }

  #send(handle, serial, ok, value, received) {
    let prepared;
    try {
      prepared = prepare(value, "result", this.acrossProcesses);
      const cap = this.maxPayloadBytes;
      if (cap !== undefined) {
        const size = payloadBytes(prepared.wire, prepared.json, prepared.copied, prepared.transfer, prepared.shared);
        if (size > cap) throw Errors.payloadTooLarge("result", cap, size);
      }
    } catch (error) {
      ok = false; // an unsupported result rejects its call, with the reason
      prepared = prepareFailure(error, this.acrossProcesses);
    }
    if (received.length > 0) closeAdopted(received);
    let { wire, tagged, json, transfer } = prepared;
    let written;
    try {
      written = this.outbox.send(handle, serial, ok ? 1 : 0, wire, tagged, json, transfer);
    } catch (cause) {
      // The engine refused what the checks passed (a getter detached a buffer
      // after it was copied, say): that call rejects, nothing was written.
      ({ wire, tagged, json, transfer } = prepareFailure(Errors.uncloneable(cause), this.acrossProcesses));
      written = this.outbox.send(handle, serial, 0, wire, tagged, json, transfer);
    }
    if (written) this.sent();
  }
}

/**
 * Why a call failed, ready to send: the thrown value itself when it can
 * travel; else why it cannot (a getter of the result threw a function, say);
 * else a fixed error. Never throws.
 */
export function prepareFailure(error, acrossProcesses) {
  try {
    return prepare(error, "result", acrossProcesses);
  } catch (cause) {
    try {
      return prepare(cause, "result", acrossProcesses);
    } catch {
      return prepare(Errors.unsendableFailure(), "result", acrossProcesses);
    }
  }
}

/**
 * The one call site of every task. V8 is made to see it as megamorphic before
 * the first task runs, so it never inlines a task into the dispatch loop.
 * Inlined there, a task's own loop runs inside the dispatch loop's Maglev code:
 * it cannot tier up to Turbofan on its own (OSR does not enter inlined loops)
 * and, once the isolate has detached an ArrayBuffer (every worker that moves
 * bytes has), Maglev calls the TypedArray length getter on every iteration.
 * Measured here (perf, npm run bench:references (a)): a task inverting 1 MiB
 * took 9.8 ms per call inlined and 2.2 ms called from here, where it tiers up
 * on its own as it would on the main thread.
 */
function invokeTask(f, arg) {
  return f(arg);
}
/** The call site of tasks defined with abortSignal: their second argument is the abort toolkit. */
function invokeTaskWith(f, arg, toolkit) {
  return f(arg, toolkit);
}
// Distinct functions (not closures of one), called often enough for V8 to
// allocate the feedback vector and record the sites as megamorphic, which is final.
{
  const primers = [() => 0, () => 1, () => 2];
  for (let i = 0; i < 60; i++) {
    invokeTask(primers[i % 3], i);
    invokeTaskWith(primers[i % 3], i, undefined);
  }
}

/**
 * The second argument of a task defined with abortSignal: hasAborted() (the
 * host aborted the call: cancelled, or its promise's reject() was called),
 * now() (monotonic ms), and a standard AbortSignal that fires then (it needs
 * the worker's event loop: a synchronous task polls hasAborted()).
 */
class AbortToolkit {
  #runner;
  #handle;
  #serial;
  #controller;

  constructor(runner, handle, serial) {
    this.#runner = runner;
    this.#handle = handle;
    this.#serial = serial;
    // Own arrow functions, so tasks may destructure them: `({ hasAborted }) => ...`.
    /** Whether the caller aborted this call. */
    this.hasAborted = () => this.#runner.aborted(this.#handle, this.#serial);
    /** performance.now(), for tasks that budget their own time. */
    this.now = () => performance.now();
    Object.defineProperty(this, "signal", {
      enumerable: true,
      get: () => {
        if (this.#controller === undefined) {
          this.#controller = new AbortController();
          if (this.hasAborted()) this.#controller.abort(abortReason());
        }
        return this.#controller.signal;
      },
    });
  }

  /** The host aborted call `serial` (if it is this one). */
  abort(serial) {
    if (serial === this.#serial) this.#controller?.abort(abortReason());
  }
}

function abortReason() {
  return new DOMException("The call was aborted by its caller.", "AbortError");
}

const NONE_RECEIVED = Object.freeze([]);

/** Ends the call's use of a BufferReference it received, unless it was returned. */
function releaseInput(arg) {
  const ref = isEnvelope(arg) ? arg.payload : arg;
  if (isBufferReference(ref)) ref.release();
}

/**
 * The task's promise, or the timeout's outcome if it fires first (see
 * validateTimeout). The call already `waited` ms of its time before it started.
 */
function settleWithTimeout(promise, timeout, waited) {
  const time = timeoutDelay(timeout);
  if (time === undefined) return promise;
  let cancel;
  const timer = new Promise((resolve, reject) => {
    cancel = setLongTimeout(() => {
      if (typeof timeout === "object" && "default" in timeout) resolve(timeout.default);
      else if (typeof timeout === "object" && timeout.maybe === true) resolve(undefined);
      else if (typeof timeout === "object" && "error" in timeout) reject(timeout.error);
      else reject(Errors.taskTimeout(time));
    }, Math.max(0, time - waited));
  });
  return Promise.race([promise, timer]).finally(cancel);
}
