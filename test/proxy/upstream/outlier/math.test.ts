import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  analyzeSuccessRates, backoffAfterEjection, backoffAfterHealthyInterval, ejectionAllowed, ejectionDurationMs, ejectionJitterMs,
  enforced, isGatewayError, isLocalOriginFailure, localOriginAsHttpStatus, successRateThreshold, type IntervalSample, type LocalOriginEvent,
} from '../../../../src/proxy/upstream/outlier/math.js';

describe('local-origin events', () => {
  const table: [LocalOriginEvent, number | undefined, boolean][] = [
    ['connect_failed', 503, true],
    ['reset', 503, true],
    ['timeout', 504, true],
    ['success', undefined, false],
    ['success_final', 200, false],
  ];
  for (const [e, status, failure] of table) {
    it(`${e}: as HTTP ${status ?? 'nothing'} without the split, ${failure ? 'a' : 'no'} failure with it`, () => {
      assert.equal(localOriginAsHttpStatus(e), status);
      assert.equal(isLocalOriginFailure(e), failure);
    });
  }
  it('gateway errors are 502, 503 and 504 only', () => {
    assert.deepEqual([499, 500, 501, 502, 503, 504, 505].map(isGatewayError), [false, false, false, true, true, true, false]);
  });
});

describe('ejectionAllowed (max_ejection_percent)', () => {
  const table: [number, number, number, boolean, boolean][] = [
    // ejected now, hosts, max %, always_eject_one_host, allowed
    [0, 10, 10, true, true],
    [0, 10, 10, false, true],
    [1, 10, 10, false, false],
    [0, 2, 10, false, false], // 50 % > 10 %: Envoy's default refuses to eject one host of two
    [0, 2, 10, true, true], // ...unless always_eject_one_host
    [1, 2, 10, true, false],
    [0, 2, 50, false, true],
    [1, 2, 50, false, false],
    [1, 2, 100, false, true],
    [2, 3, 100, false, true],
    [0, 3, 34, false, true],
    [1, 3, 34, false, false],
    [0, 4, 200, false, true], // above 100 is 100
    [0, 0, 100, false, false],
  ];
  for (const [ejected, hosts, max, one, want] of table) {
    it(`${ejected} of ${hosts} ejected, max ${max}%${one ? ', always one' : ''}: ${want ? 'eject' : 'overflow'}`, () => {
      assert.equal(ejectionAllowed(ejected, hosts, max, one), want);
    });
  }
});

describe('enforcing_* roll', () => {
  it('100 always, 0 never, otherwise by the draw', () => {
    assert.equal(enforced(100, () => 0.999), true);
    assert.equal(enforced(0, () => 0), false);
    assert.equal(enforced(30, () => 0.29), true);
    assert.equal(enforced(30, () => 0.3), false);
  });
});

describe('ejection time and its multiplier', () => {
  it('grows by one per ejection until base x multiplier passes max_ejection_time', () => {
    const base = 10, max = 35;
    const seq: number[] = [];
    let b = 0;
    for (let i = 0; i < 6; i++) { b = backoffAfterEjection(b, base, max); seq.push(b); }
    assert.deepEqual(seq, [1, 2, 3, 4, 5, 5]);
    assert.deepEqual(seq.map((m) => ejectionDurationMs(base, max, m, 0)), [10, 20, 30, 35, 35, 35]);
  });
  it('adds the jitter drawn at ejection', () => {
    assert.equal(ejectionDurationMs(1000, 300_000, 2, 17), 2017);
    assert.equal(ejectionJitterMs(0, () => 0.9), 0);
    assert.equal(ejectionJitterMs(100, () => 0), 0);
    assert.equal(ejectionJitterMs(100, () => 0.999999), 100);
  });
  it('drops by one per interval once the host has been back for an interval', () => {
    const table: [number, number, number, number, number][] = [
      // backoff, now, last unejection (0 = never), interval, next
      [2, 1000, 0, 100, 2],
      [2, 1000, 950, 100, 2],
      [2, 1000, 900, 100, 1],
      [0, 1000, 100, 100, 0],
    ];
    for (const [b, now, last, interval, want] of table) assert.equal(backoffAfterHealthyInterval(b, now, last, interval), want);
  });
});

describe('success-rate analysis', () => {
  const cfg = {
    successRateMinimumHosts: 5, successRateRequestVolume: 100, successRateStdevFactor: 1.9,
    failurePercentageThreshold: 85, failurePercentageMinimumHosts: 5, failurePercentageRequestVolume: 50,
  };
  const sample = (success: number, total = 100, ejected = false): IntervalSample => ({ total, success, ejected });

  it("Envoy's example: {50, 100, 100, 100, 100} has mean 90 and threshold 52", () => {
    const t = successRateThreshold([50, 100, 100, 100, 100], 1.9);
    assert.equal(t.average, 90);
    assert.ok(Math.abs(t.threshold - 52) < 1e-9);
  });

  it('ejects the host below mean - 1.9 stdev', () => {
    const a = analyzeSuccessRates([sample(100), sample(100), sample(100), sample(100), sample(10)], cfg);
    assert.deepEqual(a.successRateOutliers, [4]);
    assert.equal(a.average, 82);
    assert.deepEqual(a.hostSuccessRate, [100, 100, 100, 100, 10]);
    assert.deepEqual(a.failurePercentageOutliers, [4], 'a 90 % failure rate is over the 85 % threshold');
  });

  it('nothing with fewer than success_rate_minimum_hosts hosts of enough volume', () => {
    const a = analyzeSuccessRates([sample(100), sample(100), sample(100), sample(100, 99), sample(10)], cfg);
    assert.deepEqual(a.successRateOutliers, []);
    assert.equal(a.average, -1);
    assert.equal(a.threshold, -1);
    assert.deepEqual(a.failurePercentageOutliers, [4], 'failure percentage needs only 50 requests');
    assert.equal(a.hostSuccessRate[3], 100, 'shown once over the smaller of the two volumes');
  });

  it('ejected hosts and hosts without requests are left out', () => {
    const a = analyzeSuccessRates([sample(100), sample(100), sample(100), sample(100), sample(0, 100, true), sample(0, 0)], { ...cfg, successRateMinimumHosts: 4, failurePercentageMinimumHosts: 4 });
    assert.deepEqual(a.successRateOutliers, []);
    assert.deepEqual(a.failurePercentageOutliers, []);
    assert.deepEqual(a.hostSuccessRate, [100, 100, 100, 100, -1, -1]);
  });

  it('too few hosts in the cluster: nothing at all', () => {
    const a = analyzeSuccessRates([sample(100), sample(0)], cfg);
    assert.deepEqual(a, { average: -1, threshold: -1, hostSuccessRate: [-1, -1], successRateOutliers: [], failurePercentageOutliers: [] });
  });

  it('failure percentage: at or over the threshold', () => {
    const c = { ...cfg, failurePercentageMinimumHosts: 3, failurePercentageThreshold: 50 };
    const a = analyzeSuccessRates([sample(50, 50), sample(25, 50), sample(26, 50)], c);
    assert.deepEqual(a.failurePercentageOutliers, [1]);
  });

  it('a success counted without its total is clamped', () => {
    const a = analyzeSuccessRates([sample(101), sample(100), sample(100), sample(100), sample(100)], cfg);
    assert.deepEqual(a.hostSuccessRate, [100, 100, 100, 100, 100]);
  });
});
