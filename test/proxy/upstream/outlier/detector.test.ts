import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { OutlierDetectionSchema } from '../../../../src/envoy/generated/envoy/config/cluster/v3/outlier_detection_pb.js';
import { StatsStore } from '../../../../src/proxy/admin/stats.js';
import { scopesFor } from '../../../../src/proxy/admin/scopes.js';
import { SharedSlots } from '../../../../src/proxy/shared/slots.js';
import { ClusterHealth } from '../../../../src/proxy/upstream/cluster-health.js';
import { UpstreamHost } from '../../../../src/proxy/upstream/host.js';
import { healthFlagsText, hostBlock, hostTimes } from '../../../../src/proxy/upstream/host-state.js';
import { compileOutlierDetection } from '../../../../src/proxy/upstream/outlier/config.js';
import { OutlierDetector } from '../../../../src/proxy/upstream/outlier/detector.js';
import { outlierStats } from '../../../../src/proxy/upstream/outlier/stats.js';
import { OutlierSweep } from '../../../../src/proxy/upstream/outlier/sweep.js';

/**
 * A cluster of `n` hosts as one thread sees it, over shared slots and a shared stats store:
 * two of these on the same slots behave as two worker threads of one proxy.
 */
function threadView(slots: SharedSlots, store: StatsStore, n: number, json: JsonValue, clock: { now: number }, random = () => 0) {
  const scope = scopesFor(store).cluster('app');
  const health = new ClusterHealth(slots, 'app', false, 50, scope.gauge('membership_healthy'));
  const cluster = { hosts: [] as UpstreamHost[], health };
  for (let i = 0; i < n; i++) {
    const key = `10.0.0.${i + 1}:80`;
    cluster.hosts.push(new UpstreamHost(`10.0.0.${i + 1}`, 80, 1, '', health, hostBlock(slots, 'app', key), hostTimes(slots, 'app', key)));
  }
  health.hostsChanged(cluster.hosts);
  const detector = new OutlierDetector(compileOutlierDetection(fromJson(OutlierDetectionSchema, json), 'od'), outlierStats(scope), cluster, random, () => clock.now);
  return { ...cluster, detector, sweep: new OutlierSweep(detector) };
}

function setup(n: number, json: JsonValue) {
  const slots = SharedSlots.create({ entries: 256, ints: 8192, nameBytes: 16384 });
  const store = StatsStore.create();
  const clock = { now: 1_000_000 };
  const stat = (name: string): number => {
    const full = `cluster.app.outlier_detection.${name}`;
    return name === 'ejections_active' ? store.gauge(full).value : store.counter(full).value;
  };
  return { slots, store, clock, stat, a: threadView(slots, store, n, json, clock), b: threadView(slots, store, n, json, clock) };
}

const flags = (h: UpstreamHost) => healthFlagsText(h.flags, false);

describe('outlier detector across threads', () => {
  it('consecutive 5xx add up across threads; the one that reaches the threshold ejects', () => {
    const { a, b, stat } = setup(4, { consecutive_5xx: 5, max_ejection_percent: 50 });
    a.detector.onHttpStatus(a.hosts[0]!, 503);
    b.detector.onHttpStatus(b.hosts[0]!, 500);
    a.detector.onHttpStatus(a.hosts[0]!, 502);
    b.detector.onHttpStatus(b.hosts[0]!, 504);
    assert.equal(flags(b.hosts[0]!), 'healthy');
    b.detector.onHttpStatus(b.hosts[0]!, 503);
    assert.equal(flags(a.hosts[0]!), '/failed_outlier_check', 'thread a sees the ejection made in b');
    assert.equal(a.hosts[0]!.healthy, false);
    assert.equal(stat('ejections_enforced_consecutive_5xx'), 1);
    assert.equal(stat('ejections_detected_consecutive_5xx'), 1);
    assert.equal(stat('ejections_active'), 1);
    // gateway failures were detected too (5 in a row) but are not enforced by default
    assert.equal(stat('ejections_detected_consecutive_gateway_failure'), 0, 'a 500 broke the gateway run');
  });

  it('a success anywhere resets the run', () => {
    const { a, b } = setup(4, { consecutive_5xx: 3, max_ejection_percent: 50 });
    a.detector.onHttpStatus(a.hosts[1]!, 503);
    a.detector.onHttpStatus(a.hosts[1]!, 503);
    b.detector.onHttpStatus(b.hosts[1]!, 200);
    a.detector.onHttpStatus(a.hosts[1]!, 503);
    a.detector.onHttpStatus(a.hosts[1]!, 503);
    assert.equal(flags(a.hosts[1]!), 'healthy');
    b.detector.onHttpStatus(b.hosts[1]!, 503);
    assert.equal(flags(a.hosts[1]!), '/failed_outlier_check');
  });

  it('max_ejection_percent caps ejections instance-wide (overflow counted)', () => {
    const { a, b, stat } = setup(4, { consecutive_5xx: 1, max_ejection_percent: 50 });
    a.detector.onHttpStatus(a.hosts[0]!, 500);
    b.detector.onHttpStatus(b.hosts[1]!, 500);
    a.detector.onHttpStatus(a.hosts[2]!, 500);
    b.detector.onHttpStatus(b.hosts[3]!, 500);
    assert.deepEqual(a.hosts.map(flags), ['/failed_outlier_check', '/failed_outlier_check', 'healthy', 'healthy']);
    assert.equal(stat('ejections_overflow'), 2);
    assert.equal(stat('ejections_active'), 2);
  });

  it('gateway failures eject when enforced; local-origin events count as 503/504 without the split', () => {
    const { a, stat } = setup(4, { consecutive_5xx: 100, consecutive_gateway_failure: 3, enforcing_consecutive_gateway_failure: 100, max_ejection_percent: 100 });
    a.detector.onLocalOrigin(a.hosts[0]!, 'connect_failed');
    a.detector.onLocalOrigin(a.hosts[0]!, 'timeout');
    a.detector.onLocalOrigin(a.hosts[0]!, 'success');
    assert.equal(flags(a.hosts[0]!), 'healthy', "a ready connection says nothing about the request");
    a.detector.onLocalOrigin(a.hosts[0]!, 'reset');
    assert.equal(flags(a.hosts[0]!), '/failed_outlier_check');
    assert.equal(stat('ejections_enforced_consecutive_gateway_failure'), 1);
  });

  it('with split_external_local_origin_errors, local-origin failures have their own count and 5xx theirs', () => {
    const { a, stat } = setup(4, { split_external_local_origin_errors: true, consecutive_local_origin_failure: 2, consecutive_5xx: 2, max_ejection_percent: 100 });
    a.detector.onLocalOrigin(a.hosts[0]!, 'connect_failed');
    a.detector.onHttpStatus(a.hosts[0]!, 503);
    a.detector.onLocalOrigin(a.hosts[0]!, 'success');
    a.detector.onLocalOrigin(a.hosts[0]!, 'connect_failed');
    assert.equal(flags(a.hosts[0]!), 'healthy');
    a.detector.onLocalOrigin(a.hosts[0]!, 'timeout');
    assert.equal(flags(a.hosts[0]!), '/failed_outlier_check');
    assert.equal(stat('ejections_enforced_consecutive_local_origin_failure'), 1);
    a.detector.onHttpStatus(a.hosts[1]!, 500);
    a.detector.onHttpStatus(a.hosts[1]!, 500);
    assert.equal(flags(a.hosts[1]!), '/failed_outlier_check');
  });

  it('the sweep returns a host after base_ejection_time x its multiplier, which grows and then decays', () => {
    const { a, b, clock, stat } = setup(4, { consecutive_5xx: 1, base_ejection_time: '10s', interval: '1s', max_ejection_percent: 50 });
    const h = a.hosts[0]!;
    b.detector.onHttpStatus(b.hosts[0]!, 500);
    clock.now += 9_999;
    a.sweep.sweep();
    assert.equal(flags(h), '/failed_outlier_check');
    clock.now += 1;
    a.sweep.sweep();
    assert.equal(flags(h), 'healthy');
    assert.equal(stat('ejections_active'), 0);
    // ejected again at once: twice as long
    a.detector.onHttpStatus(h, 500);
    clock.now += 19_999;
    a.sweep.sweep();
    assert.equal(flags(h), '/failed_outlier_check');
    clock.now += 1;
    a.sweep.sweep();
    assert.equal(flags(h), 'healthy');
    // two good intervals bring the multiplier back to 0: the next ejection is base time again
    clock.now += 1000; a.sweep.sweep();
    clock.now += 1000; a.sweep.sweep();
    a.detector.onHttpStatus(h, 500);
    clock.now += 10_000;
    a.sweep.sweep();
    assert.equal(flags(h), 'healthy');
  });

  it('the sweep ejects a success-rate outlier and shows the rates', () => {
    const { a, b, stat } = setup(5, { success_rate_minimum_hosts: 5, success_rate_request_volume: 10, consecutive_5xx: 1000, max_ejection_percent: 20 });
    for (let i = 0; i < 10; i++) {
      for (const v of [a, b]) for (let k = 0; k < 4; k++) v.detector.onHttpStatus(v.hosts[k]!, 200);
      (i % 2 ? a : b).detector.onHttpStatus(a.hosts[4]!, i < 5 ? 500 : 200);
    }
    a.sweep.sweep();
    assert.deepEqual(a.hosts.map(flags), ['healthy', 'healthy', 'healthy', 'healthy', '/failed_outlier_check']);
    assert.equal(stat('ejections_enforced_success_rate'), 1);
    assert.equal(a.sweep.successRate(a.hosts[0]!).ext, 100);
    assert.equal(a.sweep.successRate(a.hosts[4]!).ext, 50);
    assert.equal(a.sweep.average.ext, 90);
  });

  it('a successful active check returns an ejected host (uneject) and clears its counters', () => {
    const { a, stat } = setup(4, { consecutive_5xx: 2, max_ejection_percent: 50 });
    a.detector.onHttpStatus(a.hosts[0]!, 500);
    a.detector.onHttpStatus(a.hosts[0]!, 500);
    a.detector.uneject(a.hosts[0]!);
    assert.equal(flags(a.hosts[0]!), 'healthy');
    assert.equal(stat('ejections_active'), 0);
    a.detector.onHttpStatus(a.hosts[0]!, 500);
    assert.equal(flags(a.hosts[0]!), 'healthy', 'the run starts over');
  });
});
