/**
 * When the next active health check of a host runs (Envoy's HealthCheckerImplBase::interval),
 * from the result of the check just done (`passed`) and what it did to the host. Until the
 * cluster has had traffic, no_traffic_interval (no_traffic_healthy_interval after a pass that
 * changed nothing pending) applies. Afterwards: interval after a pass, unhealthy_interval after
 * a failure, and the edge intervals while a change of state is pending (the result went the
 * other way but its threshold is not reached yet). Jitter is added on top.
 */
import type { HealthCheckSpec } from './config.js';

export type HealthTransition = 'unchanged' | 'changed' | 'pending';

export function nextIntervalMs(
  spec: HealthCheckSpec, passed: boolean, transition: HealthTransition, trafficSeen: boolean, random: () => number,
): number {
  let base: number;
  if (!trafficSeen) base = passed && transition !== 'pending' ? spec.noTrafficHealthyIntervalMs : spec.noTrafficIntervalMs;
  else if (!passed) base = transition === 'pending' ? spec.unhealthyEdgeIntervalMs : spec.unhealthyIntervalMs;
  else base = transition === 'pending' ? spec.healthyEdgeIntervalMs : spec.intervalMs;
  return withJitter(base, spec.intervalJitterMs, spec.intervalJitterPercent, random);
}

/**
 * Envoy's intervalWithJitter: plus up to interval_jitter_percent of the base, plus up to
 * interval_jitter; never below 1 ms.
 */
export function withJitter(baseMs: number, jitterMs: number, jitterPercent: number, random: () => number): number {
  let ms = baseMs;
  const percentMod = Math.floor((jitterPercent * baseMs) / 100);
  if (percentMod > 0) ms += Math.floor(random() * percentMod);
  if (jitterMs > 0) ms += Math.floor(random() * jitterMs);
  return Math.max(1, ms);
}
