/**
 * Outlier detection's interval work, once per proxy instance in the supervisor thread (Envoy's
 * DetectorImpl::onIntervalTimer): return ejected hosts whose time is up, close the interval's
 * success-rate buckets, eject success-rate and failure-percentage outliers, and lower the
 * ejection multiplier of hosts that stayed in service.
 */
import type { UpstreamHost } from '../host.js';
import {
  F_OUTLIER_EJECTED, H_BACKOFF, H_EXT_SUCCESS, H_EXT_TOTAL, H_JITTER_MS, H_LOCAL_SUCCESS, H_LOCAL_TOTAL,
  T_LAST_EJECTION, T_LAST_UNEJECTION,
} from '../host-state.js';
import type { EjectionType } from './config.js';
import type { OutlierDetector } from './detector.js';
import { analyzeSuccessRates, backoffAfterHealthyInterval, ejectionDurationMs, type IntervalSample } from './math.js';
import { detectedStat } from './stats.js';

/** Success rates as /clusters prints them (-1: not computed). */
export interface SuccessRates { ext: number; local: number }

export class OutlierSweep {
  /** Cluster-wide average and ejection threshold, external and local origin. */
  readonly average = { ext: -1, local: -1 };
  readonly threshold = { ext: -1, local: -1 };
  readonly #hostRates = new Map<string, SuccessRates>();
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly detector: OutlierDetector) {}

  start(): void {
    this.#timer = setTimeout(this.#tick, this.detector.spec.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The success rates of the last interval, for /clusters. */
  successRate(host: UpstreamHost): SuccessRates {
    return this.#hostRates.get(host.key) ?? { ext: -1, local: -1 };
  }

  #tick = (): void => {
    this.sweep();
    this.start();
  };

  /** One interval's work; exposed so tests can drive it without waiting. */
  sweep(): void {
    const { detector } = this;
    const { spec } = detector;
    const hosts = detector.cluster.hosts;
    const now = detector.now();
    const ext: IntervalSample[] = [], local: IntervalSample[] = [];
    for (const h of hosts) {
      if (h.flags & F_OUTLIER_EJECTED) {
        const since = now - Number(Atomics.load(h.times, T_LAST_EJECTION));
        const duration = ejectionDurationMs(spec.baseEjectionTimeMs, spec.maxEjectionTimeMs, Atomics.load(h.state, H_BACKOFF), Atomics.load(h.state, H_JITTER_MS));
        if (duration <= since) detector.uneject(h);
      }
      // Success first: a request counted between the two exchanges then has its total in the
      // next interval rather than a success without a total in this one.
      const extSuccess = Atomics.exchange(h.state, H_EXT_SUCCESS, 0), extTotal = Atomics.exchange(h.state, H_EXT_TOTAL, 0);
      const localSuccess = Atomics.exchange(h.state, H_LOCAL_SUCCESS, 0), localTotal = Atomics.exchange(h.state, H_LOCAL_TOTAL, 0);
      const ejected = (h.flags & F_OUTLIER_EJECTED) !== 0;
      ext.push({ total: extTotal, success: extSuccess, ejected });
      local.push({ total: localTotal, success: localSuccess, ejected });
    }
    const extRates = this.#analyze(hosts, ext, 'ext');
    const localRates = this.#analyze(hosts, local, 'local');
    this.#hostRates.clear();
    hosts.forEach((h, i) => this.#hostRates.set(h.key, { ext: extRates[i]!, local: localRates[i]! }));
    for (const h of hosts) {
      if (h.flags & F_OUTLIER_EJECTED) continue;
      const b = Atomics.load(h.state, H_BACKOFF);
      const next = backoffAfterHealthyInterval(b, now, Number(Atomics.load(h.times, T_LAST_UNEJECTION)), spec.intervalMs);
      if (next !== b) Atomics.store(h.state, H_BACKOFF, next);
    }
  }

  #analyze(hosts: readonly UpstreamHost[], samples: IntervalSample[], origin: 'ext' | 'local'): readonly number[] {
    const { detector } = this;
    const a = analyzeSuccessRates(samples, detector.spec, hosts.length);
    this.average[origin] = a.average;
    this.threshold[origin] = a.threshold;
    const srType: EjectionType = origin === 'ext' ? 'success_rate' : 'local_origin_success_rate';
    const fpType: EjectionType = origin === 'ext' ? 'failure_percentage' : 'local_origin_failure_percentage';
    for (const i of a.successRateOutliers) {
      detector.stats.ejections_success_rate.inc();
      detector.stats[detectedStat(srType)].inc();
      detector.eject(hosts[i]!, srType);
    }
    for (const i of a.failurePercentageOutliers) {
      detector.stats[detectedStat(fpType)].inc();
      detector.eject(hosts[i]!, fpType);
    }
    return a.hostSuccessRate;
  }
}
