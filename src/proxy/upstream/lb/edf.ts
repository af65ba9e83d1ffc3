/**
 * Earliest-deadline-first scheduler, Envoy's weighted round robin (source/common/upstream/
 * edf_scheduler.h): each host is due at `now + 1/weight`; a pick takes the earliest deadline
 * (ties in insertion order), moves `now` there and re-queues the host with its weight at that
 * moment. Picks come out smoothly interleaved, O(log n), with no allocation: the heap lives in
 * typed arrays indexed by host position.
 */
import type { LbHost } from './types.js';

/** Upper bound of 1/weight, so a zero or vanishing dynamic weight cannot push a deadline to Infinity. */
const MAX_STEP = 1e300;

export class EdfScheduler {
  readonly #hosts: readonly LbHost[];
  /** 0: static weights; otherwise LEAST_REQUEST's exponent on (active_requests + 1). */
  readonly #bias: number;
  /** 1/weight per host, for static weights. */
  readonly #staticStep: Float64Array;
  readonly #deadline: Float64Array;
  /** Insertion sequence number, the FIFO tie-break of equal deadlines. */
  readonly #order: Float64Array;
  /** Binary min-heap of host indices. */
  readonly #heap: Int32Array;
  /** Host index -> heap position. */
  readonly #pos: Int32Array;
  /** [now, next sequence number]: in a typed array so the hot path never boxes a double. */
  readonly #clock = new Float64Array(2);

  /**
   * Queues every host in list order at time 0, as Envoy's scheduler refresh does. With `bias` 0
   * a host's weight is its load_balancing_weight (ROUND_ROBIN); otherwise it is
   * `weight / (activeRequests + 1) ^ bias`, taken when the host is (re)queued (LEAST_REQUEST).
   */
  constructor(hosts: readonly LbHost[], bias = 0) {
    const n = hosts.length;
    this.#hosts = hosts;
    this.#bias = bias;
    this.#staticStep = Float64Array.from(hosts, (h) => stepOf(h.weight));
    this.#deadline = new Float64Array(n);
    this.#order = new Float64Array(n);
    this.#heap = new Int32Array(n);
    this.#pos = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.#requeue(i, 0);
      this.#heap[i] = i;
      this.#pos[i] = i;
      this.#siftUp(i);
    }
  }

  /**
   * Index of the next healthy host in EDF order, or -1 if none is healthy. Unhealthy hosts popped
   * on the way are re-queued as if picked, which leaves the healthy hosts' relative order exactly
   * that of a schedule without them (deadlines are per host). If too many come first, the
   * earliest-due healthy host is found by a scan instead.
   */
  pick(): number {
    const hosts = this.#hosts;
    const n = hosts.length;
    for (let tries = 0; tries < n; tries++) {
      const i = this.#heap[0]!;
      this.#advance(0);
      if (hosts[i]!.healthy) return i;
    }
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (hosts[i]!.healthy && (best < 0 || this.#earlier(i, best))) best = i;
    }
    if (best >= 0) this.#advance(this.#pos[best]!);
    return best;
  }

  /** Advances the schedule by `count` picks, ignoring health (Envoy's randomized starting point). */
  skip(count: number): void {
    if (this.#heap.length === 0) return;
    for (let k = 0; k < count; k++) this.#advance(0);
  }

  /**
   * Queues host i (outside the heap order) due at now + 1 / its weight now, the weight being
   * Envoy's hostWeight for LEAST_REQUEST. Writes results to typed arrays and returns nothing, so
   * no double is boxed on the way.
   */
  #requeue(i: number, now: number): void {
    const bias = this.#bias;
    let step: number;
    if (bias === 0) {
      step = this.#staticStep[i]!;
    } else {
      const h = this.#hosts[i]!;
      const load = h.activeRequests + 1;
      const w = bias === 1 ? h.weight / load : h.weight / Math.pow(load, bias);
      step = w > 1 / MAX_STEP ? 1 / w : MAX_STEP;
    }
    const clock = this.#clock;
    this.#deadline[i] = now + step;
    this.#order[i] = clock[1]!;
    clock[1] = clock[1]! + 1;
  }

  #earlier(a: number, b: number): boolean {
    const da = this.#deadline[a]!, db = this.#deadline[b]!;
    return da < db || (da === db && this.#order[a]! < this.#order[b]!);
  }

  /** Picks the host at heap position p: time moves to its deadline, it is re-queued. */
  #advance(p: number): void {
    const i = this.#heap[p]!;
    const clock = this.#clock;
    const d = this.#deadline[i]!;
    if (d > clock[0]!) clock[0] = d;
    this.#requeue(i, clock[0]!);
    this.#siftDown(p);
  }

  #siftUp(p: number): void {
    const heap = this.#heap, pos = this.#pos;
    const i = heap[p]!;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const j = heap[parent]!;
      if (!this.#earlier(i, j)) break;
      heap[p] = j;
      pos[j] = p;
      p = parent;
    }
    heap[p] = i;
    pos[i] = p;
  }

  #siftDown(p: number): void {
    const heap = this.#heap, pos = this.#pos, deadline = this.#deadline, order = this.#order;
    const n = heap.length;
    const i = heap[p]!;
    const di = deadline[i]!, oi = order[i]!;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= n) break;
      let j = heap[c]!;
      let dj = deadline[j]!;
      if (c + 1 < n) {
        const k = heap[c + 1]!;
        const dk = deadline[k]!;
        if (dk < dj || (dk === dj && order[k]! < order[j]!)) { c++; j = k; dj = dk; }
      }
      // Stop when i is due no later than its earliest child.
      if (di < dj || (di === dj && oi < order[j]!)) break;
      heap[p] = j;
      pos[j] = p;
      p = c;
    }
    heap[p] = i;
    pos[i] = p;
  }
}

/** 1 / weight, bounded so that a zero or vanishing dynamic weight cannot make a deadline Infinity. */
function stepOf(weight: number): number {
  return weight > 1 / MAX_STEP ? 1 / weight : MAX_STEP;
}
