/**
 * Cluster.outlier_detection validated and reduced to numbers, with Envoy's defaults
 * (source/common/upstream/outlier_detection_impl.h, DetectorConfig) and its proto limits.
 */
import type { OutlierDetection } from '../../../envoy/generated/envoy/config/cluster/v3/outlier_detection_pb.js';
import { durationMs } from '../../../envoy/duration.js';
import { ConfigError } from '../../../envoy/registry.js';

export interface OutlierSpec {
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionTimeJitterMs: number;
  readonly maxEjectionPercent: number;
  readonly alwaysEjectOneHost: boolean;
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly consecutiveLocalOriginFailure: number;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  /** success_rate_stdev_factor / 1000, as Envoy divides it. */
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
  /** Percent chance of enforcing an ejection of each kind (enforcing_*). */
  readonly enforcing: Readonly<Record<EjectionType, number>>;
  readonly successfulActiveHealthCheckUnejectHost: boolean;
}

/** Envoy's OutlierEjectionType, as the stat names spell them. */
export type EjectionType =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'local_origin_success_rate'
  | 'failure_percentage'
  | 'local_origin_failure_percentage';

const DEFAULT_BASE_EJECTION_TIME_MS = 30_000;

export function compileOutlierDetection(o: OutlierDetection, path: string): OutlierSpec {
  const positiveMs = (v: number | undefined, field: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (v <= 0) throw new ConfigError(`${path}.${field}`, 'must be > 0');
    return v;
  };
  const percent = (v: number | undefined, field: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (v > 100) throw new ConfigError(`${path}.${field}`, `must be <= 100, got ${v}`);
    return v;
  };
  const baseEjectionTimeMs = positiveMs(durationMs(o.baseEjectionTime), 'base_ejection_time', DEFAULT_BASE_EJECTION_TIME_MS);
  // Envoy: an unset max_ejection_time is the default (300 s) or base_ejection_time if larger.
  const maxEjectionTimeMs = positiveMs(durationMs(o.maxEjectionTime), 'max_ejection_time', Math.max(10 * DEFAULT_BASE_EJECTION_TIME_MS, baseEjectionTimeMs));
  if (maxEjectionTimeMs < baseEjectionTimeMs) throw new ConfigError(`${path}.max_ejection_time`, "outlier detector's max_ejection_time cannot be smaller than base_ejection_time");
  const jitter = durationMs(o.maxEjectionTimeJitter) ?? 0;
  if (jitter < 0) throw new ConfigError(`${path}.max_ejection_time_jitter`, 'must be >= 0');
  return {
    intervalMs: positiveMs(durationMs(o.interval), 'interval', 10_000),
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionTimeJitterMs: jitter,
    maxEjectionPercent: percent(o.maxEjectionPercent, 'max_ejection_percent', 10),
    alwaysEjectOneHost: o.alwaysEjectOneHost ?? false,
    consecutive5xx: o.consecutive5xx ?? 5,
    consecutiveGatewayFailure: o.consecutiveGatewayFailure ?? 5,
    consecutiveLocalOriginFailure: o.consecutiveLocalOriginFailure ?? 5,
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors,
    successRateMinimumHosts: o.successRateMinimumHosts ?? 5,
    successRateRequestVolume: o.successRateRequestVolume ?? 100,
    successRateStdevFactor: (o.successRateStdevFactor ?? 1900) / 1000,
    failurePercentageThreshold: percent(o.failurePercentageThreshold, 'failure_percentage_threshold', 85),
    failurePercentageMinimumHosts: o.failurePercentageMinimumHosts ?? 5,
    failurePercentageRequestVolume: o.failurePercentageRequestVolume ?? 50,
    enforcing: {
      consecutive_5xx: percent(o.enforcingConsecutive5xx, 'enforcing_consecutive_5xx', 100),
      // Off unless asked for: a gateway-failure ejection is detected and counted, not enforced.
      consecutive_gateway_failure: percent(o.enforcingConsecutiveGatewayFailure, 'enforcing_consecutive_gateway_failure', 0),
      consecutive_local_origin_failure: percent(o.enforcingConsecutiveLocalOriginFailure, 'enforcing_consecutive_local_origin_failure', 100),
      success_rate: percent(o.enforcingSuccessRate, 'enforcing_success_rate', 100),
      local_origin_success_rate: percent(o.enforcingLocalOriginSuccessRate, 'enforcing_local_origin_success_rate', 100),
      failure_percentage: percent(o.enforcingFailurePercentage, 'enforcing_failure_percentage', 0),
      local_origin_failure_percentage: percent(o.enforcingFailurePercentageLocalOrigin, 'enforcing_failure_percentage_local_origin', 0),
    },
    successfulActiveHealthCheckUnejectHost: o.successfulActiveHealthCheckUnejectHost ?? true,
  };
}
