// The worker's scheduling loop on its own, with the host's moves played by
// the test at the worst moments.
import test from "ava";
import { MessageChannel } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { CallQueue, Form, Payload } from "../lib/transport/call-queue.js";
import { Budgets, HostBell, Seat, Seats } from "../lib/transport/doorbell.js";
import { CONTROL_BYTES } from "../lib/transport/layout.js";
import { startLoop } from "../lib/worker/loop.js";

test("a held call handed over just as its worker gives its event loop back runs once, and the worker then sleeps", async (t) => {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  const host = new CallQueue(control);
  const { port1, port2 } = new MessageChannel();
  let moves = 0;
  // The host wins every race: it invites the worker the moment it stops
  // waiting blocking, and delivers the moment it is back.
  class RacingSeats extends Seats {
    move(lane, from, to) {
      const moved = super.move(lane, from, to);
      // A loop that never settles blocks this thread: fail instead of hanging.
      if (++moves > 1000) throw new Error("the worker loop keeps moving its seat: it never settles");
      if (moved && from === Seat.AWAITING && to === Seat.AWAITING_ASYNC) super.move(lane, Seat.AWAITING_ASYNC, Seat.INVITED);
      if (moved && from === Seat.INVITED && to === Seat.AWAITING && super.move(lane, Seat.AWAITING, Seat.TAKEN)) {
        port1.postMessage([5, 1, 0, 42, false, Form.WIRE]);
        this.delivered(lane);
      }
      return moved;
    }
  }
  const seats = new RacingSeats(control, 2);
  host.ensureHandles(16);
  host.push(5, 1, 0, Payload.HELD, undefined, 0);
  const ran = [];
  const runner = {
    asyncPending: 1, // an async task of its own is pending: it waits blocking only briefly
    outbox: { flush: () => false, waiting: 0 },
    run: (handle, serial, task, wire) => ran.push([handle, wire]),
    aborted: () => false,
    times: { interrupted() {} },
    dropped() {},
    post() {},
    flush() {},
  };
  const loop = startLoop({ lane: 1, queue: new CallQueue(control, host.shared), seats, bell: new HostBell(control), callPort: port2, runner, maxAwake: 1, budgets: Budgets, baseline: process.getActiveResourcesInfo().length });
  loop.start(); // returns: the worker waits without blocking
  await sleep(50);
  t.deepEqual(ran, [[5, 42]], "the call ran exactly once");
  t.is(seats.state(1), Seat.ASYNC_ASLEEP, "then it sleeps (its async task is still pending)");
  t.true(moves < 20, `the loop settled (${moves} seat moves)`);
  port1.close();
});
