// The calls in flight, by handle. A handle is a small integer reused once
// its call settles (a free list), so the table is as large as the most calls
// ever in flight at once, never as large as the number of calls made. Each
// call also gets a serial number, so that a late answer for a handle's
// previous call is recognised and ignored.
//
// Struct of arrays: a call costs its promise and nothing else on the heap
// (its flags, serial and task live in typed arrays; only a call whose value
// waits on the host keeps that value here).

/** Flags of a call. */
export const Flag = Object.freeze({
  /** Its value waits on the host until a worker takes the call (moves or shares memory, or no room). */
  HELD: 1,
  /** The host posted the held value to a worker. */
  DELIVERED: 2,
  /** Its value is serialized bytes (not a primitive). */
  SERIALIZED: 4,
  /** The wire carries tag nodes (decode with tagged = true). */
  TAGGED: 8,
  /** Its value is a string: a long one, or JSON text (with JSON). */
  TEXT: 16,
  /** Its value is the JSON text of the wire. */
  JSON: 32,
  /**
   * Settled early (aborted, past its hard deadline): its handle stays taken
   * until its worker answers (the answer is dropped) or dies, so that a late
   * answer or claim can never touch a newer call.
   */
  SETTLED: 64,
  /** Waiting on the host for room in the queue (not pushed yet). */
  WAITING: 128,
});

export class CallTable {
  /** handle → { promise, resolve, reject } (undefined: free) */
  #resolvers = [];
  #free = [];
  #nextSerial = 0;
  serials = new Int32Array(1024);
  tasks = new Int32Array(1024);
  flags = new Uint8Array(1024);
  /** handle → the value to send, while it waits on the host (queue full, or held) */
  values = [];
  /** handle → the buffers to move with a held value */
  transfers = [];
  /** handle → what to undo when the call settles (an AbortSignal listener) */
  onSettle = [];
  size = 0;
  /** Calls settled so far: fulfilled, and rejected (for any reason: thrown, aborted, past a deadline, worker lost). */
  completed = 0;
  failed = 0;

  /** One more than the highest handle handed out so far. */
  get capacity() {
    return this.#resolvers.length;
  }

  /** Registers a call of task `task`; returns its handle. */
  add(task, flags) {
    const handle = this.#free.length > 0 ? this.#free.pop() : this.#grow();
    this.#resolvers[handle] = Promise.withResolvers();
    this.#nextSerial = (this.#nextSerial + 1) | 0;
    this.serials[handle] = this.#nextSerial;
    this.tasks[handle] = task;
    this.flags[handle] = flags;
    this.size++;
    return handle;
  }

  #grow() {
    const handle = this.#resolvers.length;
    // Grown together and densely: writing far past the end of an array makes
    // V8 switch it to slow dictionary elements.
    this.#resolvers.push(undefined);
    this.values.push(undefined);
    this.transfers.push(undefined);
    this.onSettle.push(undefined);
    if (handle === this.serials.length) {
      for (const name of ["serials", "tasks", "flags"]) {
        const bigger = new this[name].constructor(this[name].length * 2);
        bigger.set(this[name]);
        this[name] = bigger;
      }
    }
    return handle;
  }

  promise(handle) {
    return this.#resolvers[handle].promise;
  }

  /** Whether `handle` is in flight and belongs to the call with `serial`. */
  live(handle, serial) {
    return this.#resolvers[handle] !== undefined && this.serials[handle] === serial;
  }

  /** Whether `handle` is in flight. */
  inFlight(handle) {
    return this.#resolvers[handle] !== undefined;
  }

  /** Settles the call and frees its handle (a call settled early is only freed). */
  settle(handle, ok, value) {
    const { resolve, reject } = this.#resolvers[handle];
    const early = (this.flags[handle] & Flag.SETTLED) !== 0;
    this.delete(handle);
    if (early) return;
    if (ok) {
      this.completed++;
      resolve(value);
    } else {
      this.failed++;
      reject(value);
    }
  }

  /** Settles the call now but keeps its handle taken (Flag.SETTLED) until settle() or delete() frees it. */
  settleEarly(handle, ok, value) {
    if (this.flags[handle] & Flag.SETTLED) return;
    const { resolve, reject } = this.#resolvers[handle];
    this.flags[handle] |= Flag.SETTLED;
    this.values[handle] = undefined;
    this.transfers[handle] = undefined;
    this.#settled(handle);
    if (ok) {
      this.completed++;
      resolve(value);
    } else {
      this.failed++;
      reject(value);
    }
  }

  /** Whether the call already settled (and its handle waits to be freed). */
  settledEarly(handle) {
    return (this.flags[handle] & Flag.SETTLED) !== 0;
  }

  /** Frees the call's handle without settling it. */
  delete(handle) {
    this.#settled(handle);
    this.#resolvers[handle] = undefined;
    this.values[handle] = undefined;
    this.transfers[handle] = undefined;
    this.#free.push(handle);
    this.size--;
  }

  #settled(handle) {
    const undo = this.onSettle[handle];
    if (undo === undefined) return;
    this.onSettle[handle] = undefined;
    undo();
  }

  /** The handles of every call in flight (a snapshot). */
  handles() {
    const handles = [];
    for (let handle = 0; handle < this.#resolvers.length; handle++) if (this.#resolvers[handle] !== undefined) handles.push(handle);
    return handles;
  }
}
