/** Small order statistics for benchmark samples. Pure. */

/** The median of the finite values (mean of the middle two for an even count); NaN if none. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] ?? Number.NaN) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

/**
 * Nearest-rank percentiles (p in (0, 100]) of `values`; sorts a copy once for all of them.
 * Returns NaN for each when there are no values.
 */
export function percentiles(values: readonly number[], ps: readonly number[]): number[] {
  const v = Float64Array.from(values).sort();
  return ps.map((p) => {
    if (v.length === 0) return Number.NaN;
    const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
    return v[rank - 1] ?? Number.NaN;
  });
}
