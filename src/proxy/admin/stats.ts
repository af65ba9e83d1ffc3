import { isMainThread } from 'node:worker_threads';
import type { Counter, Gauge, Histogram } from '../stats-scope.js';
import { bucketIndex } from './histogram-buckets.js';
import {
  DEFAULT_CAPACITY, HISTOGRAM_BUCKETS, HISTOGRAM_STRIDE, HISTOGRAM_SUM, SharedStatsMemory,
  type StatKind, type StatsCapacity, type StatsShare,
} from './stats-memory.js';

export type { StatKind, StatsCapacity, StatsShare };

/**
 * A stat to register. `name` is Envoy's full name, as /stats prints it
 * (`cluster.outbound|80||svc.upstream_rq_total`). For Prometheus, Envoy strips tag values out of
 * the name (the "tag-extracted name", `cluster.upstream_rq_total`) and prints them as labels;
 * since names such as cluster names contain `.` and `|`, callers give both explicitly rather
 * than have them parsed back out (see scopes.ts for Envoy's rules per prefix).
 */
export interface StatDescriptor {
  readonly name: string;
  /** Defaults to `name` (no tags). Prometheus prints `envoy_` + this with [^a-zA-Z0-9_] as `_`. */
  readonly tagExtractedName?: string;
  /** Label name -> value, in the order Envoy prints them. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** A registered stat, as every thread sees it. */
export interface StatInfo {
  readonly kind: StatKind;
  readonly name: string;
  readonly tagExtractedName: string;
  readonly tags: readonly (readonly [string, string])[];
  /** Index of its value in the shared array of its kind. */
  readonly slot: number;
}

export interface CounterSample { readonly info: StatInfo; readonly value: number; readonly used: boolean }
export interface GaugeSample { readonly info: StatInfo; readonly value: number; readonly used: boolean }

/** Recorded values of a histogram: per-bucket counts (BUCKET_BOUNDS plus overflow), count, sum (ms). */
export interface HistogramData {
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sum: number;
}

export interface HistogramSample {
  readonly info: StatInfo;
  readonly cumulative: HistogramData;
  /** Values recorded between the last two flushInterval() calls; undefined before two flushes. */
  readonly interval: HistogramData | undefined;
}

/** Every stat's value at one moment (each value read atomically; the set is not a transaction). */
export interface StatsSnapshot {
  readonly counters: readonly CounterSample[];
  readonly gauges: readonly GaugeSample[];
  readonly histograms: readonly HistogramSample[];
}

/** A handle that can also read its value back (tests, /clusters). */
export interface CounterHandle extends Counter { readonly value: number }
export interface GaugeHandle extends Gauge { readonly value: number }
export interface HistogramHandle extends Histogram { readonly count: number }

const ONE = 1n;

/**
 * Envoy-style stats shared by every thread of one proxy. The main thread creates the store and
 * hands `share()` to workers, which `attach()`; any thread may register names at any time
 * (config reloads included) and all threads resolve them, because the name table lives in the
 * shared buffer too. Handles are cached per thread; their hot path is one Atomics op on a fixed
 * index, or on the main thread a plain add whose sums reach the shared buffer once per
 * event-loop turn (see flushPendingStats). A registration beyond capacity returns a working handle that is not shared (counted
 * in `dropped`), so the data path never throws.
 */
export class StatsStore {
  readonly #mem: SharedStatsMemory;
  readonly #byName = new Map<string, StatInfo>();
  readonly #infos: StatInfo[] = [];
  readonly #handles = new Map<string, CounterHandle | GaugeHandle | HistogramHandle>();
  #seen = 0;
  /** flushInterval() state: cumulative buckets+sum at the last flush, and the last interval. */
  readonly #flushed = new Map<number, { last: number[]; interval: HistogramData | undefined }>();

  private constructor(mem: SharedStatsMemory) {
    this.#mem = mem;
  }

  /** A new, empty store (main thread). */
  static create(capacity: Partial<StatsCapacity> = {}): StatsStore {
    return new StatsStore(SharedStatsMemory.allocate({ ...DEFAULT_CAPACITY, ...capacity }));
  }

  /** The same store seen from another thread. */
  static attach(share: StatsShare): StatsStore {
    return new StatsStore(SharedStatsMemory.attach(share));
  }

  /** Structured-clonable; send it once (workerData). Later registrations need no re-send. */
  share(): StatsShare {
    return { buffer: this.#mem.buffer };
  }

  get capacity(): StatsCapacity {
    return this.#mem.capacity;
  }

  /** Registrations refused for lack of capacity, across all threads. */
  get dropped(): number {
    return this.#mem.dropped;
  }

  counter(stat: string | StatDescriptor): CounterHandle {
    const h = this.#handles.get(nameOf(stat));
    if (h) return expectKind(h, 'counter', nameOf(stat)) as CounterHandle;
    const slot = this.#register('counter', stat);
    const handle = slot < 0 ? new SharedCounter(new BigInt64Array(1), 0) : new SharedCounter(this.#mem.counters, slot);
    this.#handles.set(nameOf(stat), handle);
    return handle;
  }

  gauge(stat: string | StatDescriptor): GaugeHandle {
    const h = this.#handles.get(nameOf(stat));
    if (h) return expectKind(h, 'gauge', nameOf(stat)) as GaugeHandle;
    const slot = this.#register('gauge', stat);
    const handle = slot < 0
      ? new SharedGauge(new BigInt64Array(1), new Uint8Array(1), 0)
      : new SharedGauge(this.#mem.gauges, this.#mem.gaugeUsed, slot);
    this.#handles.set(nameOf(stat), handle);
    return handle;
  }

  histogram(stat: string | StatDescriptor): HistogramHandle {
    const h = this.#handles.get(nameOf(stat));
    if (h) return expectKind(h, 'histogram', nameOf(stat)) as HistogramHandle;
    const slot = this.#register('histogram', stat);
    const handle = slot < 0
      ? new SharedHistogram(new BigInt64Array(HISTOGRAM_STRIDE), 0)
      : new SharedHistogram(this.#mem.histograms, slot * HISTOGRAM_STRIDE);
    this.#handles.set(nameOf(stat), handle);
    return handle;
  }

  /** The registered stat called `name`, whichever thread registered it. */
  find(name: string): StatInfo | undefined {
    this.#sync();
    return this.#byName.get(name);
  }

  /** Every registered stat, in registration order. */
  list(): readonly StatInfo[] {
    this.#sync();
    return this.#infos;
  }

  snapshot(): StatsSnapshot {
    flushPendingStats();
    this.#sync();
    const m = this.#mem;
    const counters: CounterSample[] = [];
    const gauges: GaugeSample[] = [];
    const histograms: HistogramSample[] = [];
    for (const info of this.#infos) {
      if (info.kind === 'counter') {
        const value = Number(Atomics.load(m.counters, info.slot));
        counters.push({ info, value, used: value !== 0 });
      } else if (info.kind === 'gauge') {
        const value = Number(Atomics.load(m.gauges, info.slot));
        gauges.push({ info, value, used: m.gaugeUsed[info.slot] === 1 || value !== 0 });
      } else {
        histograms.push({ info, cumulative: this.#readHistogram(info.slot), interval: this.#flushed.get(info.slot)?.interval });
      }
    }
    return { counters, gauges, histograms };
  }

  /**
   * Closes a histogram interval, as Envoy's stats flush does: /stats then shows, besides the
   * cumulative quantiles, those of the values recorded between the last two flushes. Call it
   * on a timer in one thread (the admin's).
   */
  flushInterval(): void {
    flushPendingStats();
    this.#sync();
    for (const info of this.#infos) {
      if (info.kind !== 'histogram') continue;
      const cur = this.#readHistogram(info.slot);
      const now = [...cur.buckets, cur.sum];
      const prev = this.#flushed.get(info.slot);
      const last = prev?.last ?? new Array<number>(now.length).fill(0);
      const buckets = cur.buckets.map((n, i) => n - last[i]!);
      this.#flushed.set(info.slot, {
        last: now,
        interval: prev ? { buckets, count: buckets.reduce((a, b) => a + b, 0), sum: cur.sum - last[HISTOGRAM_SUM]! } : undefined,
      });
    }
  }

  #readHistogram(slot: number): HistogramData {
    const h = this.#mem.histograms;
    const base = slot * HISTOGRAM_STRIDE;
    const buckets = new Array<number>(HISTOGRAM_BUCKETS);
    let count = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) count += buckets[i] = Number(Atomics.load(h, base + i));
    return { buckets, count, sum: Number(Atomics.load(h, base + HISTOGRAM_SUM)) / 1000 };
  }

  #register(kind: StatKind, stat: string | StatDescriptor): number {
    const d: StatDescriptor = typeof stat === 'string' ? { name: stat } : stat;
    const found = (): number | undefined => {
      this.#sync();
      const info = this.#byName.get(d.name);
      if (!info) return undefined;
      if (info.kind !== kind) throw new Error(`stat ${d.name} is a ${info.kind}, not a ${kind}`);
      return info.slot;
    };
    const existing = found();
    if (existing !== undefined) return existing;
    const record = JSON.stringify([d.name, d.tagExtractedName ?? d.name, Object.entries(d.tags ?? {})]);
    const slot = this.#mem.append(kind, record, found);
    this.#sync();
    return slot;
  }

  /** Learns the entries other threads (or this one) published since the last look. */
  #sync(): void {
    const n = this.#mem.entryCount;
    for (; this.#seen < n; this.#seen++) {
      const e = this.#mem.entry(this.#seen);
      const [name, tagExtractedName, tags] = JSON.parse(e.record) as [string, string, [string, string][]];
      const info: StatInfo = { kind: e.kind, name, tagExtractedName, tags, slot: e.slot };
      this.#byName.set(name, info);
      this.#infos.push(info);
    }
  }
}

function nameOf(stat: string | StatDescriptor): string {
  return typeof stat === 'string' ? stat : stat.name;
}

function expectKind(h: CounterHandle | GaugeHandle | HistogramHandle, kind: StatKind, name: string): CounterHandle | GaugeHandle | HistogramHandle {
  const k: StatKind = h instanceof SharedCounter ? 'counter' : h instanceof SharedGauge ? 'gauge' : 'histogram';
  if (k !== kind) throw new Error(`stat ${name} is a ${k}, not a ${kind}`);
  return h;
}

/**
 * Handles with increments this thread has not yet added to the shared buffer. An Atomics op on
 * a BigInt64Array is a builtin call that allocates the BigInt it returns, and a request touches
 * some twenty stats; so increments add up in plain numbers and reach shared memory once per
 * event-loop turn (setImmediate: right after the poll that served the requests), one op per
 * stat touched. Only on the main thread, which also serves the admin: reads there (`value`,
 * `count`, snapshots) flush first and so see every increment. Worker threads add at once, so
 * that a count is in shared memory before anything its request did (a response, a close) can
 * be observed, however late the worker is scheduled next.
 */
const BATCHED = isMainThread;
interface PendingStat { flush(): void }
// Filled from the front and reused: `length = 0` would drop the backing store, so every turn
// would grow a new one push by push. Entries past dirtyCount are stats already flushed.
const dirty: PendingStat[] = [];
let dirtyCount = 0;
let flushScheduled = false;

function markDirty(h: PendingStat): void {
  dirty[dirtyCount++] = h;
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushPendingStats);
  }
}

/** Adds this thread's pending increments to the shared buffer now. */
export function flushPendingStats(): void {
  flushScheduled = false;
  // A flush never marks anything dirty, so the list does not grow while it is walked.
  for (let i = 0; i < dirtyCount; i++) dirty[i]!.flush();
  dirtyCount = 0;
}

class SharedCounter implements CounterHandle, PendingStat {
  readonly #a: BigInt64Array;
  readonly #i: number;
  #pending = 0;
  #dirty = false;
  constructor(a: BigInt64Array, i: number) { this.#a = a; this.#i = i; }
  inc(n = 1): void {
    if (!BATCHED) { Atomics.add(this.#a, this.#i, n === 1 ? ONE : BigInt(Math.trunc(n))); return; }
    this.#pending += n === 1 ? 1 : Math.trunc(n);
    if (!this.#dirty) { this.#dirty = true; markDirty(this); }
  }
  flush(): void {
    this.#dirty = false;
    const n = this.#pending;
    if (n === 0) return;
    this.#pending = 0;
    Atomics.add(this.#a, this.#i, n === 1 ? ONE : BigInt(n));
  }
  get value(): number { flushPendingStats(); return Number(Atomics.load(this.#a, this.#i)); }
}

class SharedGauge implements GaugeHandle, PendingStat {
  readonly #a: BigInt64Array;
  readonly #used: Uint8Array;
  readonly #i: number;
  #pending = 0;
  #dirty = false;
  constructor(a: BigInt64Array, used: Uint8Array, i: number) { this.#a = a; this.#used = used; this.#i = i; }
  // The used flag is a plain store: it only ever goes 0 -> 1 and is read by the admin later.
  inc(n = 1): void { this.#add(n === 1 ? 1 : Math.trunc(n)); }
  dec(n = 1): void { this.#add(n === 1 ? -1 : -Math.trunc(n)); }
  #add(n: number): void {
    if (!BATCHED) { Atomics.add(this.#a, this.#i, BigInt(n)); this.#used[this.#i] = 1; return; }
    this.#pending += n;
    if (!this.#dirty) { this.#dirty = true; this.#used[this.#i] = 1; markDirty(this); }
  }
  /** An absolute value: increments made before it on this thread are superseded. */
  set(v: number): void { this.#pending = 0; Atomics.store(this.#a, this.#i, BigInt(Math.trunc(v))); this.#used[this.#i] = 1; }
  flush(): void {
    this.#dirty = false;
    const n = this.#pending;
    if (n === 0) return; // an inc and a dec in one turn (active requests) cost no shared write
    this.#pending = 0;
    Atomics.add(this.#a, this.#i, BigInt(n));
  }
  get value(): number { flushPendingStats(); return Number(Atomics.load(this.#a, this.#i)); }
}

class SharedHistogram implements HistogramHandle, PendingStat {
  readonly #a: BigInt64Array;
  readonly #base: number;
  /** Per-bucket counts and the sum (µs) recorded since the last flush. */
  readonly #pending = new Float64Array(HISTOGRAM_STRIDE);
  #dirty = false;
  constructor(a: BigInt64Array, base: number) { this.#a = a; this.#base = base; }
  /** A count in the value's bucket and the value in the sum (µs, so fractional ms survive); count = Σ buckets. */
  record(ms: number): void {
    const v = ms > 0 ? Math.min(ms, 1e12) : 0; // NaN and negatives count as 0; Infinity stays finite
    if (!BATCHED) {
      Atomics.add(this.#a, this.#base + bucketIndex(v), ONE);
      Atomics.add(this.#a, this.#base + HISTOGRAM_SUM, BigInt(Math.round(v * 1000)));
      return;
    }
    const p = this.#pending;
    const b = bucketIndex(v);
    p[b] = p[b]! + 1;
    p[HISTOGRAM_SUM] = p[HISTOGRAM_SUM]! + Math.round(v * 1000);
    if (!this.#dirty) { this.#dirty = true; markDirty(this); }
  }
  flush(): void {
    this.#dirty = false;
    const p = this.#pending;
    for (let i = 0; i < HISTOGRAM_STRIDE; i++) {
      const n = p[i]!;
      if (n === 0) continue;
      p[i] = 0;
      Atomics.add(this.#a, this.#base + i, n === 1 ? ONE : BigInt(n));
    }
  }
  get count(): number {
    flushPendingStats();
    let n = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) n += Number(Atomics.load(this.#a, this.#base + i));
    return n;
  }
}
