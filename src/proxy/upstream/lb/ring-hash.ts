/**
 * RING_HASH, a port of Envoy's ring (source/extensions/load_balancing_policies/ring_hash/
 * ring_hash_lb.cc): each host gets points `hash("<ip:port>_<i>")` in proportion to its normalized
 * weight, scaled so the lightest host gets a whole number of points and the ring has at least
 * minimum_ring_size (at most maximum_ring_size) entries. A request goes to the first point at or
 * after its hash (Ketama search), wrapping around; without a hash, to a random point.
 *
 * The ring is built once over every host. An unhealthy host is passed over by walking on to the
 * next point, which moves only that host's keys (Envoy instead rebuilds the ring from the healthy
 * hosts, which at a fixed ring size also moves some keys between the others).
 */
import { MURMUR_OUT, STD_HASH_SEED, murmur2Parts } from './murmur2.js';
import { nextHealthyInTable } from './healthy.js';
import type { LbContext, LbHost, LoadBalancer } from './types.js';
import { W, allocRegisters, fromBigInt } from './u64.js';
import { HASH_OUT, SEED_ZERO, stringBytes, xxh64Parts } from './xxhash64.js';

const HASH = allocRegisters(1);

export interface RingHashOptions {
  /** ring_hash_lb_config.minimum_ring_size, default 1024. */
  readonly minRingSize: number;
  /** ring_hash_lb_config.maximum_ring_size, default 8M. */
  readonly maxRingSize: number;
  readonly hashFunction: 'XX_HASH' | 'MURMUR_HASH_2';
}

/** Envoy's ring_hash_lb gauges, for the admin endpoint and tests. */
export interface RingStats {
  readonly size: number;
  readonly minHashesPerHost: number;
  readonly maxHashesPerHost: number;
}

export class RingHashLoadBalancer implements LoadBalancer {
  readonly #hosts: readonly LbHost[];
  /** Ring points sorted ascending, as (hi, lo) halves of the u64 hash; owner host index beside. */
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  readonly #owner: Uint32Array;
  /** Per-host stamp of the walk that last saw it (detects "every host is unhealthy" without allocating). */
  readonly #seen: Float64Array;
  #stamp = 0;
  readonly stats: RingStats;

  constructor(hosts: readonly LbHost[], opts: RingHashOptions) {
    this.#hosts = hosts;
    this.#seen = new Float64Array(hosts.length);
    const ring = buildRing(hosts, opts);
    this.#hi = ring.hi;
    this.#lo = ring.lo;
    this.#owner = ring.owner;
    this.stats = ring.stats;
  }

  pick(ctx: LbContext): LbHost | undefined {
    const size = this.#owner.length;
    if (size === 0) return undefined;
    let hi: number, lo: number;
    if (ctx.hash !== undefined) {
      fromBigInt(HASH, ctx.hash);
      hi = W[2 * HASH]!; lo = W[2 * HASH + 1]!;
    } else {
      // Envoy uses a random u64 when no hash policy produced a hash.
      const r = ctx.random() * 4294967296;
      hi = Math.min(Math.floor(r), 0xffffffff);
      lo = Math.floor((r - hi) * 4294967296) >>> 0;
    }
    const at = this.#find(hi, lo);
    const h = this.#hosts[this.#owner[at]!]!;
    return h.healthy ? h : this.#walk(at);
  }

  /** Ketama search, as Envoy's Ring::chooseHost: first point >= hash, wrapping to 0. */
  #find(hi: number, lo: number): number {
    const H = this.#hi, L = this.#lo;
    const size = H.length;
    let lowp = 0, highp = size;
    for (;;) {
      const midp = ((lowp + highp) / 2) | 0;
      if (midp === size) return 0;
      const cmpMid = cmp(hi, lo, H[midp]!, L[midp]!);
      if (cmpMid <= 0 && (midp === 0 ? hi !== 0 || lo !== 0 : cmp(hi, lo, H[midp - 1]!, L[midp - 1]!) > 0)) return midp;
      if (cmpMid > 0) lowp = midp + 1;
      else highp = midp - 1;
      if (lowp > highp) return 0;
    }
  }

  /** The next point clockwise from `at` whose host is healthy; undefined once every host was seen. */
  #walk(at: number): LbHost | undefined {
    return nextHealthyInTable(this.#hosts, this.#owner, at, this.#seen, ++this.#stamp);
  }
}

function cmp(aHi: number, aLo: number, bHi: number, bLo: number): number {
  if (aHi !== bHi) return aHi < bHi ? -1 : 1;
  return aLo < bLo ? -1 : aLo > bLo ? 1 : 0;
}

interface Ring { hi: Uint32Array; lo: Uint32Array; owner: Uint32Array; stats: RingStats }

/** Envoy's Ring constructor, same floating-point steps so the same hosts give the same ring. */
function buildRing(hosts: readonly LbHost[], opts: RingHashOptions): Ring {
  const n = hosts.length;
  if (n === 0) return { hi: new Uint32Array(0), lo: new Uint32Array(0), owner: new Uint32Array(0), stats: { size: 0, minHashesPerHost: 0, maxHashesPerHost: 0 } };
  let sum = 0;
  for (const h of hosts) sum += h.weight;
  let minWeight = 1.0;
  const normalized = hosts.map((h) => {
    const w = (h.weight * 1.0) / sum;
    if (w < minWeight) minWeight = w;
    return w;
  });
  const scale = Math.min(Math.ceil(minWeight * opts.minRingSize) / minWeight, opts.maxRingSize);
  const ringSize = Math.ceil(scale);
  // Running sums can round one point past ringSize; leave room for it.
  const cap = ringSize + 1;
  const hi = new Uint32Array(cap), lo = new Uint32Array(cap), owner = new Uint32Array(cap);
  const murmur = opts.hashFunction === 'MURMUR_HASH_2';
  let count = 0;
  let current = 0, target = 0;
  let minPerHost = ringSize, maxPerHost = 0;
  hosts.forEach((host, hostIndex) => {
    const keyBytes = stringBytes(host.key);
    // "<key>_" then the decimal index, rewritten in place for each point.
    const buf = new Uint8Array(keyBytes.length + 1 + 20);
    buf.set(keyBytes);
    buf[keyBytes.length] = 0x5f; // '_'
    const digitsAt = keyBytes.length + 1;
    target += scale * normalized[hostIndex]!;
    let i = 0;
    while (current < target && count < cap) {
      const len = writeDecimal(buf, digitsAt, i);
      if (murmur) {
        murmur2Parts(buf, len, STD_HASH_SEED);
        hi[count] = MURMUR_OUT[0]!; lo[count] = MURMUR_OUT[1]!;
      } else {
        xxh64Parts(buf, len, SEED_ZERO);
        hi[count] = HASH_OUT[0]!; lo[count] = HASH_OUT[1]!;
      }
      owner[count] = hostIndex;
      count++;
      i++;
      current++;
    }
    if (i < minPerHost) minPerHost = i;
    if (i > maxPerHost) maxPerHost = i;
  });
  const order = new Uint32Array(count).map((_, k) => k);
  order.sort((a, b) => cmp(hi[a]!, lo[a]!, hi[b]!, lo[b]!));
  const sorted: Ring = { hi: new Uint32Array(count), lo: new Uint32Array(count), owner: new Uint32Array(count), stats: { size: ringSize, minHashesPerHost: minPerHost, maxHashesPerHost: maxPerHost } };
  order.forEach((k, j) => {
    sorted.hi[j] = hi[k]!;
    sorted.lo[j] = lo[k]!;
    sorted.owner[j] = owner[k]!;
  });
  return sorted;
}

/** Writes `value` in decimal at buf[at..]; returns the end offset. */
function writeDecimal(buf: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let k = digits - 1; k >= 0; k--) {
    buf[at + k] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}
