/**
 * The arithmetic of Envoy's outlier detector (source/common/upstream/outlier_detection_impl.cc),
 * as pure functions: which events count as failures, the ejection cap, the ejection time and
 * its multiplier, and the success-rate and failure-percentage analyses of an interval.
 */

/** What the router and tcp_proxy report besides HTTP statuses (Envoy's Outlier::Result). */
export type LocalOriginEvent =
  /** The connection (or the pool's connection) could not be made. */
  | 'connect_failed'
  /** No answer before the route or connect timeout. */
  | 'timeout'
  /** The upstream reset or closed the stream or connection. */
  | 'reset'
  /** A connection to the host is ready for a request; the request itself may still fail. */
  | 'success'
  /** A transaction that has no other result completed (tcp_proxy connected). */
  | 'success_final';

/**
 * Without split_external_local_origin_errors, local-origin events count as the HTTP status the
 * router would answer (DetectorHostMonitorImpl::resultToHttpCode): 503 for a failed connection
 * or a reset, 504 for a timeout, 200 for a final success. `success` (connection ready, request
 * pending) maps to nothing, so that the request's own status decides.
 */
export function localOriginAsHttpStatus(e: LocalOriginEvent): number | undefined {
  switch (e) {
    case 'connect_failed':
    case 'reset': return 503;
    case 'timeout': return 504;
    case 'success_final': return 200;
    case 'success': return undefined;
  }
}

/** With the split, which local-origin events are failures of the host's connectivity. */
export function isLocalOriginFailure(e: LocalOriginEvent): boolean {
  return e === 'connect_failed' || e === 'timeout' || e === 'reset';
}

/** 502, 503, 504: Envoy's gateway errors (Http::CodeUtility::isGatewayError). */
export function isGatewayError(status: number): boolean {
  return status >= 502 && status <= 504;
}

/**
 * Whether one more host may be ejected: Envoy allows it while the ejected share, this one
 * included, stays within max_ejection_percent; always_eject_one_host lets the first through.
 */
export function ejectionAllowed(ejectedNow: number, hostCount: number, maxEjectionPercent: number, alwaysEjectOneHost: boolean): boolean {
  if (hostCount <= 0) return false;
  const percent = (100 * (ejectedNow + 1)) / hostCount;
  return percent <= Math.min(100, maxEjectionPercent) || (alwaysEjectOneHost && ejectedNow === 0);
}

/** Envoy's enforcing_* roll: the ejection happens with `percent` % chance. */
export function enforced(percent: number, random: () => number): boolean {
  return percent >= 100 || (percent > 0 && random() * 100 < percent);
}

/**
 * The multiplier after an ejection: one more, as long as base x multiplier has not yet passed
 * max_ejection_time (Envoy stops growing it once the capped time is reached).
 */
export function backoffAfterEjection(backoff: number, baseMs: number, maxMs: number): number {
  return backoff * baseMs < maxMs + baseMs ? backoff + 1 : backoff;
}

/** How long an ejection lasts: base x multiplier, capped at max_ejection_time, plus its jitter. */
export function ejectionDurationMs(baseMs: number, maxMs: number, backoff: number, jitterMs: number): number {
  return Math.min(baseMs * backoff, maxMs) + jitterMs;
}

/**
 * At each interval a host that is not ejected, and was returned to service at least one
 * interval ago, has its multiplier decreased by one (to 0), so a host that stays good is
 * ejected for the base time again the next time.
 */
export function backoffAfterHealthyInterval(backoff: number, nowMs: number, lastUnejectionMs: number, intervalMs: number): number {
  return lastUnejectionMs > 0 && nowMs - lastUnejectionMs >= intervalMs && backoff > 0 ? backoff - 1 : backoff;
}

/** Jitter for one ejection: uniform in [0, max_ejection_time_jitter] ms. */
export function ejectionJitterMs(maxJitterMs: number, random: () => number): number {
  return maxJitterMs > 0 ? Math.min(maxJitterMs, Math.floor(random() * (maxJitterMs + 1))) : 0;
}

/** One host's requests in the last complete interval. */
export interface IntervalSample {
  readonly total: number;
  readonly success: number;
  /** Already ejected: Envoy leaves it out of the analysis. */
  readonly ejected: boolean;
}

export interface SuccessRateConfig {
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
}

export interface SuccessRateAnalysis {
  /** Mean success rate of the hosts with enough volume, -1 when not computed (as /clusters shows). */
  readonly average: number;
  /** average - stdev_factor x stdev, -1 when not computed. */
  readonly threshold: number;
  /** Per host (same order), the success rate /clusters shows; -1 when below both volumes. */
  readonly hostSuccessRate: readonly number[];
  /** Indexes of hosts below the success-rate threshold. */
  readonly successRateOutliers: readonly number[];
  /** Indexes of hosts whose failure percentage reaches failure_percentage_threshold. */
  readonly failurePercentageOutliers: readonly number[];
}

/**
 * Envoy's processSuccessRateEjections for one kind of origin: with enough hosts that each had
 * enough requests in the interval, a host whose success rate is below mean - factor x stdev
 * (population stdev) is an outlier; separately, one whose failure percentage is at least the
 * threshold is. `hostCount` counts every host of the cluster, ejected ones included.
 */
export function analyzeSuccessRates(samples: readonly IntervalSample[], cfg: SuccessRateConfig, hostCount = samples.length): SuccessRateAnalysis {
  const hostSuccessRate = samples.map(() => -1);
  const none: SuccessRateAnalysis = { average: -1, threshold: -1, hostSuccessRate, successRateOutliers: [], failurePercentageOutliers: [] };
  if (hostCount < cfg.successRateMinimumHosts && hostCount < cfg.failurePercentageMinimumHosts) return none;
  const sr: number[] = [], fp: number[] = [];
  samples.forEach((s, i) => {
    if (s.ejected || s.total === 0) return;
    const rate = (Math.min(s.success, s.total) * 100) / s.total;
    if (s.total >= Math.min(cfg.successRateRequestVolume, cfg.failurePercentageRequestVolume)) hostSuccessRate[i] = rate;
    if (s.total >= cfg.successRateRequestVolume) sr.push(i);
    if (s.total >= cfg.failurePercentageRequestVolume) fp.push(i);
  });
  const rateOf = (i: number): number => (Math.min(samples[i]!.success, samples[i]!.total) * 100) / samples[i]!.total;
  let average = -1, threshold = -1;
  const successRateOutliers: number[] = [];
  if (sr.length > 0 && sr.length >= cfg.successRateMinimumHosts) {
    ({ average, threshold } = successRateThreshold(sr.map(rateOf), cfg.successRateStdevFactor));
    for (const i of sr) if (rateOf(i) < threshold) successRateOutliers.push(i);
  }
  const failurePercentageOutliers: number[] = [];
  if (fp.length > 0 && fp.length >= cfg.failurePercentageMinimumHosts) {
    for (const i of fp) if (100 - rateOf(i) >= cfg.failurePercentageThreshold) failurePercentageOutliers.push(i);
  }
  return { average, threshold, hostSuccessRate, successRateOutliers, failurePercentageOutliers };
}

/**
 * Mean and ejection threshold of a set of success rates: mean - factor x population stdev.
 * Envoy's example: {50, 100, 100, 100, 100} with factor 1.9 gives mean 90, stdev 20, threshold 52.
 */
export function successRateThreshold(rates: readonly number[], stdevFactor: number): { average: number; threshold: number } {
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const variance = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length;
  return { average: mean, threshold: mean - stdevFactor * Math.sqrt(variance) };
}
