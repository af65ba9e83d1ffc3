import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startFixtureWorker } from '../../support/fixture-worker.js';
import { SharedSlots } from '../../../src/proxy/shared/slots.js';
import { Resource } from '../../../src/proxy/upstream/circuit-breakers.js';
import type { BreakerWorkerDone, BreakerWorkerInit } from './fixtures/breaker-worker.js';

function recordingGauge(): { values: number[]; inc(): void; dec(): void; set(v: number): void } {
  return { values: [], inc() {}, dec() {}, set(v: number) { this.values.push(v); } };
}

test('tryAcquire takes units up to the limit, refuses past it, and dec gives one back; open and remaining follow', () => {
  const open = recordingGauge();
  const remaining = recordingGauge();
  const r = new Resource(new Int32Array(1), 0, 2, open, remaining);
  assert.deepEqual([r.tryAcquire(), r.tryAcquire(), r.tryAcquire()], [true, true, false]);
  assert.equal(r.count, 2);
  assert.deepEqual(open.values, [1]);
  r.dec();
  assert.equal(r.count, 1);
  assert.deepEqual(open.values, [1, 0]);
  assert.equal(r.tryAcquire(), true);
  assert.deepEqual(remaining.values, [1, 0, 1, 0]);
});

test('a limit that changes with the load (a retry budget) is read at each acquisition', () => {
  let max = 1;
  const r = new Resource(new Int32Array(1), 0, () => max, recordingGauge(), undefined);
  assert.equal(r.tryAcquire(), true);
  assert.equal(r.tryAcquire(), false);
  max = 3;
  assert.equal(r.tryAcquire(), true);
  assert.equal(r.count, 2);
});

test('threads racing for the last unit never both win: a limit of 1 holds exactly across two workers', async () => {
  const slots = SharedSlots.create({ entries: 8, ints: 64, nameBytes: 256 });
  const init: BreakerWorkerInit = { share: slots.share(), iterations: 2_000_000, max: 1 };
  const workers = [0, 1].map(() => startFixtureWorker(import.meta.url, './fixtures/breaker-worker', init));
  try {
    const results = workers.map((w) => once(w, 'message'));
    // Both start together (each waits on the flag) so that their loops overlap.
    await new Promise((r) => setTimeout(r, 200));
    const go = slots.block('go', 1);
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    const done = (await Promise.all(results)).map(([d]) => d as BreakerWorkerDone);
    assert.deepEqual(done.map((d) => d.overLimit), [0, 0]);
    assert.ok(done.every((d) => d.acquired > 0), 'each worker acquired the unit at times');
    assert.equal(slots.block('cb|c|default', 5)[2], 0, 'every unit given back');
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});
