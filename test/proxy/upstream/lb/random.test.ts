import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RandomLoadBalancer } from '../../../../src/proxy/upstream/lb/random.js';
import { countPicks, makeHosts, scripted, seeded, type HostSpec } from './fixtures.js';

describe('RANDOM', () => {
  const PICKS = 100_000;
  // Expected shares; a tolerance of 1 percentage point is > 5 standard deviations at 100k picks.
  const cases: { name: string; hosts: HostSpec[]; share: number[] }[] = [
    { name: 'equal weights are uniform', hosts: [{}, {}, {}, {}], share: [0.25, 0.25, 0.25, 0.25] },
    { name: 'weights 1:3', hosts: [{ weight: 1 }, { weight: 3 }], share: [0.25, 0.75] },
    { name: 'weights 1:2:7', hosts: [{ weight: 1 }, { weight: 2 }, { weight: 7 }], share: [0.1, 0.2, 0.7] },
    { name: 'unhealthy hosts get nothing, the rest keep their proportions', hosts: [{ weight: 1 }, { weight: 6, healthy: false }, { weight: 3 }], share: [0.25, 0, 0.75] },
    { name: 'mostly unhealthy (exercises the fallback scan)', hosts: [{ weight: 50, healthy: false }, { weight: 50, healthy: false }, { weight: 1 }, { weight: 1 }], share: [0, 0, 0.5, 0.5] },
    { name: 'equal weights with unhealthy hosts', hosts: [{ healthy: false }, {}, { healthy: false }, {}], share: [0, 0.5, 0, 0.5] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const hosts = makeHosts(c.hosts);
      const counts = countPicks(new RandomLoadBalancer(hosts), hosts, PICKS, { random: seeded(42) });
      counts.forEach((n, i) => assert.ok(Math.abs(n / PICKS - c.share[i]!) < 0.01, `host ${i}: ${n}`));
    });
  }

  it('maps the random value onto cumulative weights', () => {
    const hosts = makeHosts([1, 3]);
    const lb = new RandomLoadBalancer(hosts);
    const at = (r: number): number => hosts.indexOf(lb.pick({ random: scripted(r) })!);
    assert.deepEqual([0, 0.24, 0.25, 0.99].map(at), [0, 0, 1, 1]);
  });

  it('is robust to random() returning 1', () => {
    const hosts = makeHosts([1, 1, 1]);
    assert.equal(new RandomLoadBalancer(hosts).pick({ random: () => 1 }), hosts[2]);
  });

  it('returns undefined when no host is healthy, or there are none', () => {
    assert.equal(new RandomLoadBalancer(makeHosts([{ healthy: false }, { weight: 2, healthy: false }])).pick({ random: seeded(1) }), undefined);
    assert.equal(new RandomLoadBalancer(makeHosts([{ healthy: false }, { healthy: false }])).pick({ random: seeded(1) }), undefined);
    assert.equal(new RandomLoadBalancer([]).pick({ random: seeded(1) }), undefined);
  });
});
