import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextIntervalMs, withJitter, type HealthTransition } from '../../../../src/proxy/upstream/health/interval.js';
import type { HealthCheckSpec } from '../../../../src/proxy/upstream/health/config.js';

const spec = {
  intervalMs: 1000, unhealthyIntervalMs: 2000, unhealthyEdgeIntervalMs: 300, healthyEdgeIntervalMs: 400,
  noTrafficIntervalMs: 60_000, noTrafficHealthyIntervalMs: 90_000, intervalJitterMs: 0, intervalJitterPercent: 0,
} as HealthCheckSpec;
const zero = () => 0;

describe('nextIntervalMs', () => {
  const table: [boolean, HealthTransition, boolean, number][] = [
    // passed, transition, traffic seen, interval
    [true, 'unchanged', true, 1000],
    [true, 'changed', true, 1000],
    [true, 'pending', true, 400],
    [false, 'unchanged', true, 2000],
    [false, 'changed', true, 2000],
    [false, 'pending', true, 300],
    [true, 'unchanged', false, 90_000],
    [true, 'pending', false, 60_000],
    [false, 'changed', false, 60_000],
  ];
  for (const [passed, tr, traffic, want] of table) {
    it(`${passed ? 'pass' : 'failure'}, ${tr}, ${traffic ? 'traffic' : 'no traffic'}: ${want} ms`, () => {
      assert.equal(nextIntervalMs(spec, passed, tr, traffic, zero), want);
    });
  }
});

describe('withJitter', () => {
  it('adds up to interval_jitter_percent of the base and up to interval_jitter', () => {
    assert.equal(withJitter(1000, 0, 0, () => 0.99), 1000);
    assert.equal(withJitter(1000, 0, 10, () => 0.5), 1050);
    assert.equal(withJitter(1000, 200, 0, () => 0.5), 1100);
    assert.equal(withJitter(1000, 200, 10, () => 0.999), 1000 + 99 + 199);
  });
  it('never returns less than 1 ms', () => assert.equal(withJitter(0, 0, 0, zero), 1));
});
