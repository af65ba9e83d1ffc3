/**
 * Choosing among the healthy hosts of a fixed list without building a healthy list per pick.
 * Envoy keeps a separate healthy-host vector rebuilt on every health change; here health is read
 * live, so selection draws over all hosts and rejects unhealthy ones, which gives exactly the
 * distribution of drawing over the healthy ones.
 */
import type { LbHost } from './types.js';

/** Rejection draws before falling back to a counting scan (the scan is also exact). */
const REJECTION_TRIES = 4;

/** Uniform integer in [0, n), robust to a `random` that returns 1. */
export function randomIndex(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  return i < n ? i : n - 1;
}

export function allWeightsEqual(hosts: readonly LbHost[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== hosts[0]!.weight) return false;
  return true;
}

/** A healthy host chosen uniformly, or undefined if none is healthy. */
export function uniformHealthy(hosts: readonly LbHost[], random: () => number): LbHost | undefined {
  const n = hosts.length;
  if (n === 0) return undefined;
  for (let t = 0; t < REJECTION_TRIES; t++) {
    const h = hosts[randomIndex(random, n)]!;
    if (h.healthy) return h;
  }
  let healthy = 0;
  for (let i = 0; i < n; i++) if (hosts[i]!.healthy) healthy++;
  if (healthy === 0) return undefined;
  let k = randomIndex(random, healthy);
  for (let i = 0; i < n; i++) {
    const h = hosts[i]!;
    if (h.healthy && k-- === 0) return h;
  }
  return undefined;
}

/**
 * A healthy host chosen with probability weight / (sum of healthy weights), or undefined.
 * `cumulative[i]` is the sum of weights of hosts[0..i].
 */
export function weightedHealthy(hosts: readonly LbHost[], cumulative: Float64Array, random: () => number): LbHost | undefined {
  const n = hosts.length;
  if (n === 0) return undefined;
  const total = cumulative[n - 1]!;
  for (let t = 0; t < REJECTION_TRIES; t++) {
    const h = hosts[upperBound(cumulative, random() * total)]!;
    if (h.healthy) return h;
  }
  let healthyTotal = 0;
  for (let i = 0; i < n; i++) if (hosts[i]!.healthy) healthyTotal += hosts[i]!.weight;
  if (healthyTotal === 0) return undefined;
  let r = random() * healthyTotal;
  let last: LbHost | undefined;
  for (let i = 0; i < n; i++) {
    const h = hosts[i]!;
    if (!h.healthy) continue;
    last = h;
    r -= h.weight;
    if (r < 0) return h;
  }
  return last;
}

/** First index whose cumulative weight exceeds x (clamped to the last index). */
function upperBound(cumulative: Float64Array, x: number): number {
  let lo = 0, hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Walks a table of host indexes (a hash ring or a Maglev table) from `at`, wrapping, to the
 * first healthy host; undefined once every distinct host was seen unhealthy. `seen` is a
 * scratch array per balancer, marked with a fresh `stamp` per call so it needs no clearing.
 */
export function nextHealthyInTable(hosts: readonly LbHost[], table: ArrayLike<number>, at: number, seen: Float64Array, stamp: number): LbHost | undefined {
  const size = table.length;
  let distinct = 0;
  for (let k = 0; k < size; k++) {
    const i = table[at]!;
    const h = hosts[i]!;
    if (h.healthy) return h;
    if (seen[i] !== stamp) {
      seen[i] = stamp;
      if (++distinct === hosts.length) return undefined;
    }
    at = at + 1 === size ? 0 : at + 1;
  }
  return undefined;
}
