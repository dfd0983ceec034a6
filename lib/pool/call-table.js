// The calls in flight, by id. Ids are handed out in sequence, so an array
// indexed by the low bits of the id is a perfect hash while fewer calls than
// its length are in flight; it doubles when a slot is still taken. Cheaper
// than a Map on the hot path (no hashing, no rehash of 100k-entry tables).

export class CallTable {
  #slots = new Array(1024).fill(undefined);
  #mask = 1023;
  size = 0;

  /** `call` must have an `id` field equal to `id`. */
  set(id, call) {
    while (this.#slots[id & this.#mask] !== undefined) this.#grow();
    this.#slots[id & this.#mask] = call;
    this.size++;
  }

  get(id) {
    const call = this.#slots[id & this.#mask];
    return call !== undefined && call.id === id ? call : undefined;
  }

  has(id) {
    return this.get(id) !== undefined;
  }

  delete(id) {
    const index = id & this.#mask;
    const call = this.#slots[index];
    if (call === undefined || call.id !== id) return false;
    this.#slots[index] = undefined;
    this.size--;
    return true;
  }

  /** Every call in flight (a snapshot, safe to delete from while iterating). */
  values() {
    return this.#slots.filter((call) => call !== undefined);
  }

  #grow() {
    const old = this.#slots;
    this.#mask = old.length * 2 - 1;
    this.#slots = new Array(old.length * 2).fill(undefined);
    for (const call of old) if (call !== undefined) this.#slots[call.id & this.#mask] = call;
  }
}
