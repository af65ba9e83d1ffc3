import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoRegistry } from '../../../src/control/registry/auto-register.js';
import { identity } from '../mesh-fixtures.js';

const a = identity({ name: 'a', ips: ['127.0.0.1'] });
const b = identity({ name: 'b', ips: ['127.0.0.2'] });

test('a disconnected proxy stays registered for the grace period, then sweep removes it', () => {
  const r = new AutoRegistry(10_000);
  r.connect(a); r.connect(b);
  r.disconnect(a.id, 1_000);
  assert.deepEqual(r.list().map((p) => p.name), ['a', 'b']);
  assert.equal(r.nextDeadline(), 11_000);
  assert.deepEqual(r.sweep(10_999), []);
  assert.deepEqual(r.sweep(11_000).map((p) => p.name), ['a']);
  assert.deepEqual(r.list().map((p) => p.name), ['b']);
  assert.equal(r.nextDeadline(), undefined);
});

test('reconnecting within the grace period cancels the removal and takes the new identity', () => {
  const r = new AutoRegistry(5_000);
  r.connect(a);
  r.disconnect(a.id, 0);
  const moved = { ...a, labels: { version: 'v2' } };
  r.connect(moved);
  assert.equal(r.nextDeadline(), undefined);
  assert.deepEqual(r.sweep(60_000), []);
  assert.deepEqual(r.list()[0]!.labels, { version: 'v2' });
});

test('a new stream that opens before the old one closes keeps the proxy', () => {
  const r = new AutoRegistry(1_000);
  r.connect(a);
  r.connect(a); // reconnect races the close of the first stream
  r.disconnect(a.id, 0);
  assert.equal(r.nextDeadline(), undefined);
  assert.deepEqual(r.sweep(5_000), []);
  r.disconnect(a.id, 5_000);
  assert.deepEqual(r.sweep(6_000).map((p) => p.name), ['a']);
  assert.equal(r.has(a.id), false);
});

test('unknown or repeated disconnects change nothing; grace 0 removes at the next sweep', () => {
  const r = new AutoRegistry(0);
  r.disconnect('nobody', 0);
  r.connect(a);
  r.disconnect(a.id, 7);
  r.disconnect(a.id, 8);
  assert.equal(r.nextDeadline(), 7);
  assert.deepEqual(r.sweep(7).map((p) => p.name), ['a']);
  assert.throws(() => new AutoRegistry(-1), RangeError);
});

test('restored proxies count as disconnected: a reconnect keeps them, the others go at their deadline', () => {
  const r = new AutoRegistry(1_000);
  r.connect(b);
  r.restore([a, { ...b, labels: { stale: 'yes' } }], 31_000);
  assert.deepEqual(r.list().map((p) => p.name), ['a', 'b']);
  assert.deepEqual(r.list()[1]!.labels, b.labels, 'a known id keeps its live identity');
  assert.equal(r.nextDeadline(), 31_000);
  r.connect(a);
  assert.equal(r.nextDeadline(), undefined);
  r.disconnect(a.id, 40_000);
  assert.deepEqual(r.sweep(41_000).map((p) => p.name), ['a']);
});
