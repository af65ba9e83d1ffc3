/**
 * Envoy's default histogram bucket bounds, in milliseconds
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/metrics/v3/stats.proto, `histogram_bucket_settings`),
 * and quantiles computed from bucket counts.
 */
export const BUCKET_BOUNDS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** The quantiles Envoy prints for /stats: P0 P25 P50 P75 P90 P95 P99 P99.5 P99.9 P100. */
export const SUPPORTED_QUANTILES: readonly number[] = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];

/** Index of the bucket a value falls in: the first bound >= value (Prometheus `le`), or the overflow bucket. */
export function bucketIndex(value: number): number {
  const b = BUCKET_BOUNDS;
  let i = 0;
  while (i < b.length && value > b[i]!) i++;
  return i;
}

/**
 * The q-quantile (0..1) of the values counted in `buckets` (per bucket, not cumulative; one
 * more than BUCKET_BOUNDS for overflow), interpolating linearly inside the bucket as
 * Prometheus' histogram_quantile does. Values past the last bound count as that bound.
 * NaN when there are no values (Envoy prints `nan`).
 */
export function quantile(buckets: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < buckets.length; i++) total += buckets[i]!;
  if (total === 0) return NaN;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (n === 0) continue;
    if (below + n >= rank) {
      const lower = i === 0 ? 0 : BUCKET_BOUNDS[i - 1]!;
      if (i >= BUCKET_BOUNDS.length) return lower;
      const upper = BUCKET_BOUNDS[i]!;
      return round(lower + ((upper - lower) * Math.max(0, rank - below)) / n);
    }
    below += n;
  }
  return BUCKET_BOUNDS[BUCKET_BOUNDS.length - 1]!;
}

/** quantile() for each of SUPPORTED_QUANTILES. */
export function supportedQuantiles(buckets: ArrayLike<number>): number[] {
  return SUPPORTED_QUANTILES.map((q) => quantile(buckets, q));
}

/** Interpolation noise (2.9999999999999996) helps nobody reading /stats. */
function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
