// The shared-memory layout of the transport, in one place.
//
// A pool owns one CallQueue (host → any worker) and each worker owns two
// SpscRings (its results → host; calls addressed to it alone ← host). Both are arrays of fixed 128-byte slots in
// a SharedArrayBuffer, after a control area whose words sit on their own
// 64-byte cache lines. A slot holds one call or result:
//
//   int32 [0] sequence (CallQueue only)   [1] call id   [2] task index / ok flag
//         [3] value kind                  [4] byte length of the value's bytes
//   f64 at byte 16: a number value;  bytes 24..127: string or serialized bytes
//
// Values that do not fit a slot (or that move ArrayBuffers) travel through a
// MessagePort of the worker's, announced by a PORT item; see spsc-ring.js.

export const SLOT_BYTES = 128;
export const VALUE_BYTES_AT = 24;
export const VALUE_CAPACITY = SLOT_BYTES - VALUE_BYTES_AT;

// int32 offsets inside a slot
export const S_SEQ = 0;
export const S_ID = 1;
export const S_META = 2;
export const S_KIND = 3;
export const S_LENGTH = 4;

const LINE_INTS = 16; // 64 bytes
const CONTROL_BYTES = 8 * 64;

// CallQueue control words (int32 index)
export const Q_DEQUEUE = 0 * LINE_INTS; // next position workers claim (CAS)
export const Q_PARKED = 2 * LINE_INTS; // workers parked (each on its own request ring's bell)
export const Q_HOST_BELL = 3 * LINE_INTS; // bumped by workers to wake the host
export const Q_HOST_PARKED = 4 * LINE_INTS; // 1 while the host waits on Q_HOST_BELL
export const Q_STOP = 5 * LINE_INTS; // 1 once the pool shuts down
export const Q_SPINNING = 6 * LINE_INTS; // workers spinning for calls right now

// SpscRing control words
export const R_HEAD = 0 * LINE_INTS; // next position the consumer reads
export const R_TAIL = 1 * LINE_INTS; // next position the producer writes
export const R_PARKED = 2 * LINE_INTS; // 1 while the consumer waits on R_BELL
export const R_BELL = 3 * LINE_INTS; // bumped by the producer to wake it

export const CALL_QUEUE_SLOTS = 8192;
export const RING_SLOTS = 8192;

/**
 * Owner table: which worker claimed the call with id & OWNER_MASK, so the
 * calls a dying worker was running can be rejected. Exact while fewer than
 * OWNER_SLOTS claimed calls are still running at once (async tasks); 4 MiB of
 * shared memory, of which only the pages in use become resident.
 */
export const OWNER_SLOTS = 1 << 20;
export const OWNER_MASK = OWNER_SLOTS - 1;

export function callQueueBytes() {
  return CONTROL_BYTES + CALL_QUEUE_SLOTS * SLOT_BYTES + OWNER_SLOTS * 4;
}
export function ringBytes() {
  return CONTROL_BYTES + RING_SLOTS * SLOT_BYTES;
}
export const SLOTS_AT = CONTROL_BYTES;
export const OWNERS_AT = CONTROL_BYTES + CALL_QUEUE_SLOTS * SLOT_BYTES;
