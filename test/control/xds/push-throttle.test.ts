import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushThrottle } from '../../../src/control/xds/push-throttle.js';

test('push throttle: at most `limit` streams in flight; a flushed write frees the slot; later work replaces queued work', () => {
  const t = new PushThrottle<string>(2);
  const ran: string[] = [];
  const flush = new Map<string, () => void>();
  const work = (s: string, tag = s) => () => { ran.push(tag); flush.set(s, t.writing(s)); };
  t.enqueue('a', work('a')); t.enqueue('b', work('b')); t.enqueue('c', work('c', 'c1'));
  assert.deepEqual(ran, ['a', 'b']);
  assert.equal(t.queued, 1);
  t.enqueue('c', work('c', 'c2')); // a newer push for c supersedes the queued one
  flush.get('a')!();
  assert.deepEqual(ran, ['a', 'b', 'c2']);
  t.enqueue('b', work('b', 'b2')); // b still in flight: waits for its own flush
  flush.get('c')!();
  assert.deepEqual(ran, ['a', 'b', 'c2']);
  flush.get('b')!();
  assert.deepEqual(ran, ['a', 'b', 'c2', 'b2']);
});

test('push throttle: work that writes nothing does not hold a slot; a forgotten stream frees its slot', () => {
  const t = new PushThrottle<string>(1);
  const ran: string[] = [];
  t.enqueue('idle', () => ran.push('idle'));
  t.enqueue('x', () => { ran.push('x'); t.writing('x'); });
  t.enqueue('y', () => ran.push('y'));
  assert.deepEqual(ran, ['idle', 'x']);
  t.forget('x');
  assert.deepEqual(ran, ['idle', 'x', 'y']);
});
