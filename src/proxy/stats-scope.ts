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
