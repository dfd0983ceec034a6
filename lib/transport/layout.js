// The shared-memory layout of the transport, in one place. See
// docs/scheduling.md for the protocol that runs over it.
//
// A pool shares four SharedArrayBuffers with its workers:
//
//   control   queue cursors, the scheduling counters, the host's seat and one
//             seat per worker (each word on its own 64-byte cache line)
//   queue     the CallQueue's slots: every call, host → any worker
//   arena     bytes of serialized calls too large for a slot
//   claims    four int32 per call handle: which call was started, by whom, which was
//             aborted, and when it was sent (growable)
//
// and each worker owns one more, its result ring (worker → host).
//
// A slot (queue and result ring alike) is 128 bytes:
//
//   int32 [0] sequence (queue only)  [1] call handle   [2] call serial
//         [3] task index / ok flag   [4] value kind    [5] byte length
//         [6] arena offset           [7] flags (bit 0: tagged)
//   bytes 32..127: the value: a float64, a string's bytes or serialized bytes

export const SLOT_BYTES = 128;
export const VALUE_AT = 32;
export const VALUE_CAPACITY = SLOT_BYTES - VALUE_AT;

// int32 offsets inside a slot
export const S_SEQ = 0;
export const S_HANDLE = 1;
export const S_SERIAL = 2;
export const S_META = 3;
export const S_KIND = 4;
export const S_LENGTH = 5;
export const S_ARENA = 6;
export const S_FLAGS = 7;

const LINE_INTS = 16; // 64 bytes

// ---- control buffer (int32 indices) ----
export const Q_DEQUEUE = 0 * LINE_INTS; // next queue position workers claim (CAS)
export const Q_STOP = 1 * LINE_INTS; // 1 once the pool shuts down
// Three seat counters share one line: they change together, and whoever
// reads one usually reads another (one line moving between cores, not three).
// C_AWAITING, read by the host on every poll and rarely written, has its own.
export const C_SPINNING = 2 * LINE_INTS; // workers whose seat is SPINNING or CLAIMING
export const C_OPEN = C_SPINNING + 1; // workers whose seat is SPINNING, CLAIMING or OPEN_ASLEEP
export const C_ASLEEP = C_SPINNING + 2; // workers whose seat is OPEN_ASLEEP or ASYNC_ASLEEP
export const C_AWAITING = 5 * LINE_INTS; // workers whose seat is AWAITING, AWAITING_ASYNC or INVITED
export const H_SEAT = 6 * LINE_INTS; // the host's seat: AWAKE or ASLEEP
export const Q_OVERFLOW = 7 * LINE_INTS; // 1 while calls wait on the host for queue room
const SEATS_AT_LINE = 8;
/**
 * Seat of worker `lane` (1-based). On the same line: the call it awaits (a
 * handle), and its eager flag: 1 while it is between two calls in its loop
 * with no async task pending (it is about to look at the queue).
 */
export const seatIndex = (lane) => (SEATS_AT_LINE + lane) * LINE_INTS;
export const wantedIndex = (lane) => seatIndex(lane) + 1;
export const eagerIndex = (lane) => seatIndex(lane) + 2;
/** How far the worker got in starting: 0 begun, n > 0 importing task entry n - 1, STARTUP_READY done. */
export const startupIndex = (lane) => seatIndex(lane) + 3;
export const STARTUP_READY = -1;
export const MAX_THREADS = 256;
export const CONTROL_BYTES = (SEATS_AT_LINE + MAX_THREADS + 1) * LINE_INTS * 4;

// ---- queue and rings ----
export const CALL_QUEUE_SLOTS = 8192;
export const RING_SLOTS = 8192;
export const RING_HEAD = 0; // result ring: next position the host reads
export const RING_TAIL = LINE_INTS; // next position the worker writes
export const RING_SLOTS_AT = 2 * LINE_INTS * 4;

// ---- arena ----
/** Default size of the arena (payload.payloadMaxByteLength); values above a quarter of it wait on the host. */
export const ARENA_BYTES = 8 * 1024 * 1024;

// ---- claims (int32 words: four per handle: started serial, lane, aborted serial, sent at) ----
export const CLAIMS_INITIAL = 16384;
/** Room for 2^24 calls in flight at once; only the part in use is allocated. */
export const CLAIMS_MAX = 1 << 26;
/** What startedBy says of a call no worker started. */
export const NOT_STARTED = 0;
