import { prefixed, statSet, type StatScope } from '../../stats-scope.js';

/**
 * Envoy's `cluster.<name>.health_check.*` stats, counted once per proxy instance: the checks run
 * in the supervisor thread; passive_failure (and failure) also count the
 * x-envoy-immediate-health-check-fail answers the workers see. verify_cluster exists as in Envoy
 * but stays 0: service_name_matcher is not implemented.
 */
const COUNTERS = ['attempt', 'success', 'failure', 'network_failure', 'passive_failure', 'verify_cluster'] as const;
const GAUGES = ['healthy', 'degraded'] as const;

export type HealthCheckStats = ReturnType<typeof healthCheckStats>;

export function healthCheckStats(scope: StatScope) {
  return statSet(prefixed(scope, 'health_check.'), COUNTERS, GAUGES);
}
