// A worker's side of scheduling (docs/scheduling.md): claim calls from the
// pool's queue and run them; wake a sleeping peer when calls are left behind;
// leave calls to an idle peer while async tasks of its own are pending; when
// out of work, spin briefly, then sleep on its seat (blocking when nothing
// needs its event loop, which wakes fastest; else without blocking).
import { receiveMessageOnPort } from "node:worker_threads";
import { Seat, Seats } from "../transport/doorbell.js";
import { HELD } from "../transport/slot-value.js";
import { DECLINED, Form } from "../transport/call-queue.js";
import { deserialize } from "../codec/serialize.js";
import { Errors } from "../errors.js";

const { STARTING, BUSY, SPINNING, CLAIMING, OPEN_ASLEEP, ASYNC_ASLEEP, AWAITING, AWAITING_ASYNC, INVITED, TAKEN, DELIVERED } = Seat;

/** Longest stretch of calls run before yielding to the event loop (async tasks' callbacks, timers). */
const SLICE_MS = 2;

/**
 * @param {{
 *   lane: number, queue: import("../transport/call-queue.js").CallQueue,
 *   seats: import("../transport/doorbell.js").Seats, bell: import("../transport/doorbell.js").HostBell,
 *   callPort: MessagePort, runner: import("./run.js").Runner, maxAwake: number,
 *   budgets: typeof import("../transport/doorbell.js").Budgets,
 *   baseline: number,
 * }} context (baseline: process.getActiveResourcesInfo().length before the task modules loaded)
 * @returns {{ start(): void, asyncSettled(): void, returned(): void }}
 */
export function startLoop({ lane, queue, seats, bell, callPort, runner, maxAwake, budgets, baseline }) {
  const pause = Seats.pauseFor(budgets);
  // `baseline`: what was active on this thread's event loop before the task
  // modules loaded: ours. More than that means timers or I/O a task module or
  // a task left behind, which must keep running, so the worker then sleeps
  // without blocking.
  let scheduled = false;
  /** Waiting, without blocking, for the host to hand over a held call: the loop resumes when invited. */
  let suspended = false;
  /** The seat is CLAIMING: still counted idle until the next claim (so peers leave the call to us). */
  let claiming = false;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(work);
  };

  const userResources = () => process.getActiveResourcesInfo().length > baseline;
  /** With async tasks pending: whether to leave waiting calls to others (see runCalls). */
  const othersAvailable = () => seats.othersAvailable(lane);
  /** Whether this worker would take a waiting call now (see runCalls). */
  const wouldTake = () => queue.hasCalls() && !(runner.asyncPending > 0 && othersAvailable());
  /** When this worker last ran out of calls, and how long that idle stretch lasted. */
  let idleSince = 0;
  let lastIdleMs = 0;
  /** The eager flag as last published (see layout.js). */
  let eager = false;
  const setEager = (value) => {
    if (eager !== value) seats.setEager(lane, (eager = value));
  };

  // ---- running calls ----

  function work() {
    scheduled = false;
    for (;;) {
      if (queue.stopped || suspended) return;
      const outOfCalls = runCalls();
      runner.times.interrupted();
      runner.flush(); // results held back until the run ends (worker.resolveAfterFinishingAll)
      if (!outOfCalls) return;
      if (runner.outbox.waiting > 0) return schedule(); // the host is draining; try again soon
      if (!idle()) return;
    }
  }

  /** Claims and runs calls. Returns true when none is left for this worker, false when it yielded or suspended. */
  function runCalls() {
    let sliceEnd = 0; // the slice's clock starts at the 16th call (performance.now() costs ~30 ns)
    let ran = 0;
    for (;;) {
      if (queue.stopped) return false; // shut down: calls still queued were rejected
      if (runner.outbox.flush()) bell.ring();
      // With async tasks pending, a call taken now could hold their results
      // back (a synchronous task blocks this event loop): leave it to a peer
      // that is idle or between calls with nothing pending, and make sure an
      // idle one is awake.
      const reluctant = runner.asyncPending > 0;
      setEager(!reluctant);
      const popped = queue.pop(lane, take, reluctant ? othersAvailable : null);
      if (popped === DECLINED) {
        setEager(false);
        if (seats.spinning === 0) seats.wakeOne(true);
        return true;
      }
      // Out of calls. The seat stays as it is (eager, or CLAIMING) until
      // idle() has moved it to an idle state: at every moment a worker with
      // nothing pending counts as eager or idle, never as busy.
      if (!popped) return true;
      if (suspended) return false;
      if ((++ran & 15) === 0) {
        const now = performance.now();
        if (sliceEnd === 0) sliceEnd = now + SLICE_MS;
        else if (now > sliceEnd) {
          schedule();
          return false;
        }
      }
    }
  }

  /** CLAIMING → BUSY, once the claim that made the seat CLAIMING was made. */
  function claimed() {
    claiming = false;
    seats.move(lane, CLAIMING, BUSY);
  }

  /** Before running a call: calls left in the queue must not wait for this one. */
  function beforeRun() {
    setEager(false);
    if (claiming) claimed();
    if (seats.asleep > 0 && seats.spinning === 0 && queue.hasCalls()) seats.wakeOne();
    if (queue.overflowing) bell.ring(); // the host has calls waiting for queue room
  }

  /** A call claimed from the queue (see CallQueue.pop). */
  function take(handle, serial, taskIndex, wire, tagged, failure) {
    beforeRun();
    if (failure !== undefined) runner.post(handle, serial, false, failure);
    else if (wire === HELD) {
      if (runner.aborted(handle, serial)) runner.dropped(handle, serial); // aborted: no need to fetch its value
      else awaitHeld(handle);
    } else runner.run(handle, serial, taskIndex, wire, tagged);
  }

  /** A call the host posted to this worker's port (its seat is DELIVERED). */
  function runDelivered() {
    const [handle, serial, taskIndex, payload, tagged, form] = receiveMessageOnPort(callPort).message;
    seats.move(lane, DELIVERED, BUSY);
    if (handle < 0) return; // the host could not hand the call over after all (it settled it)
    beforeRun();
    let wire = payload;
    if (form !== Form.WIRE) {
      try {
        wire = form === Form.SERIALIZED ? deserialize(payload) : JSON.parse(payload);
      } catch (error) {
        return runner.post(handle, serial, false, Errors.corruptPayload(error?.message ?? String(error), error));
      }
    }
    runner.run(handle, serial, taskIndex, wire, tagged);
  }

  // ---- a claimed call whose value waits on the host ----

  function awaitHeld(handle) {
    runner.times.interrupted(); // the call starts once delivered
    seats.setWanted(lane, handle);
    seats.move(lane, BUSY, AWAITING);
    bell.ring();
    waitForDelivery();
  }

  /**
   * Waits in AWAITING for the host to deliver the wanted call, then runs it.
   * Blocking keeps user code from running meanwhile, so the worker cannot die
   * holding a call it never started; with async work of its own pending it
   * blocks only deliveryWaitMs at a time, then gives its event loop back
   * (AWAITING_ASYNC) until the host invites it. Returns false when suspended.
   */
  function waitForDelivery() {
    for (;;) {
      let state = spinWhile(AWAITING);
      if (state === AWAITING) state = seats.sleep(lane, AWAITING, runner.asyncPending > 0 || userResources() ? budgets.deliveryWaitMs : Infinity);
      if (state === TAKEN) state = seats.sleep(lane, TAKEN);
      if (state === DELIVERED) {
        runDelivered();
        return true;
      }
      if (queue.stopped) return false;
      if (state === AWAITING && seats.move(lane, AWAITING, AWAITING_ASYNC)) {
        suspended = true;
        untilInvited();
        return false;
      }
    }
  }

  /** In AWAITING_ASYNC: the event loop runs; once the host invites (INVITED), wait for the call again. */
  function untilInvited() {
    seats.sleepAsync(lane, AWAITING_ASYNC, (state) => {
      if (queue.stopped) return;
      if (state === AWAITING_ASYNC) return untilInvited(); // not for us (shutdown wakes everybody)
      seats.move(lane, INVITED, AWAITING);
      suspended = false;
      bell.ring();
      if (waitForDelivery()) work();
    });
  }

  /** Spins up to workerSpinMs while the seat holds `state`; returns the state it holds then. */
  function spinWhile(state) {
    const end = performance.now() + budgets.workerSpinMs;
    let now = state;
    do {
      for (let i = 0; i < 64; i++) {
        now = seats.state(lane);
        if (now !== state) return now;
        pause();
      }
    } while (performance.now() < end);
    return now;
  }

  // ---- out of work ----

  /** Spins, then sleeps. Returns true when there is work again (loop on), false when it went to sleep without blocking. */
  function idle() {
    // From CLAIMING (a claim that found nothing) straight to an idle state:
    // passing through BUSY would count this worker busy for a moment, and a
    // peer with async work would take a call meant for an idle worker.
    const from = claiming ? CLAIMING : BUSY;
    claiming = false;
    idleSince = performance.now();
    // (A CLAIMING seat counts itself among the spinners: leave it out.)
    const spin = budgets.workerSpinMs > 0 && lastIdleMs < budgets.spinAfterIdleMs && runner.asyncPending === 0 && seats.maySpin(lane, maxAwake + (from === CLAIMING ? 1 : 0));
    if (spin && seats.move(lane, from, SPINNING)) {
      setEager(false);
      const end = idleSince + budgets.workerSpinMs;
      do {
        for (let i = 0; i < 64; i++) {
          if (queue.hasCalls() || queue.stopped) {
            lastIdleMs = 0; // work within the spin: a short idle stretch
            return toClaiming(SPINNING);
          }
          if (seats.state(lane) !== SPINNING) {
            lastIdleMs = 0;
            return taken();
          }
          pause();
        }
      } while (performance.now() < end);
      return sleep(SPINNING);
    }
    return sleep(from);
  }

  /** Back to BUSY from `from`; if the host took the seat first, run what it delivered. */
  function leave(from) {
    return seats.move(lane, from, BUSY) || taken();
  }

  /** From an idle state to CLAIMING (a call is waiting); if the host took the seat first, run what it delivered. */
  function toClaiming(from) {
    if (!seats.move(lane, from, CLAIMING)) return taken();
    claiming = true;
    return true;
  }

  /** The seat left an idle state without us: woken (CLAIMING, BUSY) or a delivery (TAKEN, DELIVERED). */
  function taken() {
    let state = seats.state(lane);
    if (state === CLAIMING) claiming = true;
    if (state === TAKEN) state = seats.sleep(lane, TAKEN);
    if (state === DELIVERED) runDelivered();
    return true;
  }

  function sleep(from) {
    if (runner.asyncPending === 0 && !userResources()) {
      // Nothing needs this event loop: block, which wakes fastest.
      if (!seats.move(lane, from, OPEN_ASLEEP)) return taken();
      setEager(false);
      if (queue.hasCalls() || queue.stopped) return toClaiming(OPEN_ASLEEP);
      const state = seats.sleep(lane, OPEN_ASLEEP, budgets.parkMs);
      lastIdleMs = performance.now() - idleSince;
      if (state === OPEN_ASLEEP && budgets.parkMs !== Infinity && !queue.hasCalls() && !queue.stopped) {
        // A bounded park (worker.timers.parkMs) ran out: give the event loop a turn, then sleep again.
        if (!seats.move(lane, OPEN_ASLEEP, BUSY)) return taken();
        schedule();
        return false;
      }
      return state === OPEN_ASLEEP ? toClaiming(OPEN_ASLEEP) : taken();
    }
    if (!seats.move(lane, from, ASYNC_ASLEEP)) return taken();
    setEager(false);
    if (wouldTake() || queue.stopped) return leave(ASYNC_ASLEEP);
    seats.sleepAsync(lane, ASYNC_ASLEEP, (state) => {
      if (state === ASYNC_ASLEEP) seats.move(lane, ASYNC_ASLEEP, BUSY);
      lastIdleMs = performance.now() - idleSince;
      work();
    });
    return false;
  }

  return {
    /** Starts the loop (after the caller has these hooks in hand: work() may never return). */
    start() {
      seats.move(lane, STARTING, BUSY);
      work();
    },
    /**
     * An async task settled (this runs between macrotasks: the loop is not
     * on the stack). With none left, the worker is between calls again (eager)
     * as soon as its loop runs, which waking it makes happen: say so first,
     * so a peer with async work leaves calls to it meanwhile.
     */
    asyncSettled() {
      const state = seats.state(lane);
      if (runner.asyncPending === 0 && (state === ASYNC_ASLEEP || state === BUSY)) setEager(true);
      seats.move(lane, ASYNC_ASLEEP, BUSY); // wakes the waitAsync above, which resumes work()
    },
    /**
     * A task returned and its result is about to be sent: from now on this
     * worker is between calls. Said before the result leaves, so that whatever
     * the host does on seeing the result already sees this worker available.
     */
    returned() {
      setEager(runner.asyncPending === 0);
    },
  };
}
