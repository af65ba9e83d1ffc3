import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeastRequestLoadBalancer } from '../../../../src/proxy/upstream/lb/least-request.js';
import { countPicks, makeHosts, pickSequence, scripted, seeded, type HostSpec } from './fixtures.js';

const P2C = { choiceCount: 2, activeRequestBias: 1 };

describe('LEAST_REQUEST, equal weights (power of N choices)', () => {
  // Samples are hosts[floor(r * n)]; unhealthy samples are redrawn.
  const cases: { name: string; hosts: HostSpec[]; choiceCount?: number; random: number[]; want: number }[] = [
    { name: 'keeps the sample with fewer active requests', hosts: [{ active: 5 }, { active: 0 }, { active: 3 }], random: [0.0, 0.4], want: 1 },
    { name: 'order of samples does not matter', hosts: [{ active: 5 }, { active: 0 }, { active: 3 }], random: [0.9, 0.0], want: 2 },
    { name: 'ties keep the first sample', hosts: [{ active: 0 }, { active: 0 }, { active: 3 }], random: [0.0, 0.4], want: 0 },
    { name: 'choice_count 3 compares three samples', hosts: [{ active: 5 }, { active: 0 }, { active: 3 }], choiceCount: 3, random: [0.0, 0.9, 0.4], want: 1 },
    { name: 'samples with replacement', hosts: [{ active: 5 }, { active: 0 }, { active: 3 }], random: [0.0, 0.0], want: 0 },
    { name: 'an unhealthy sample is redrawn', hosts: [{ active: 5 }, { active: 0, healthy: false }, { active: 3 }], random: [0.4, 0.0, 0.9], want: 2 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const hosts = makeHosts(c.hosts);
      const lb = new LeastRequestLoadBalancer(hosts, { ...P2C, choiceCount: c.choiceCount ?? 2 });
      assert.equal(hosts.indexOf(lb.pick({ random: scripted(...c.random) })!), c.want);
    });
  }

  it('prefers the idle host', () => {
    const hosts = makeHosts(Array.from({ length: 10 }, (_, i) => ({ active: i === 3 ? 0 : 10 })));
    const counts = countPicks(new LeastRequestLoadBalancer(hosts, P2C), hosts, 10_000, { random: seeded(11) });
    // P(idle host is in 2 samples) = 1 - 0.9^2 = 19%, against 9% for each busy host.
    assert.ok(counts[3]! > 1700 && counts[3]! < 2100, String(counts));
    const more = countPicks(new LeastRequestLoadBalancer(hosts, { ...P2C, choiceCount: 10 }), hosts, 10_000, { random: seeded(11) });
    assert.ok(more[3]! > 6200, String(more)); // 1 - 0.9^10 = 65%
  });

  it('balances load that it creates', () => {
    // Each pick adds a request that stays: the spread of active requests stays small.
    const hosts = makeHosts(Array.from({ length: 8 }, () => ({})));
    const lb = new LeastRequestLoadBalancer(hosts, P2C);
    const ctx = { random: seeded(5) };
    for (let i = 0; i < 8000; i++) lb.pick(ctx)!.activeRequests++;
    const active = hosts.map((h) => h.activeRequests);
    assert.ok(Math.max(...active) - Math.min(...active) <= 6, String(active));
  });

  it('returns undefined when no host is healthy', () => {
    const hosts = makeHosts([{ healthy: false }, { healthy: false }]);
    assert.equal(new LeastRequestLoadBalancer(hosts, P2C).pick({ random: seeded(1) }), undefined);
    assert.equal(new LeastRequestLoadBalancer([], P2C).pick({ random: seeded(1) }), undefined);
  });
});

describe('LEAST_REQUEST, unequal weights (EDF on weight / (active + 1) ^ bias)', () => {
  it('with idle hosts it is weighted round robin', () => {
    const hosts = makeHosts([2, 1]);
    const lb = new LeastRequestLoadBalancer(hosts, P2C);
    assert.deepEqual(pickSequence(lb, hosts, 8, { random: scripted(0) }), [0, 1, 0, 0, 1, 0, 0, 1]);
  });

  const cases: { name: string; hosts: HostSpec[]; bias: number; want: [number, number] }[] = [
    // bias 1: 2 / (9 + 1) = 0.2 against 1 / 1 = 1
    { name: 'busy hosts lose share (bias 1.0)', hosts: [{ weight: 2, active: 9 }, { weight: 1 }], bias: 1, want: [500, 2500] },
    // bias 0: plain weights
    { name: 'bias 0 ignores active requests', hosts: [{ weight: 3, active: 100 }, { weight: 1 }], bias: 0, want: [2250, 750] },
    // bias 0.5: 4 / sqrt(3 + 1) = 2 against 1
    { name: 'bias 0.5 uses the square root', hosts: [{ weight: 4, active: 3 }, { weight: 1 }], bias: 0.5, want: [2000, 1000] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const hosts = makeHosts(c.hosts);
      const lb = new LeastRequestLoadBalancer(hosts, { choiceCount: 2, activeRequestBias: c.bias });
      const counts = countPicks(lb, hosts, 3000, { random: seeded(4) });
      counts.forEach((n, i) => assert.ok(Math.abs(n - c.want[i]!) <= 3, `host ${i}: ${n}`));
    });
  }

  it('recomputes a host\'s weight when it is picked', () => {
    const hosts = makeHosts([{ weight: 2 }, { weight: 1 }]);
    const lb = new LeastRequestLoadBalancer(hosts, P2C);
    const ctx = { random: seeded(9) };
    countPicks(lb, hosts, 30, ctx);
    hosts[0]!.activeRequests = 19; // now 2 / 20 = 0.1 against 1
    const counts = countPicks(lb, hosts, 1100, ctx);
    assert.ok(counts[1]! > 8 * counts[0]!, String(counts));
  });

  it('skips unhealthy hosts; undefined when none is healthy', () => {
    const hosts = makeHosts([{ weight: 5, healthy: false }, { weight: 1 }, { weight: 2 }]);
    const lb = new LeastRequestLoadBalancer(hosts, P2C);
    const counts = countPicks(lb, hosts, 3000, { random: seeded(1) });
    assert.equal(counts[0], 0);
    assert.ok(Math.abs(counts[2]! - 2000) <= 2, String(counts));
    hosts[1]!.healthy = hosts[2]!.healthy = false;
    assert.equal(lb.pick({ random: seeded(1) }), undefined);
  });
});
