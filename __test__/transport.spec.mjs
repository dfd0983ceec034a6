// The shared-memory transport pieces on their own, without threads.
import test from "ava";
import { SpscRing } from "../lib/transport/spsc-ring.js";
import { RingBacklog } from "../lib/transport/ring-backlog.js";
import { RING_SLOTS } from "../lib/transport/layout.js";

const drainAll = (ring) => {
  const items = [];
  ring.drain((id, flag, wire) => items.push([id, flag, wire]));
  return items;
};

test("a backlog flush that writes every waiting item says so, so the consumer is woken", (t) => {
  const ring = new SpscRing();
  const backlog = new RingBacklog();
  backlog.push(1, 1, 10);
  backlog.push(2, 0, "no");
  t.true(backlog.flushInto(ring)); // a false here left a parked host waiting forever
  t.is(backlog.size, 0);
  t.deepEqual(drainAll(ring), [
    [1, 1, 10],
    [2, 0, "no"],
  ]);
  t.false(backlog.flushInto(ring), "nothing waiting, nothing written");
});

test("a backlog keeps what the full ring has no room for, in order, until the host drains", (t) => {
  const ring = new SpscRing();
  for (let id = 0; id < RING_SLOTS; id++) t.is(ring.push(id, 1, id), true);
  const backlog = new RingBacklog();
  for (let id = RING_SLOTS; id < RING_SLOTS + 3; id++) backlog.push(id, 1, id);
  t.false(backlog.flushInto(ring));
  t.is(backlog.size, 3);
  t.is(drainAll(ring).length, RING_SLOTS);
  t.true(backlog.flushInto(ring));
  t.is(backlog.size, 0);
  t.deepEqual(
    drainAll(ring).map(([id]) => id),
    [RING_SLOTS, RING_SLOTS + 1, RING_SLOTS + 2],
  );
});
