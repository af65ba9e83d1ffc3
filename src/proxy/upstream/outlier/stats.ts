import { prefixed, statSet, type StatScope } from '../../stats-scope.js';
import type { EjectionType } from './config.js';

/**
 * Envoy's `cluster.<name>.outlier_detection.*` stats, counted once per proxy instance (on the
 * shared scope) whichever thread detects or ejects. ejections_total, ejections_consecutive_5xx
 * and ejections_success_rate are Envoy's deprecated counters, kept as Envoy still emits them.
 */
const COUNTERS = [
  'ejections_enforced_total',
  'ejections_overflow',
  'ejections_total',
  'ejections_consecutive_5xx',
  'ejections_success_rate',
  'ejections_detected_consecutive_5xx',
  'ejections_enforced_consecutive_5xx',
  'ejections_detected_consecutive_gateway_failure',
  'ejections_enforced_consecutive_gateway_failure',
  'ejections_detected_consecutive_local_origin_failure',
  'ejections_enforced_consecutive_local_origin_failure',
  'ejections_detected_success_rate',
  'ejections_enforced_success_rate',
  'ejections_detected_local_origin_success_rate',
  'ejections_enforced_local_origin_success_rate',
  'ejections_detected_failure_percentage',
  'ejections_enforced_failure_percentage',
  'ejections_detected_local_origin_failure_percentage',
  'ejections_enforced_local_origin_failure_percentage',
] as const;
const GAUGES = ['ejections_active'] as const;

export type OutlierStats = ReturnType<typeof outlierStats>;

/** `scope` is the cluster's instance-wide scope; the names get the `outlier_detection.` prefix. */
export function outlierStats(scope: StatScope) {
  return statSet(prefixed(scope, 'outlier_detection.'), COUNTERS, GAUGES);
}

export function detectedStat(type: EjectionType): `ejections_detected_${EjectionType}` {
  return `ejections_detected_${type}`;
}

export function enforcedStat(type: EjectionType): `ejections_enforced_${EjectionType}` {
  return `ejections_enforced_${type}`;
}
