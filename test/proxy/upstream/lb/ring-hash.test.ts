import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RingHashLoadBalancer, type RingHashOptions } from '../../../../src/proxy/upstream/lb/ring-hash.js';
import type { LbHost, LoadBalancer } from '../../../../src/proxy/upstream/lb/types.js';
import { xxHash64 } from '../../../../src/proxy/upstream/lb/xxhash64.js';
import { countPicks, equalHosts, makeHosts, seeded } from './fixtures.js';

const DEFAULTS: RingHashOptions = { minRingSize: 1024, maxRingSize: 8388608, hashFunction: 'XX_HASH' };
const KEYS = Array.from({ length: 10_000 }, (_, i) => xxHash64(`user-${i}`));
const noRandom = (): number => { throw new Error('random must not be used when a hash is given'); };

function owners(lb: LoadBalancer, keys: readonly bigint[]): (LbHost | undefined)[] {
  return keys.map((hash) => lb.pick({ hash, random: noRandom }));
}

function envoyHosts(ports: number[]): LbHost[] {
  return makeHosts(ports.map((p) => ({ key: `127.0.0.1:${p}` })));
}

describe('RING_HASH: Envoy golden rings (ring_hash_lb_test.cc)', () => {
  // Envoy's Basic test: hosts 127.0.0.1:90..95, minimum_ring_size 12. Points (sorted):
  // :94 833437586790550860, :92 928266305478181108, :90 1033482794131418490, :95 3551244743356806947,
  // :93 3851675632748031481, :91 5583722120771150861, ... :90 16117243373044804889.
  const cases: { name: string; ports: number[]; hashFunction: 'XX_HASH' | 'MURMUR_HASH_2'; picks: [bigint, number][] }[] = [
    {
      name: 'XX_HASH', ports: [90, 91, 92, 93, 94, 95], hashFunction: 'XX_HASH',
      picks: [[0n, 4], [18446744073709551615n, 4], [3551244743356806947n, 5], [3551244743356806948n, 3], [16117243373044804880n, 0]],
    },
    {
      name: 'MURMUR_HASH_2', ports: [80, 81, 82, 83, 84, 85], hashFunction: 'MURMUR_HASH_2',
      picks: [[0n, 5], [18446744073709551615n, 5], [1358027074129602068n, 5], [1358027074129602069n, 3], [10150910876324007730n, 2]],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const hosts = envoyHosts(c.ports);
      const lb = new RingHashLoadBalancer(hosts, { ...DEFAULTS, minRingSize: 12, hashFunction: c.hashFunction });
      assert.deepEqual(lb.stats, { size: 12, minHashesPerHost: 2, maxHashesPerHost: 2 });
      for (const [hash, want] of c.picks) assert.equal(hosts.indexOf(lb.pick({ hash, random: noRandom })!), want, `hash ${hash}`);
    });
  }
});

describe('RING_HASH: ring size', () => {
  const cases: { name: string; weights: number[]; min: number; max: number; want: { size: number; minHashesPerHost: number; maxHashesPerHost: number } }[] = [
    { name: 'default minimum, 3 equal hosts', weights: [1, 1, 1], min: 1024, max: 8388608, want: { size: 1026, minHashesPerHost: 342, maxHashesPerHost: 342 } },
    { name: 'weights 1:3 scale the lighter host to a whole count', weights: [1, 3], min: 1024, max: 8388608, want: { size: 1024, minHashesPerHost: 256, maxHashesPerHost: 768 } },
    { name: 'maximum_ring_size caps the ring', weights: [1, 1, 1, 1], min: 1024, max: 6, want: { size: 6, minHashesPerHost: 1, maxHashesPerHost: 2 } },
    // ceil(16 / 1001) = 1 point for the light host, so 1001 in all
    { name: 'the lightest host gets at least one point', weights: [1, 1000], min: 16, max: 8388608, want: { size: 1001, minHashesPerHost: 1, maxHashesPerHost: 1000 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const lb = new RingHashLoadBalancer(makeHosts(c.weights), { ...DEFAULTS, minRingSize: c.min, maxRingSize: c.max });
      assert.deepEqual(lb.stats, c.want);
    });
  }
});

describe('RING_HASH: consistency', () => {
  it('the same key always maps to the same host, whatever the host order', () => {
    const hosts = equalHosts(5);
    const a = owners(new RingHashLoadBalancer(hosts, DEFAULTS), KEYS).map((h) => h!.key);
    const b = owners(new RingHashLoadBalancer([...hosts].reverse(), DEFAULTS), KEYS).map((h) => h!.key);
    assert.deepEqual(a, b);
    assert.deepEqual(owners(new RingHashLoadBalancer(hosts, DEFAULTS), KEYS).map((h) => h!.key), a);
  });

  // Envoy sizes the ring by minimum_ring_size, not per host: when one of n hosts goes, the others
  // get more points each ("<key>_<i>" for higher i), and those new points take some keys from
  // their neighbours. So about 1/n of the keys move with the removed host and fewer than 1/(2n)
  // more move between the remaining hosts.
  for (const n of [5, 10, 20]) {
    it(`removing one of ${n} hosts moves about 1/${n} of the keys`, () => {
      const hosts = equalHosts(n);
      const before = owners(new RingHashLoadBalancer(hosts, DEFAULTS), KEYS);
      const removed = hosts[2]!;
      const after = owners(new RingHashLoadBalancer(hosts.filter((h) => h !== removed), DEFAULTS), KEYS);
      let withRemoved = 0, others = 0;
      before.forEach((h, i) => {
        if (h === removed) withRemoved++;
        else if (after[i] !== h) others++;
      });
      assert.ok(withRemoved / KEYS.length > 0.5 / n && withRemoved / KEYS.length < 1.5 / n, `removed host had ${withRemoved}`);
      assert.ok(others / KEYS.length < 0.6 / n, `${others} keys moved between remaining hosts`);
    });
  }

  it('adding a host takes keys only for itself, about 1/(n+1)', () => {
    const hosts = equalHosts(10);
    const before = owners(new RingHashLoadBalancer(hosts.slice(0, 9), DEFAULTS), KEYS);
    const after = owners(new RingHashLoadBalancer(hosts, DEFAULTS), KEYS);
    const moved = before.filter((h, i) => after[i] !== h).length / KEYS.length;
    const toNew = after.filter((h) => h === hosts[9]).length / KEYS.length;
    assert.ok(toNew > 0.05 && toNew < 0.15, `new host got ${toNew}`);
    assert.ok(moved < 0.17, `moved ${moved}`);
  });

  it('spreads keys by weight', () => {
    const hosts = makeHosts([1, 3]);
    const lb = new RingHashLoadBalancer(hosts, DEFAULTS);
    const share = owners(lb, KEYS).filter((h) => h === hosts[1]).length / KEYS.length;
    assert.ok(share > 0.7 && share < 0.8, `share ${share}`);
  });
});

describe('RING_HASH: health and no hash', () => {
  it('an unhealthy host\'s keys go to the next host on the ring; others stay', () => {
    const hosts = equalHosts(6);
    const lb = new RingHashLoadBalancer(hosts, DEFAULTS);
    const before = owners(lb, KEYS);
    hosts[4]!.healthy = false;
    const after = owners(lb, KEYS);
    before.forEach((h, i) => {
      if (h === hosts[4]) assert.ok(after[i] && after[i] !== hosts[4]);
      else assert.equal(after[i], h);
    });
    hosts[4]!.healthy = true;
    assert.deepEqual(owners(lb, KEYS), before);
  });

  it('undefined when every host is unhealthy or there are none', () => {
    const hosts = makeHosts([{ healthy: false }, { healthy: false }]);
    assert.equal(new RingHashLoadBalancer(hosts, DEFAULTS).pick({ hash: 1n, random: noRandom }), undefined);
    assert.equal(new RingHashLoadBalancer([], DEFAULTS).pick({ hash: 1n, random: noRandom }), undefined);
  });

  it('without a hash picks a random point (hosts spread by share of the ring)', () => {
    const hosts = equalHosts(4);
    const counts = countPicks(new RingHashLoadBalancer(hosts, DEFAULTS), hosts, 40_000, { random: seeded(8) });
    counts.forEach((n) => assert.ok(n > 8000 && n < 12000, String(counts)));
  });
});
