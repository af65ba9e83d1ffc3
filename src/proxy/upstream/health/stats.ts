import { prefixed, statSet, type StatScope } from '../../stats-scope.js';

/**
 * Envoy's `cluster.<name>.health_check.*` stats, counted once per proxy instance (the checks
 * run in the supervisor thread only). passive_failure and verify_cluster exist as in Envoy but
 * stay 0: immediate health-check failure headers and service_name_matcher are not implemented.
 */
const COUNTERS = ['attempt', 'success', 'failure', 'network_failure', 'passive_failure', 'verify_cluster'] as const;
const GAUGES = ['healthy', 'degraded'] as const;

export type HealthCheckStats = ReturnType<typeof healthCheckStats>;

export function healthCheckStats(scope: StatScope) {
  return statSet(prefixed(scope, 'health_check.'), COUNTERS, GAUGES);
}
