/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of (name, value) entries bounded by
 * the sum of their sizes (name + value octets + 32), newest at dynamic index 1 (HPACK index
 * 62). A ring of parallel arrays, so adding and evicting never allocates once it has grown.
 * Every entry also has an absolute number (its insertion count), which the encoder keys on.
 */

/** RFC 7541 §4.1: an entry's size. Strings are latin1, so length = octets. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

export class DynamicTable {
  #names: string[] = [];
  #values: string[] = [];
  #flags: Uint8Array = new Uint8Array(0);
  #cap = 0;
  /** Ring slot of the oldest entry. */
  #tail = 0;
  #length = 0;
  #size = 0;
  #maxSize: number;
  /** Entries ever inserted; the newest entry's absolute number is inserted - 1. */
  #inserted = 0;

  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  get length(): number { return this.#length; }
  get size(): number { return this.#size; }
  get maxSize(): number { return this.#maxSize; }
  /** Absolute number of the next entry to be inserted. */
  get inserted(): number { return this.#inserted; }

  /** Changes the maximum size, evicting as needed (a table size update). */
  setMaxSize(n: number): void {
    this.#maxSize = n;
    while (this.#size > n) this.#evict();
  }

  /**
   * Adds an entry as the newest, evicting the oldest ones to make room; an entry larger than
   * the whole table empties it and is not added (RFC 7541 §4.4).
   */
  add(name: string, value: string, flag = 0): void {
    const size = entrySize(name, value);
    while (this.#length > 0 && this.#size + size > this.#maxSize) this.#evict();
    if (size > this.#maxSize) { this.#inserted++; return; }
    if (this.#length === this.#cap) this.#grow();
    const slot = (this.#tail + this.#length) % this.#cap;
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#flags[slot] = flag;
    this.#length++;
    this.#size += size;
    this.#inserted++;
  }

  /** Ring slot of dynamic index `i` (1 = newest); the caller checks 1 <= i <= length. */
  #slot(i: number): number {
    return (this.#tail + this.#length - i) % this.#cap;
  }

  name(i: number): string { return this.#names[this.#slot(i)]!; }
  value(i: number): string { return this.#values[this.#slot(i)]!; }
  flag(i: number): number { return this.#flags[this.#slot(i)]!; }

  /** Dynamic index (1 = newest) of the entry with absolute number `abs`, or 0 if evicted. */
  indexOfAbsolute(abs: number): number {
    const i = this.#inserted - abs;
    return i >= 1 && i <= this.#length ? i : 0;
  }

  /** Called with each entry as it is evicted (the encoder keeps its lookup maps in step). */
  protected evicted(_name: string, _value: string, _abs: number): void { /* hook */ }

  #evict(): void {
    const slot = this.#tail;
    const name = this.#names[slot]!;
    const value = this.#values[slot]!;
    this.#size -= entrySize(name, value);
    this.#tail = (slot + 1) % this.#cap;
    this.#length--;
    this.evicted(name, value, this.#inserted - this.#length - 1);
  }

  #grow(): void {
    const cap = Math.max(16, this.#cap * 2);
    const names: string[] = new Array<string>(cap);
    const values: string[] = new Array<string>(cap);
    const flags = new Uint8Array(cap);
    for (let i = 0; i < this.#length; i++) {
      const s = (this.#tail + i) % Math.max(1, this.#cap);
      names[i] = this.#names[s]!;
      values[i] = this.#values[s]!;
      flags[i] = this.#flags[s]!;
    }
    this.#names = names;
    this.#values = values;
    this.#flags = flags;
    this.#tail = 0;
    this.#cap = cap;
  }
}
