/** The handles the data plane increments; backed by the shared stats store. */
export interface Counter { inc(n?: number): void; }
export interface Gauge { inc(n?: number): void; dec(n?: number): void; set(v: number): void; }
export interface Histogram { record(ms: number): void; }

/**
 * A scope names stats under one prefix (`cluster.<name>.`, `http.<prefix>.`) and knows how the
 * prefix becomes Prometheus tags. Implemented over the shared store in admin/.
 */
export interface StatScope {
  counter(stat: string): Counter;
  gauge(stat: string): Gauge;
  histogram(stat: string): Histogram;
}

/** Handles named after their stats, built from lists of names: one place per stat, not three. */
export type StatSet<C extends string, G extends string, H extends string> = Record<C, Counter> & Record<G, Gauge> & Record<H, Histogram>;

export function statSet<C extends string, G extends string = never, H extends string = never>(
  scope: StatScope, counters: readonly C[], gauges: readonly G[] = [], histograms: readonly H[] = [],
): StatSet<C, G, H> {
  const out: Record<string, Counter | Gauge | Histogram> = {};
  for (const n of counters) out[n] = scope.counter(n);
  for (const n of gauges) out[n] = scope.gauge(n);
  for (const n of histograms) out[n] = scope.histogram(n);
  return out as StatSet<C, G, H>;
}

/** `scope` with `prefix` put before every stat name (a filter's `fault.` under `http.<prefix>.`). */
export function prefixed(scope: StatScope, prefix: string): StatScope {
  return {
    counter: (stat) => scope.counter(prefix + stat),
    gauge: (stat) => scope.gauge(prefix + stat),
    histogram: (stat) => scope.histogram(prefix + stat),
  };
}
