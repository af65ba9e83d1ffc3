import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundRobinLoadBalancer } from '../../../../src/proxy/upstream/lb/round-robin.js';
import { countPicks, equalHosts, makeHosts, pickSequence, scripted, seeded } from './fixtures.js';

describe('ROUND_ROBIN, equal weights', () => {
  const cases: { name: string; healthy: boolean[]; start: number; want: number[] }[] = [
    { name: 'cycles from the random start', healthy: [true, true, true], start: 0.5, want: [1, 2, 0, 1, 2, 0] },
    { name: 'starts at 0', healthy: [true, true, true], start: 0, want: [0, 1, 2, 0, 1, 2] },
    { name: 'skips an unhealthy host, keeping the order', healthy: [true, false, true], start: 0.5, want: [2, 0, 2, 0] },
    { name: 'single healthy host', healthy: [false, false, true], start: 0, want: [2, 2, 2] },
    { name: 'no healthy host', healthy: [false, false, false], start: 0, want: [-1, -1] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const hosts = makeHosts(c.healthy.map((healthy) => ({ healthy })));
      const lb = new RoundRobinLoadBalancer(hosts);
      assert.deepEqual(pickSequence(lb, hosts, c.want.length, { random: scripted(c.start) }), c.want);
    });
  }

  it('no hosts', () => assert.equal(new RoundRobinLoadBalancer([]).pick({ random: Math.random }), undefined));

  it('draws randomness only once (the start), then rotates', () => {
    let calls = 0;
    const hosts = equalHosts(4);
    const lb = new RoundRobinLoadBalancer(hosts);
    pickSequence(lb, hosts, 10, { random: () => { calls++; return 0.3; } });
    assert.equal(calls, 1);
  });

  it('a host that recovers rejoins the rotation', () => {
    const hosts = equalHosts(3);
    const lb = new RoundRobinLoadBalancer(hosts);
    const ctx = { random: scripted(0) };
    hosts[1]!.healthy = false;
    assert.deepEqual(pickSequence(lb, hosts, 3, ctx), [0, 2, 0]);
    hosts[1]!.healthy = true;
    assert.deepEqual(pickSequence(lb, hosts, 3, ctx), [1, 2, 0]);
  });
});

describe('ROUND_ROBIN, weighted (EDF)', () => {
  // Deadlines are k/weight; with weights whose inverses are exact binary fractions the schedule is
  // exactly Envoy's: equal deadlines go to the host queued first.
  const sequences: { weights: number[]; start: number; want: number[] }[] = [
    { weights: [2, 1], start: 0, want: [0, 1, 0, 0, 1, 0, 0, 1] },
    { weights: [4, 1], start: 0, want: [0, 0, 0, 1, 0, 0, 0, 0, 1, 0] },
    // start = floor(0.6 * 2) = one pick skipped
    { weights: [2, 1], start: 0.6, want: [1, 0, 0, 1, 0, 0] },
    { weights: [1, 2, 4], start: 0, want: [2, 1, 2, 2, 0, 1, 2, 2, 1, 2, 2, 0, 1] },
  ];
  for (const s of sequences) {
    it(`EDF order for weights ${s.weights.join(':')}, start ${s.start}`, () => {
      const hosts = makeHosts(s.weights);
      const lb = new RoundRobinLoadBalancer(hosts);
      assert.deepEqual(pickSequence(lb, hosts, s.want.length, { random: scripted(s.start) }), s.want);
    });
  }

  const distributions: { weights: number[]; picks: number }[] = [
    { weights: [1, 2, 3, 4], picks: 10_000 },
    { weights: [1, 100], picks: 10_100 },
    { weights: [5, 1, 1, 1], picks: 8_000 },
  ];
  for (const d of distributions) {
    it(`picks in exact proportion to weights ${d.weights.join(':')}`, () => {
      const hosts = makeHosts(d.weights);
      const lb = new RoundRobinLoadBalancer(hosts);
      const total = d.weights.reduce((a, b) => a + b, 0);
      const counts = countPicks(lb, hosts, d.picks, { random: seeded(1) });
      counts.forEach((c, i) => assert.ok(Math.abs(c - (d.picks * d.weights[i]!) / total) <= 2, `host ${i}: ${c}`));
    });
  }

  it('is smooth: a 4:1 host never gets more than 4 turns in a row', () => {
    const hosts = makeHosts([4, 1]);
    const lb = new RoundRobinLoadBalancer(hosts);
    const seq = pickSequence(lb, hosts, 600, { random: seeded(3) });
    let run = 0, maxRun = 0;
    for (const i of seq) { run = i === 0 ? run + 1 : 0; maxRun = Math.max(maxRun, run); }
    assert.equal(maxRun, 4);
  });

  it('skips unhealthy hosts and keeps the others\' proportions', () => {
    const hosts = makeHosts([{ weight: 1 }, { weight: 10, healthy: false }, { weight: 3 }]);
    const lb = new RoundRobinLoadBalancer(hosts);
    const counts = countPicks(lb, hosts, 4000, { random: seeded(2) });
    assert.equal(counts[1], 0);
    assert.ok(Math.abs(counts[0]! - 1000) <= 2 && Math.abs(counts[2]! - 3000) <= 2, String(counts));
  });

  it('returns undefined when every host is unhealthy', () => {
    const hosts = makeHosts([{ weight: 2, healthy: false }, { weight: 1, healthy: false }]);
    assert.equal(new RoundRobinLoadBalancer(hosts).pick({ random: seeded(1) }), undefined);
  });
});
