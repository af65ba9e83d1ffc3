import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../../../src/proxy/admin/stats.js';
import { SharedSlots } from '../../../src/proxy/shared/slots.js';
import { ClusterHealth, inPanic } from '../../../src/proxy/upstream/cluster-health.js';
import { UpstreamHost } from '../../../src/proxy/upstream/host.js';
import { F_HC_PASSED, F_HC_TIMEOUT, F_OUTLIER_EJECTED, H_FLAGS, healthFlagsText, hostBlock, hostTimes, isHealthy } from '../../../src/proxy/upstream/host-state.js';

describe('panic threshold', () => {
  const table: [number, number, number, boolean][] = [
    // healthy, total, threshold %, panic
    [2, 4, 50, false],
    [1, 4, 50, true],
    [0, 4, 50, true],
    [0, 4, 0, false],
    [4, 4, 100, false],
    [3, 4, 100, true],
    [0, 0, 50, true],
  ];
  for (const [h, t, p, want] of table) it(`${h}/${t} healthy, threshold ${p}%: ${want ? 'panic' : 'no panic'}`, () => assert.equal(inPanic(h, t, p), want));
});

describe('health flags', () => {
  const table: [number, boolean, string, boolean][] = [
    [0, false, 'healthy', true],
    [0, true, '/failed_active_hc', false],
    [F_HC_PASSED, true, 'healthy', true],
    [F_HC_TIMEOUT, true, '/failed_active_hc/active_hc_timeout', false],
    [F_OUTLIER_EJECTED, false, '/failed_outlier_check', false],
    [F_OUTLIER_EJECTED, true, '/failed_active_hc/failed_outlier_check', false],
    [F_OUTLIER_EJECTED | F_HC_PASSED, true, '/failed_outlier_check', false],
  ];
  for (const [flags, hc, text, healthy] of table) {
    it(`${text}${hc ? ' (active HC)' : ''}`, () => {
      assert.equal(healthFlagsText(flags, hc), text);
      assert.equal(isHealthy(flags, hc), healthy);
    });
  }
});

describe('ClusterHealth', () => {
  it('re-evaluates panic and membership_healthy when another thread changes a flag', () => {
    const slots = SharedSlots.create({ entries: 64, ints: 1024, nameBytes: 4096 });
    const store = StatsStore.create();
    const mk = () => {
      const health = new ClusterHealth(slots, 'c', true, 50, store.gauge('cluster.c.membership_healthy'));
      const hosts = [1, 2, 3, 4].map((i) => new UpstreamHost(`10.0.0.${i}`, 80, 1, '', health, hostBlock(slots, 'c', `10.0.0.${i}:80`), hostTimes(slots, 'c', `10.0.0.${i}:80`)));
      health.hostsChanged(hosts);
      return { health, hosts };
    };
    const a = mk(), b = mk();
    assert.equal(a.health.panic, true, 'no host has passed a check yet');
    assert.deepEqual(a.hosts.map((h) => h.healthy), [true, true, true, true], 'in panic every host is selectable');
    for (const h of b.hosts.slice(0, 2)) Atomics.or(h.state, H_FLAGS, F_HC_PASSED);
    b.health.changed(b.hosts);
    a.health.refresh(a.hosts);
    assert.equal(a.health.panic, false);
    assert.deepEqual(a.hosts.map((h) => h.healthy), [true, true, false, false]);
    assert.equal(store.gauge('cluster.c.membership_healthy').value, 2);
    assert.equal(a.health.trafficSeen, false);
    b.health.noteTraffic();
    assert.equal(a.health.trafficSeen, true);
  });
});
