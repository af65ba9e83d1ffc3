/**
 * Named blocks of shared Int32 memory: the state that belongs to the proxy instance rather than
 * to one worker thread (circuit-breaker counts, rate-limit buckets, host health and outlier
 * state). As in Envoy, a limit of 5 admits 5 requests whatever --concurrency is, because every
 * thread counts into the same block.
 *
 * Layout (Int32 indexes):
 *   header   HEADER_INTS          magic, lock, entry count, ints used, name bytes used, dropped
 *   entries  capEntries x 4       nameOffset, nameLength, dataOffset, dataLength
 *   data     capInts              the blocks, zero-initialised
 *   names    bytes after that     UTF-8, append-only
 *
 * Any thread may allocate a name at any time (config changes included); an entry is fully
 * written before the count is published, so lock-free readers see complete entries. A block is
 * never freed: names are few (clusters, hosts, buckets) and a restart resets everything.
 */

export interface SlotsShare { readonly buffer: SharedArrayBuffer }

export interface SlotsCapacity { readonly entries: number; readonly ints: number; readonly nameBytes: number }

export const DEFAULT_SLOTS_CAPACITY: SlotsCapacity = { entries: 16384, ints: 1 << 20, nameBytes: 1 << 20 };

const MAGIC = 0x7473_736c; // 'tssl'
const HEADER_INTS = 16;
const H_MAGIC = 0, H_LOCK = 1, H_ENTRIES = 2, H_INTS = 3, H_NAMES = 4, H_DROPPED = 5;
const H_CAP_ENTRIES = 6, H_CAP_INTS = 7, H_CAP_NAMES = 8;
const ENTRY_INTS = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SharedSlots {
  readonly #buf: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #entries: Int32Array;
  readonly #data: Int32Array;
  readonly #names: Uint8Array;
  readonly #byName = new Map<string, Int32Array>();
  #seen = 0;

  private constructor(buffer: SharedArrayBuffer) {
    this.#buf = buffer;
    this.#h = new Int32Array(buffer, 0, HEADER_INTS);
    if (Atomics.load(this.#h, H_MAGIC) !== MAGIC) throw new Error('not a shared slots buffer');
    const capE = this.#h[H_CAP_ENTRIES]!, capI = this.#h[H_CAP_INTS]!, capN = this.#h[H_CAP_NAMES]!;
    let off = HEADER_INTS * 4;
    this.#entries = new Int32Array(buffer, off, capE * ENTRY_INTS);
    off += capE * ENTRY_INTS * 4;
    this.#data = new Int32Array(buffer, off, capI);
    off += capI * 4;
    this.#names = new Uint8Array(buffer, off, capN);
  }

  static create(cap: SlotsCapacity = DEFAULT_SLOTS_CAPACITY): SharedSlots {
    const bytes = (HEADER_INTS + cap.entries * ENTRY_INTS + cap.ints) * 4 + cap.nameBytes;
    const buffer = new SharedArrayBuffer(bytes);
    const h = new Int32Array(buffer, 0, HEADER_INTS);
    h[H_CAP_ENTRIES] = cap.entries;
    h[H_CAP_INTS] = cap.ints;
    h[H_CAP_NAMES] = cap.nameBytes;
    Atomics.store(h, H_MAGIC, MAGIC);
    return new SharedSlots(buffer);
  }

  static attach(share: SlotsShare): SharedSlots {
    return new SharedSlots(share.buffer);
  }

  share(): SlotsShare {
    return { buffer: this.#buf };
  }

  /** Allocations that did not fit and got private (unshared) memory instead. */
  get dropped(): number {
    return Atomics.load(this.#h, H_DROPPED);
  }

  /**
   * The block called `name`: the same memory in every thread, zeroed when first allocated by
   * any of them. Asking for a name again with another length is a programming error.
   * Never throws for lack of space: the data path keeps working on private memory instead.
   */
  block(name: string, length: number): Int32Array {
    let b = this.#byName.get(name) ?? this.#scan(name);
    if (!b) b = this.#allocate(name, length);
    if (b.length !== length) throw new Error(`shared block ${name}: asked for ${length} ints, it has ${b.length}`);
    return b;
  }

  /**
   * A block of 64-bit integers (for times in ms and byte counts that outgrow Int32); the name
   * space is the same as block()'s, so use distinct names.
   */
  block64(name: string, length: number): BigInt64Array {
    const b = this.block(name, length * 2 + 1);
    // One spare Int32 lets the 64-bit view start on an 8-byte boundary whatever the offset.
    const start = b.byteOffset % 8 === 0 ? b.byteOffset : b.byteOffset + 4;
    return new BigInt64Array(b.buffer, start, length);
  }

  /** Reads entries published since the last scan into the cache; returns `name`'s if seen. */
  #scan(name: string): Int32Array | undefined {
    const n = Atomics.load(this.#h, H_ENTRIES);
    for (; this.#seen < n; this.#seen++) {
      const e = this.#seen * ENTRY_INTS;
      const key = decoder.decode(this.#names.subarray(this.#entries[e]!, this.#entries[e]! + this.#entries[e + 1]!));
      this.#byName.set(key, this.#data.subarray(this.#entries[e + 2]!, this.#entries[e + 2]! + this.#entries[e + 3]!));
    }
    return this.#byName.get(name);
  }

  #allocate(name: string, length: number): Int32Array {
    const bytes = encoder.encode(name);
    const h = this.#h;
    lock(h, H_LOCK);
    try {
      const found = this.#scan(name);
      if (found) return found;
      const n = h[H_ENTRIES]!, used = h[H_INTS]!, namesUsed = h[H_NAMES]!;
      if (n >= h[H_CAP_ENTRIES]! || used + length > h[H_CAP_INTS]! || namesUsed + bytes.length > h[H_CAP_NAMES]!) {
        Atomics.add(h, H_DROPPED, 1);
        const priv = new Int32Array(new SharedArrayBuffer(length * 4));
        this.#byName.set(name, priv);
        return priv;
      }
      this.#names.set(bytes, namesUsed);
      const e = n * ENTRY_INTS;
      this.#entries[e] = namesUsed;
      this.#entries[e + 1] = bytes.length;
      this.#entries[e + 2] = used;
      this.#entries[e + 3] = length;
      h[H_INTS] = used + length;
      h[H_NAMES] = namesUsed + bytes.length;
      Atomics.store(h, H_ENTRIES, n + 1); // publishes the entry written above
      return this.#scan(name)!;
    } finally {
      unlock(h, H_LOCK);
    }
  }
}

/**
 * A spin lock on one Int32 of shared memory (0 free, 1 held). Critical sections are a few
 * loads and stores, so spinning beats sleeping; after many spins it waits briefly so a thread
 * preempted while holding it cannot burn the CPU of the one waiting.
 */
export function lock(a: Int32Array, i: number): void {
  for (let spins = 0; Atomics.compareExchange(a, i, 0, 1) !== 0; spins++) {
    if (spins > 64) Atomics.wait(a, i, 1, 1);
  }
}

export function unlock(a: Int32Array, i: number): void {
  Atomics.store(a, i, 0);
  Atomics.notify(a, i, 1);
}

/** Milliseconds on a clock every thread agrees on (performance.now() has a per-thread origin). */
export function sharedNowMs(): number {
  return Date.now();
}
