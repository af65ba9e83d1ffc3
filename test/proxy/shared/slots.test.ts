import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startFixtureWorker } from '../../support/fixture-worker.js';
import { SharedSlots } from '../../../src/proxy/shared/slots.js';
import type { SlotsWorkerInit } from './fixtures/slots-worker.js';

function startWorker(init: SlotsWorkerInit): Worker {
  return startFixtureWorker(import.meta.url, './fixtures/slots-worker', init);
}

test('blocks are shared by name across worker threads and updates add up exactly', async () => {
  const iterations = 50_000;
  const slots = SharedSlots.create({ entries: 64, ints: 1024, nameBytes: 4096 });
  const init: SlotsWorkerInit = { share: slots.share(), iterations };
  const workers = [startWorker(init), startWorker(init)];
  try {
    await Promise.all(workers.map((w) => once(w, 'message')));
    assert.equal(slots.block('cb|outbound|80||svc', 4)[0], 2 * iterations);
    const pair = slots.block('locked-pair', 3);
    assert.equal(pair[1], 2 * iterations);
    assert.equal(pair[2], pair[1]);
    assert.equal(pair[0], 0, 'lock released');
    assert.equal(slots.block64('bytes', 1)[0], BigInt(2 * iterations) << 32n);
    assert.equal(slots.dropped, 0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test('a new block is zeroed, the same name gives the same memory, a different length is refused', () => {
  const slots = SharedSlots.create({ entries: 4, ints: 16, nameBytes: 64 });
  const a = slots.block('a', 3);
  assert.deepEqual([...a], [0, 0, 0]);
  a[1] = 7;
  assert.equal(slots.block('a', 3)[1], 7);
  assert.throws(() => slots.block('a', 4), /shared block a: asked for 4 ints, it has 3/);
  const other = SharedSlots.attach(slots.share());
  assert.equal(other.block('a', 3)[1], 7);
});

test('running out of space gives working private memory and counts it', () => {
  const slots = SharedSlots.create({ entries: 2, ints: 8, nameBytes: 64 });
  slots.block('x', 8);
  const y = slots.block('y', 4);
  y[0] = 3;
  assert.equal(slots.block('y', 4)[0], 3, 'private block is cached per thread');
  assert.equal(slots.dropped, 1);
});
