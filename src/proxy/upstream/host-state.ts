/**
 * The instance-wide state of one upstream host and of one cluster, laid out in shared memory
 * (SharedSlots blocks) so that every worker thread reads and writes the same health flags,
 * outlier counters and ejection state, as Envoy's single host object is shared by its workers.
 *
 * A host block is keyed `host|<cluster>|<ip:port>`: hosts of a STRICT_DNS cluster are resolved
 * in each thread, and the address key makes their states meet.
 *
 * Zero is the state of a fresh block. For a cluster under active health checking a fresh host
 * must start failed (Envoy marks hosts FAILED_ACTIVE_HC until their first check passes), so the
 * active-HC bit records a pass, not a failure: whichever thread allocates the block first, no
 * thread can see a not-yet-checked host as healthy.
 */
import type { SharedSlots } from '../shared/slots.js';

/** Int32 indexes of a host block. */
export const H_FLAGS = 0;
/** Outlier detection's consecutive counters (Envoy's DetectorHostMonitorImpl). */
export const H_CONSECUTIVE_5XX = 1;
export const H_CONSECUTIVE_GATEWAY = 2;
export const H_CONSECUTIVE_LOCAL = 3;
/** The success-rate buckets being written (requests and successes, external and local origin). */
export const H_EXT_TOTAL = 4;
export const H_EXT_SUCCESS = 5;
export const H_LOCAL_TOTAL = 6;
export const H_LOCAL_SUCCESS = 7;
/** Times ejected, ejection-time multiplier, and the jitter (ms) drawn for the current ejection. */
export const H_EJECTIONS = 8;
export const H_BACKOFF = 9;
export const H_JITTER_MS = 10;
/**
 * Responses that carried x-envoy-immediate-health-check-fail, counted by the workers; the health
 * checker (supervisor) folds each new one into its session as a passive failure.
 */
export const H_IMMEDIATE_FAILS = 11;
const HOST_INTS = 12;

/** BigInt64 indexes of a host's time block (Date.now() ms; 0 = never). */
export const T_LAST_EJECTION = 0;
export const T_LAST_UNEJECTION = 1;
const HOST_TIMES = 2;

/** Bits of H_FLAGS. */
export const F_HC_PASSED = 1;
export const F_OUTLIER_EJECTED = 2;
/** Envoy's ACTIVE_HC_TIMEOUT: failed active HC, and the last check timed out. */
export const F_HC_TIMEOUT = 4;
/** A thread is ejecting the host (claimed before the ejection's times are written). */
export const F_EJECTING = 8;
/**
 * Envoy's EXCLUDED_VIA_IMMEDIATE_HC_FAIL: the host answered x-envoy-immediate-health-check-fail;
 * it is out of the panic computation until its active health check passes again.
 */
export const F_HC_EXCLUDED = 16;

/** Int32 indexes of a cluster block. */
export const C_GENERATION = 0;
export const C_EJECTIONS_ACTIVE = 1;
export const C_TRAFFIC = 2;
const CLUSTER_INTS = 4;

export function hostBlock(slots: SharedSlots, cluster: string, key: string): Int32Array {
  return slots.block(`host|${cluster}|${key}`, HOST_INTS);
}

export function hostTimes(slots: SharedSlots, cluster: string, key: string): BigInt64Array {
  return slots.block64(`hostt|${cluster}|${key}`, HOST_TIMES);
}

export function clusterBlock(slots: SharedSlots, cluster: string): Int32Array {
  return slots.block(`cluster|${cluster}`, CLUSTER_INTS);
}

/**
 * Envoy's host health flags as /clusters prints them (HostUtility::healthFlagsToString):
 * `healthy`, or the failed flags each prefixed by `/`, in Envoy's order.
 */
export function healthFlagsText(flags: number, activeHc: boolean): string {
  let s = '';
  if (activeHc && (flags & F_HC_PASSED) === 0) s += '/failed_active_hc';
  if (flags & F_OUTLIER_EJECTED) s += '/failed_outlier_check';
  if (activeHc && (flags & F_HC_EXCLUDED)) s += '/excluded_via_immediate_hc_fail';
  if (activeHc && (flags & F_HC_PASSED) === 0 && (flags & F_HC_TIMEOUT)) s += '/active_hc_timeout';
  return s || 'healthy';
}

/**
 * A host answered x-envoy-immediate-health-check-fail (cluster under active health checking): it
 * fails its active health check now, from whichever thread saw the answer; the health checker
 * learns of it from the counter.
 */
export function failImmediately(state: Int32Array): void {
  Atomics.add(state, H_IMMEDIATE_FAILS, 1);
  Atomics.or(state, H_FLAGS, F_HC_EXCLUDED);
  Atomics.and(state, H_FLAGS, ~(F_HC_PASSED | F_HC_TIMEOUT));
}

/** Hosts whose active health check passed (the health_check.healthy gauge). */
export function countHcPassed(hosts: readonly { readonly state: Int32Array }[]): number {
  let n = 0;
  for (const h of hosts) if (Atomics.load(h.state, H_FLAGS) & F_HC_PASSED) n++;
  return n;
}

/** Whether a host with these flags is healthy (in the load balancer's healthy set). */
export function isHealthy(flags: number, activeHc: boolean): boolean {
  return (flags & F_OUTLIER_EJECTED) === 0 && (!activeHc || (flags & F_HC_PASSED) !== 0);
}
