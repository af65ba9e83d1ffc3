/**
 * The shared memory behind the stats store: one SharedArrayBuffer holding every value and the
 * name table, so N worker threads and the main thread see one set of stats (as one Envoy does
 * across its worker threads).
 *
 * Layout (byte offsets; BigInt64 sections first so they are 8-byte aligned):
 *   header      Int32 x HEADER_INTS    capacities, lock, allocation cursors
 *   counters    BigInt64 x capCounters
 *   gauges      BigInt64 x capGauges
 *   histograms  BigInt64 x capHistograms x HISTOGRAM_STRIDE   (bucket counts..., sum in µs)
 *   entries     Int32 x capEntries x ENTRY_INTS              (kind, slot, nameOffset, nameLength)
 *   gaugeUsed   Uint8 x capGauges                            (Envoy's "used" flag for gauges)
 *   names       Uint8 x nameBytes                            (UTF-8 JSON records, append-only)
 *
 * Registration appends under a spin lock; readers never lock: an entry is fully written before
 * the entry count is published with a sequentially consistent store, so whoever loads the count
 * sees every entry below it.
 */
import { BUCKET_BOUNDS } from './histogram-buckets.js';

export type StatKind = 'counter' | 'gauge' | 'histogram';

/** How many stats of each kind (and bytes of names) the shared buffer can hold; fixed at creation. */
export interface StatsCapacity {
  readonly counters: number;
  readonly gauges: number;
  readonly histograms: number;
  readonly nameBytes: number;
}

// Sized for a sidecar (Envoy's carry a few thousand stats); memory is shared by all workers.
// Istio's standard metrics take three histograms and ~6 KiB of names per series (edge x
// outcome), hence room for ~1,300 of them. Pages nobody has written to are not resident, so the
// headroom costs no idle memory.
export const DEFAULT_CAPACITY: StatsCapacity = { counters: 16384, gauges: 4096, histograms: 4096, nameBytes: 8 << 20 };

/** What a worker needs to attach: structured-clonable (postMessage / workerData share the SAB). */
export interface StatsShare {
  readonly buffer: SharedArrayBuffer;
}

/** Buckets (one per bound plus overflow), then the sum in microseconds. */
export const HISTOGRAM_BUCKETS = BUCKET_BOUNDS.length + 1;
export const HISTOGRAM_SUM = HISTOGRAM_BUCKETS;
export const HISTOGRAM_STRIDE = HISTOGRAM_BUCKETS + 1;

const MAGIC = 0x7473_6d73; // 'tsms'
const HEADER_INTS = 16;
const H_MAGIC = 0;
const H_CAP_COUNTERS = 1;
const H_CAP_GAUGES = 2;
const H_CAP_HISTOGRAMS = 3;
const H_NAME_BYTES = 4;
const H_LOCK = 5;
const H_ENTRIES = 6;
const H_USED_COUNTERS = 7;
const H_USED_GAUGES = 8;
const H_USED_HISTOGRAMS = 9;
const H_NAMES_USED = 10;
const H_DROPPED = 11;

const ENTRY_INTS = 4;
const KIND_CODES: Record<StatKind, number> = { counter: 1, gauge: 2, histogram: 3 };
/** By kind code; code 0 never appears in a published entry. */
const KINDS: readonly StatKind[] = ['counter', 'counter', 'gauge', 'histogram'];
const USED_INDEX: Record<StatKind, number> = { counter: H_USED_COUNTERS, gauge: H_USED_GAUGES, histogram: H_USED_HISTOGRAMS };
const CAP_INDEX: Record<StatKind, number> = { counter: H_CAP_COUNTERS, gauge: H_CAP_GAUGES, histogram: H_CAP_HISTOGRAMS };

/** One row of the shared name table, as stored. */
export interface RawEntry {
  readonly kind: StatKind;
  readonly slot: number;
  /** The record written by whoever registered the stat (see StatsStore for its shape). */
  readonly record: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SharedStatsMemory {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly counters: BigInt64Array;
  readonly gauges: BigInt64Array;
  readonly histograms: BigInt64Array;
  readonly gaugeUsed: Uint8Array;
  readonly #entries: Int32Array;
  readonly #names: Uint8Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, HEADER_INTS);
    if (this.header[H_MAGIC] !== MAGIC) throw new Error('not a tsmesh stats buffer');
    const cap = readCapacity(this.header);
    let off = HEADER_INTS * 4;
    this.counters = new BigInt64Array(buffer, off, cap.counters);
    off += cap.counters * 8;
    this.gauges = new BigInt64Array(buffer, off, cap.gauges);
    off += cap.gauges * 8;
    this.histograms = new BigInt64Array(buffer, off, cap.histograms * HISTOGRAM_STRIDE);
    off += cap.histograms * HISTOGRAM_STRIDE * 8;
    this.#entries = new Int32Array(buffer, off, entryCapacity(cap) * ENTRY_INTS);
    off += entryCapacity(cap) * ENTRY_INTS * 4;
    this.gaugeUsed = new Uint8Array(buffer, off, cap.gauges);
    off += cap.gauges;
    this.#names = new Uint8Array(buffer, off, cap.nameBytes);
  }

  static allocate(cap: StatsCapacity): SharedStatsMemory {
    for (const [k, v] of Object.entries(cap)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`stats capacity ${k} must be a positive integer, got ${v}`);
    }
    const bytes = HEADER_INTS * 4 + (cap.counters + cap.gauges + cap.histograms * HISTOGRAM_STRIDE) * 8
      + entryCapacity(cap) * ENTRY_INTS * 4 + cap.gauges + cap.nameBytes;
    const buffer = new SharedArrayBuffer(bytes);
    const h = new Int32Array(buffer, 0, HEADER_INTS);
    h[H_CAP_COUNTERS] = cap.counters;
    h[H_CAP_GAUGES] = cap.gauges;
    h[H_CAP_HISTOGRAMS] = cap.histograms;
    h[H_NAME_BYTES] = cap.nameBytes;
    Atomics.store(h, H_MAGIC, MAGIC);
    return new SharedStatsMemory(buffer);
  }

  static attach(share: StatsShare): SharedStatsMemory {
    return new SharedStatsMemory(share.buffer);
  }

  get capacity(): StatsCapacity {
    return readCapacity(this.header);
  }

  /** Entries published so far. */
  get entryCount(): number {
    return Atomics.load(this.header, H_ENTRIES);
  }

  /** Registrations refused because a capacity was exhausted. */
  get dropped(): number {
    return Atomics.load(this.header, H_DROPPED);
  }

  /** Reads entry `i` (< entryCount). */
  entry(i: number): RawEntry {
    const e = this.#entries;
    const base = i * ENTRY_INTS;
    const off = e[base + 2]!;
    // Decode from a private copy: TextDecoder refuses views of shared memory.
    const record = decoder.decode(this.#names.slice(off, off + e[base + 3]!));
    return { kind: KINDS[e[base]!]!, slot: e[base + 1]!, record };
  }

  /**
   * Appends an entry while holding the lock. `find` runs under the lock first (after the caller
   * has seen every published entry) so two threads registering one name get one slot.
   * Returns the slot, or -1 when a capacity is exhausted.
   */
  append(kind: StatKind, record: string, find: () => number | undefined): number {
    this.#lock();
    try {
      const existing = find();
      if (existing !== undefined) return existing;
      const h = this.header;
      const bytes = encoder.encode(record);
      const n = h[H_ENTRIES]!;
      const slot = h[USED_INDEX[kind]]!;
      const nameOff = h[H_NAMES_USED]!;
      if (slot >= h[CAP_INDEX[kind]]! || nameOff + bytes.length > h[H_NAME_BYTES]!) {
        Atomics.add(h, H_DROPPED, 1);
        return -1;
      }
      this.#names.set(bytes, nameOff);
      const base = n * ENTRY_INTS;
      this.#entries[base] = KIND_CODES[kind];
      this.#entries[base + 1] = slot;
      this.#entries[base + 2] = nameOff;
      this.#entries[base + 3] = bytes.length;
      h[H_NAMES_USED] = nameOff + bytes.length;
      h[USED_INDEX[kind]] = slot + 1;
      Atomics.store(h, H_ENTRIES, n + 1); // publishes everything written above
      return slot;
    } finally {
      this.#unlock();
    }
  }

  #lock(): void {
    const h = this.header;
    for (let spins = 0; Atomics.compareExchange(h, H_LOCK, 0, 1) !== 0; spins++) {
      // Held only for a few writes; park briefly after a short spin (Node allows this on main).
      if (spins > 64) Atomics.wait(h, H_LOCK, 1, 1);
    }
  }

  #unlock(): void {
    Atomics.store(this.header, H_LOCK, 0);
    Atomics.notify(this.header, H_LOCK, 1);
  }
}

function readCapacity(h: Int32Array): StatsCapacity {
  return { counters: h[H_CAP_COUNTERS]!, gauges: h[H_CAP_GAUGES]!, histograms: h[H_CAP_HISTOGRAMS]!, nameBytes: h[H_NAME_BYTES]! };
}

function entryCapacity(cap: StatsCapacity): number {
  return cap.counters + cap.gauges + cap.histograms;
}
