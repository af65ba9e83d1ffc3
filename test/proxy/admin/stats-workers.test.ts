import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startFixtureWorker } from '../../support/fixture-worker.js';
import { StatsStore } from '../../../src/proxy/admin/stats.js';
import type { StatsWorkerDone, StatsWorkerInit } from './fixtures/stats-worker.js';

function startWorker(init: StatsWorkerInit): Worker {
  return startFixtureWorker(import.meta.url, './fixtures/stats-worker', init);
}

test('two worker threads share one set of stats; counts add up exactly', async () => {
  const iterations = 100_000;
  const store = StatsStore.create({ counters: 1024, gauges: 256, histograms: 64, nameBytes: 1 << 16 });
  const pre = store.counter('cluster.outbound|80||svc.upstream_rq_total');
  pre.inc(5); // the main thread counts too
  const init: StatsWorkerInit = { share: store.share(), iterations };
  const workers = [startWorker(init), startWorker(init)];
  try {
    await Promise.all(workers.map((w) => once(w, 'message')));
    // A name registered after the memory was shared (a config reload), resolved by the workers.
    const lateName = 'http.inbound_0.0.0.0_8080.downstream_rq_total';
    const late = store.counter(lateName);
    const done = workers.map((w) => once(w, 'message') as Promise<[StatsWorkerDone]>);
    for (const w of workers) w.postMessage({ lateName });
    const results = (await Promise.all(done)).map(([d]) => d);

    assert.equal(pre.value, 5 + 2 * iterations);
    assert.equal(late.value, 2 * 2 * iterations);
    for (const r of results) {
      assert.equal(r.preRegisteredSlot, store.find('cluster.outbound|80||svc.upstream_rq_total')!.slot);
      assert.equal(r.lateSlot, store.find(lateName)!.slot);
    }
    // Registered by both workers concurrently: one entry, both threads' counts.
    const byCode = store.list().filter((s) => s.name === 'cluster.outbound|80||svc.upstream_rq_200');
    assert.equal(byCode.length, 1);
    assert.deepEqual(byCode[0]!.tags, [['envoy_response_code', '200'], ['envoy_cluster_name', 'outbound|80||svc']]);
    const snap = store.snapshot();
    assert.equal(snap.counters.find((c) => c.info.name === byCode[0]!.name)!.value, 2 * iterations);
    const active = snap.gauges.find((g) => g.info.name === 'cluster.outbound|80||svc.upstream_rq_active')!;
    assert.equal(active.value, 0);
    assert.equal(active.used, true);
    const time = snap.histograms.find((h) => h.info.name === 'cluster.outbound|80||svc.upstream_rq_time')!;
    assert.equal(time.cumulative.count, 2 * iterations);
    // Σ (i % 100) over 0..iterations-1, per worker.
    assert.equal(time.cumulative.sum, 2 * (iterations / 100) * 4950);
    assert.equal(store.dropped, 0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});
