import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaglevLoadBalancer } from '../../../../src/proxy/upstream/lb/maglev.js';
import type { LbHost, LoadBalancer } from '../../../../src/proxy/upstream/lb/types.js';
import { xxHash64 } from '../../../../src/proxy/upstream/lb/xxhash64.js';
import { countPicks, equalHosts, makeHosts, seeded } from './fixtures.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => xxHash64(`user-${i}`));
const noRandom = (): number => { throw new Error('random must not be used when a hash is given'); };

function owners(lb: LoadBalancer, keys: readonly bigint[]): (LbHost | undefined)[] {
  return keys.map((hash) => lb.pick({ hash, random: noRandom }));
}

describe('MAGLEV: Envoy golden tables (maglev_lb_test.cc)', () => {
  const cases: { name: string; weights: number[]; tableSize: number; table: number[]; min: number; max: number }[] = [
    { name: 'Basic: 6 hosts, table 7', weights: [1, 1, 1, 1, 1, 1], tableSize: 7, table: [2, 4, 0, 1, 5, 0, 3], min: 1, max: 2 },
    { name: 'Weighted: 1:2, table 17', weights: [1, 2], tableSize: 17, table: [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1], min: 6, max: 11 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const hosts = makeHosts(c.weights.map((weight, i) => ({ weight, key: `127.0.0.1:${90 + i}` })));
      const lb = new MaglevLoadBalancer(hosts, c.tableSize);
      assert.deepEqual(lb.stats, { minEntriesPerHost: c.min, maxEntriesPerHost: c.max });
      // hash i -> slot i mod M, three times round the table
      for (let i = 0; i < 3 * c.tableSize; i++) {
        assert.equal(hosts.indexOf(lb.pick({ hash: BigInt(i), random: noRandom })!), c.table[i % c.tableSize], `hash ${i}`);
      }
    });
  }

  it('hash is taken modulo the table size as a full u64', () => {
    const hosts = makeHosts([1, 1, 1, 1, 1, 1].map((weight, i) => ({ weight, key: `127.0.0.1:${90 + i}` })));
    const lb = new MaglevLoadBalancer(hosts, 7);
    // 2^64 - 1 = 7 * 2635249153387078802 + 1 -> slot 1
    assert.equal(lb.pick({ hash: 18446744073709551615n, random: noRandom }), hosts[4]);
  });
});

describe('MAGLEV: consistency', () => {
  it('the table does not depend on host order', () => {
    const hosts = equalHosts(7);
    const a = owners(new MaglevLoadBalancer(hosts, 65537), KEYS).map((h) => h!.key);
    const b = owners(new MaglevLoadBalancer([...hosts].reverse(), 65537), KEYS).map((h) => h!.key);
    assert.deepEqual(a, b);
  });

  for (const n of [5, 10, 20]) {
    it(`removing one of ${n} hosts moves about 1/${n} of the keys, little else`, () => {
      const hosts = equalHosts(n);
      const before = owners(new MaglevLoadBalancer(hosts, 65537), KEYS);
      const removed = hosts[2]!;
      const after = owners(new MaglevLoadBalancer(hosts.filter((h) => h !== removed), 65537), KEYS);
      let withRemoved = 0, others = 0;
      before.forEach((h, i) => {
        if (h === removed) withRemoved++;
        else if (after[i] !== h) others++;
      });
      assert.ok(withRemoved / KEYS.length > 0.7 / n && withRemoved / KEYS.length < 1.3 / n, `removed host had ${withRemoved}`);
      assert.ok(others / KEYS.length < 0.15 / n, `${others} keys moved between remaining hosts`);
    });
  }

  it('spreads keys by weight', () => {
    const hosts = makeHosts([1, 2, 5]);
    const lb = new MaglevLoadBalancer(hosts, 65537);
    const counts = hosts.map(() => 0);
    for (const h of owners(lb, KEYS)) counts[hosts.indexOf(h!)]!++;
    [1 / 8, 2 / 8, 5 / 8].forEach((share, i) => assert.ok(Math.abs(counts[i]! / KEYS.length - share) < 0.02, String(counts)));
  });
});

describe('MAGLEV: health and no hash', () => {
  it('an unhealthy host\'s keys spread over the others; other keys stay', () => {
    const hosts = equalHosts(5);
    const lb = new MaglevLoadBalancer(hosts, 65537);
    const before = owners(lb, KEYS);
    hosts[1]!.healthy = false;
    const after = owners(lb, KEYS);
    const took = hosts.map(() => 0);
    before.forEach((h, i) => {
      if (h === hosts[1]) took[hosts.indexOf(after[i]!)]!++;
      else assert.equal(after[i], h);
    });
    assert.equal(took[1], 0);
    for (const i of [0, 2, 3, 4]) assert.ok(took[i]! > 200, String(took));
  });

  it('undefined when every host is unhealthy or there are none', () => {
    assert.equal(new MaglevLoadBalancer(makeHosts([{ healthy: false }, { healthy: false }]), 65537).pick({ hash: 5n, random: noRandom }), undefined);
    assert.equal(new MaglevLoadBalancer([], 65537).pick({ hash: 5n, random: noRandom }), undefined);
  });

  it('without a hash picks a random slot', () => {
    const hosts = makeHosts([1, 3]);
    const counts = countPicks(new MaglevLoadBalancer(hosts, 65537), hosts, 40_000, { random: seeded(3) });
    assert.ok(Math.abs(counts[1]! / 40_000 - 0.75) < 0.02, String(counts));
  });
});
