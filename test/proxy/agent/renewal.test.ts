import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renewalTime, retryDelay } from '../../../src/proxy/agent/renewal.js';

const H = 3600_000;

test('renewal at half the life, moved by at most ±5 % of it', () => {
  assert.equal(renewalTime(0, 24 * H, 0.5), 12 * H);
  assert.equal(renewalTime(0, 24 * H, 0), 12 * H - 0.05 * 24 * H);
  assert.ok(Math.abs(renewalTime(0, 24 * H, 0.999999) - (12 * H + 0.05 * 24 * H)) < 100);
  assert.equal(renewalTime(1000, 5000, 0.5), 3000);
  for (let i = 0; i < 100; i++) {
    const t = renewalTime(0, 24 * H, Math.random());
    assert.ok(t >= 10.8 * H && t <= 13.2 * H);
  }
  assert.equal(renewalTime(10, 5, 0.5), 10, 'an inverted validity renews at once');
});

test('a failed renewal is retried with backoff, always well before expiry', () => {
  assert.equal(retryDelay(0, 0, 24 * H), 500);
  assert.equal(retryDelay(3, 0, 24 * H), 4000);
  assert.equal(retryDelay(20, 0, 24 * H), 30_000, 'capped');
  assert.equal(retryDelay(10, 0, 40_000), 10_000, 'a quarter of what is left');
  assert.equal(retryDelay(10, 50_000, 40_000), 100, 'already expired: keep trying');
});
