/** Below this many slots the table doubles when two calls in flight want the same slot… */
const MAX_SLOTS = 1 << 16;
/** …and while it has fewer than this many slots per entry. */
const SLOTS_PER_ENTRY = 4;
const INITIAL_SLOTS = 64;

/**
 * The calls in flight on one connection, by request id. Ids are handed out in sequence, so the
 * calls in flight occupy a narrow window of ids: a power-of-two table indexed by `id & mask`
 * holds them with no hashing and none of the rehashing a Map does under constant insert and
 * delete (that churn was the largest source of garbage promoted to the old generation in a
 * client at 128 calls in flight). A slot already taken (a call that outlived a table's worth of
 * later ids, or a peer that picks its own ids) doubles the table, as long as it stays within
 * SLOTS_PER_ENTRY slots per call in flight and MAX_SLOTS; otherwise the newcomer goes to an
 * overflow Map. Memory thus follows the number of calls in flight, whatever ids a peer sends
 * (two calls with ids 2^16 apart cannot make a server allocate 2^16 slots).
 */
export class InFlightTable<T extends { readonly id: number }> {
  private slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private readonly overflow = new Map<number, T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Slots allocated (for tests and memory accounting). */
  get capacity(): number {
    return this.slots.length;
  }

  get(id: number): T | undefined {
    const entry = this.slots[id & this.mask];
    if (entry !== undefined && entry.id === id) return entry;
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `entry` under its id, which must not be in the table already. */
  add(entry: T): void {
    const limit = Math.min(MAX_SLOTS, SLOTS_PER_ENTRY * (this.count + 1));
    while (this.slots[entry.id & this.mask] !== undefined && this.slots.length < limit) this.grow();
    const index = entry.id & this.mask;
    if (this.slots[index] === undefined) this.slots[index] = entry;
    else this.overflow.set(entry.id, entry);
    this.count++;
  }

  /** Removes `entry` if it is the one held under its id. */
  remove(entry: T): void {
    const index = entry.id & this.mask;
    if (this.slots[index] === entry) this.slots[index] = undefined;
    else if (this.overflow.get(entry.id) === entry) this.overflow.delete(entry.id);
    else return;
    this.count--;
  }

  /** A snapshot of the entries (safe to remove while iterating it). */
  values(): T[] {
    const entries: T[] = [];
    for (const entry of this.slots) if (entry !== undefined) entries.push(entry);
    for (const entry of this.overflow.values()) entries.push(entry);
    return entries;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    for (const entry of old) if (entry !== undefined) this.slots[entry.id & this.mask] = entry;
  }
}
