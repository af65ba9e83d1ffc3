import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { StreamRateLimiter, takeBytes, type ByteBucket } from '../../../../src/proxy/http/filters/fault/response-limiter.js';

test('takeBytes: a continuously refilled bucket of one second, taken from partially', () => {
  const b: ByteBucket = { tokens: 100, lastMs: 0 };
  assert.equal(takeBytes(b, 60, 1000, 0), 60);
  assert.equal(takeBytes(b, 60, 1000, 0), 40, 'partial: what is left');
  assert.equal(takeBytes(b, 60, 1000, 0), 0);
  assert.equal(takeBytes(b, 60, 1000, 50), 50, '50 ms at 1000 B/s');
  assert.equal(takeBytes(b, 5000, 1000, 10_000), 1000, 'never more than one second');
  assert.equal(takeBytes(b, 10, 1000, 9000), 0, 'a clock going back adds nothing');
});

/** A limiter on fake time: `step()` moves the clock and the timers on by one fill interval. */
function harness(t: TestContext, kbps: number, bufferLimit = 1 << 20) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const out = { written: [] as { bytes: number; end: boolean; at: number }[], released: 0, over: [] as boolean[] };
  const l = new StreamRateLimiter(kbps, bufferLimit, {
    write: (chunk, end) => out.written.push({ bytes: chunk.length, end, at: now }),
    releaseTrailers: () => out.released++,
    overLimit: (o) => out.over.push(o),
  }, () => now, 50);
  const step = (): void => { t.mock.timers.tick(0); now += 50; t.mock.timers.tick(50); };
  const sent = (): number => out.written.reduce((n, w) => n + w.bytes, 0);
  return { l, out, step, sent };
}

test('a body is paced at the rate from the first byte: 4 KiB at 1 KiB/s takes about 4 s', (t) => {
  const { l, out, step, sent } = harness(t, 1);
  l.write(Buffer.alloc(4096, 1), true);
  let steps = 0;
  while (!out.written.some((w) => w.end) && steps < 1000) { step(); steps++; }
  assert.equal(sent(), 4096);
  assert.equal(out.written.filter((w) => w.end).length, 1);
  assert.equal(out.written[out.written.length - 1]!.end, true);
  // One fill interval's worth (51 bytes) at once, the rest at 1024 B/s.
  const last = out.written[out.written.length - 1]!.at;
  assert.ok(last >= 3900 && last <= 4050, `done at ${last} ms`);
  assert.ok(out.written.every((w) => w.bytes <= 52), 'never more than a fill interval at a time');
});

test('trailers wait for the held body, then are released', (t) => {
  const { l, out, step, sent } = harness(t, 1);
  l.write(Buffer.alloc(200), false);
  assert.equal(l.onTrailers(), true);
  for (let i = 0; i < 10; i++) step();
  assert.equal(sent(), 200);
  assert.equal(out.released, 1);
  assert.ok(out.written.every((w) => !w.end), 'trailers end the response, not the body');
  assert.equal(l.onTrailers(), false, 'nothing held: trailers go at once');
});

test('past the buffer limit the limiter asks for the upstream to pause, until half of it is left', (t) => {
  const { l, out, step } = harness(t, 1, 1000);
  l.write(Buffer.alloc(600), false);
  assert.deepEqual(out.over, []);
  l.write(Buffer.alloc(600), false);
  assert.deepEqual(out.over, [true]);
  while (out.over.length < 2) step();
  assert.deepEqual(out.over, [true, false]);
});

test('destroy drops what is held and stops the timer', (t) => {
  const { l, out, step } = harness(t, 1);
  l.write(Buffer.alloc(5000), true);
  step();
  const n = out.written.length;
  l.destroy();
  for (let i = 0; i < 200; i++) step();
  assert.equal(out.written.length, n);
});
