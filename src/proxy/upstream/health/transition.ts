/**
 * The per-host state machine of active health checking (Envoy's ActiveHealthCheckSession
 * handleSuccess / setUnhealthy), pure: a result in, the new state and whether the host's health
 * changed out.
 *
 * - A host starts failed. Its first result decides at once; after that it takes
 *   healthy_threshold passes in a row to become healthy.
 * - A failed network check (connect failure, reset, timeout) counts toward unhealthy_threshold;
 *   any other failure (an unexpected HTTP status, a gRPC NOT_SERVING) fails the host at once
 *   unless the status is retriable.
 */
import type { HealthTransition } from './interval.js';

export interface SessionState {
  readonly passed: boolean;
  /** Failed, and the last failure was a timeout (Envoy's ACTIVE_HC_TIMEOUT). */
  readonly timedOut: boolean;
  readonly firstCheck: boolean;
  readonly numHealthy: number;
  readonly numUnhealthy: number;
}

export const INITIAL_SESSION: SessionState = { passed: false, timedOut: false, firstCheck: true, numHealthy: 0, numUnhealthy: 0 };

/** How a check failed: Envoy's HealthCheckFailureType. */
export type FailureType = 'network' | 'network_timeout' | 'active';

export interface Thresholds { readonly healthyThreshold: number; readonly unhealthyThreshold: number }

export interface Step { readonly state: SessionState; readonly transition: HealthTransition }

export function onCheckSuccess(s: SessionState, t: Thresholds): Step {
  if (s.passed) return { state: { ...s, firstCheck: false, numUnhealthy: 0 }, transition: 'unchanged' };
  const numHealthy = s.numHealthy + 1;
  if (s.firstCheck || numHealthy >= t.healthyThreshold) {
    return { state: { passed: true, timedOut: false, firstCheck: false, numHealthy: 0, numUnhealthy: 0 }, transition: 'changed' };
  }
  return { state: { ...s, firstCheck: false, numHealthy, numUnhealthy: 0 }, transition: 'pending' };
}

/**
 * A passive failure (x-envoy-immediate-health-check-fail on a response): the host fails at once,
 * and then needs healthy_threshold passing checks, as after any non-network failure.
 */
export function onPassiveFailure(s: SessionState): Step {
  return { state: { passed: false, timedOut: false, firstCheck: false, numHealthy: 0, numUnhealthy: s.numUnhealthy }, transition: s.passed ? 'changed' : 'unchanged' };
}

export function onCheckFailure(s: SessionState, type: FailureType, retriable: boolean, t: Thresholds): Step {
  let passed = s.passed;
  let numUnhealthy = s.numUnhealthy;
  let transition: HealthTransition = 'unchanged';
  if (passed) {
    numUnhealthy++;
    const network = type === 'network' || type === 'network_timeout';
    if ((!network && !retriable) || numUnhealthy >= t.unhealthyThreshold) {
      passed = false;
      numUnhealthy = 0;
      transition = 'changed';
    } else {
      transition = 'pending';
    }
  }
  return { state: { passed, timedOut: !passed && type === 'network_timeout', firstCheck: false, numHealthy: 0, numUnhealthy }, transition };
}
