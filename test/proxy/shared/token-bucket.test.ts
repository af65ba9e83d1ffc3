import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startFixtureWorker } from '../../support/fixture-worker.js';
import { SharedSlots } from '../../../src/proxy/shared/slots.js';
import { TokenBucket, TOKEN_BUCKET_INTS, fillsDue, refilled, secondsToNextFill, type TokenBucketSpec } from '../../../src/proxy/shared/token-bucket.js';
import type { BucketWorkerInit } from './fixtures/bucket-worker.js';

const spec = (maxTokens: number, tokensPerFill: number, fillIntervalMs: number): TokenBucketSpec => ({ maxTokens, tokensPerFill, fillIntervalMs });

test('fillsDue counts whole intervals; a clock that went back gives none', () => {
  const s = spec(10, 1, 1000);
  const rows: [last: number, now: number, fills: number][] = [
    [5000, 5000, 0],
    [5000, 5999, 0],
    [5000, 6000, 1],
    [5000, 8999, 3],
    [5000, 4000, 0],
    [5000, 5000 + 3600_000 * 24 * 365, 3600 * 24 * 365],
  ];
  for (const [last, now, fills] of rows) assert.equal(fillsDue(s, last, now), fills, `last=${last} now=${now}`);
});

test('refilled adds tokens_per_fill per fill and caps at max_tokens', () => {
  const rows: [TokenBucketSpec, tokens: number, fills: number, out: number][] = [
    [spec(10, 1, 1000), 0, 0, 0],
    [spec(10, 1, 1000), 0, 3, 3],
    [spec(10, 4, 1000), 3, 1, 7],
    [spec(10, 4, 1000), 3, 2, 10],
    [spec(10, 4, 1000), 10, 5, 10],
    [spec(4294967295, 4294967295, 1000), 1, 1e9, 4294967295],
  ];
  for (const [s, tokens, fills, out] of rows) assert.equal(refilled(s, tokens, fills), out);
});

test('secondsToNextFill is the interval minus whole elapsed seconds, truncated (Envoy x-ratelimit-reset)', () => {
  const rows: [TokenBucketSpec, last: number, now: number, out: number][] = [
    [spec(1, 1, 3600_000), 0, 0, 3600],
    [spec(1, 1, 3600_000), 0, 999, 3600],
    [spec(1, 1, 3600_000), 0, 1000, 3599],
    [spec(1, 1, 60_000), 0, 61_500, 59],
    [spec(1, 1, 500), 0, 200, 0],
    [spec(1, 1, 2500), 0, 1200, 1],
  ];
  for (const [s, last, now, out] of rows) assert.equal(secondsToNextFill(s, last, now), out, `last=${last} now=${now}`);
});

test('a bucket starts full, empties, and refills by whole intervals from its first use', () => {
  const b = new TokenBucket(spec(3, 2, 1000));
  const t0 = 1_700_000_000_123;
  assert.equal(b.remaining(t0), 3);
  assert.deepEqual([b.consume(t0), b.consume(t0), b.consume(t0), b.consume(t0 + 999)], [true, true, true, false]);
  assert.equal(b.resetSeconds(t0 + 999), 1);
  assert.equal(b.remaining(t0 + 1000), 2, 'one fill of 2');
  assert.deepEqual([b.consume(t0 + 1500), b.consume(t0 + 1500), b.consume(t0 + 1999)], [true, true, false]);
  assert.equal(b.remaining(t0 + 10_000), 3, 'capped at max_tokens');
  assert.equal(b.consume(t0 - 60_000), true, 'a clock that went back does not break it');
  assert.equal(b.remaining(t0 - 60_000 + 999), 2, 'and the interval restarts from then');
  assert.equal(b.remaining(t0 - 60_000 + 1000), 3);
});

test('buckets over the same shared block are one bucket; a new block is an unused bucket', () => {
  const slots = SharedSlots.create({ entries: 8, ints: 64, nameBytes: 256 });
  const s = spec(2, 1, 3600_000);
  const a = new TokenBucket(s, slots.block('b', TOKEN_BUCKET_INTS));
  const b = new TokenBucket(s, SharedSlots.attach(slots.share()).block('b', TOKEN_BUCKET_INTS));
  const now = Date.now();
  assert.deepEqual([a.consume(now), b.consume(now), a.consume(now), b.consume(now)], [true, true, false, false]);
  assert.equal(new TokenBucket(s, slots.block('c', TOKEN_BUCKET_INTS)).consume(now), true);
  assert.throws(() => new TokenBucket(s, new Int32Array(3)), /needs 4 ints/);
});

function startWorker(init: BucketWorkerInit): Worker {
  return startFixtureWorker(import.meta.url, './fixtures/bucket-worker', init);
}

test('threads taking from one shared bucket at once admit exactly max_tokens in total', async () => {
  const slots = SharedSlots.create({ entries: 8, ints: 64, nameBytes: 256 });
  const init: BucketWorkerInit = { share: slots.share(), spec: spec(5000, 1, 3600_000), attempts: 20_000 };
  const workers = [startWorker(init), startWorker(init), startWorker(init)];
  try {
    const admitted = await Promise.all(workers.map(async (w) => (await once(w, 'message'))[0] as number));
    assert.equal(admitted.reduce((a, b) => a + b, 0), 5000);
    assert.equal(slots.block('bucket', TOKEN_BUCKET_INTS)[0], 0, 'lock released');
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});
