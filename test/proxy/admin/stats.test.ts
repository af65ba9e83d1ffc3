import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore } from '../../../src/proxy/admin/stats.js';
import { clusterStat, scopeStat, scopesFor } from '../../../src/proxy/admin/scopes.js';
import { bucketIndex, quantile, supportedQuantiles } from '../../../src/proxy/admin/histogram-buckets.js';
import { renderJson, renderText } from '../../../src/proxy/admin/render.js';

const small = { counters: 64, gauges: 16, histograms: 8, nameBytes: 1 << 14 };

test('handles are cached per name; a name keeps its kind', () => {
  const s = StatsStore.create(small);
  const a = s.counter('server.total');
  assert.equal(s.counter('server.total'), a);
  a.inc();
  a.inc(41);
  assert.equal(a.value, 42);
  assert.throws(() => s.gauge('server.total'), /is a counter, not a gauge/);
});

test('gauges: inc, dec, set; used once written even when back at 0', () => {
  const s = StatsStore.create(small);
  const g = s.gauge('server.active');
  const idle = s.gauge('server.idle');
  g.inc(3);
  g.dec();
  assert.equal(g.value, 2);
  g.set(0);
  const snap = s.snapshot();
  assert.deepEqual(snap.gauges.map((x) => [x.info.name, x.value, x.used]), [['server.active', 0, true], ['server.idle', 0, false]]);
  assert.equal(idle.value, 0);
});

test('a second store attached to the same memory sees names and values', () => {
  const s = StatsStore.create(small);
  s.counter(clusterStat('c1', 'upstream_rq_total')).inc(7);
  const other = StatsStore.attach(s.share());
  assert.equal(other.counter('cluster.c1.upstream_rq_total').value, 7);
  other.counter('late.registered').inc();
  assert.equal(s.find('late.registered')?.kind, 'counter');
  assert.equal(s.counter('late.registered').value, 1);
});

test('past capacity, handles still work but are not shared; the drop is counted', () => {
  const s = StatsStore.create({ ...small, counters: 2 });
  s.counter('a').inc();
  s.counter('b').inc();
  const c = s.counter('c');
  c.inc(3);
  assert.equal(c.value, 3);
  assert.equal(s.find('c'), undefined);
  assert.equal(s.dropped, 1);
});

test('scope descriptors: Envoy tag extraction without parsing dotted names', () => {
  assert.deepEqual(clusterStat('outbound|80||a.b.svc', 'upstream_rq_total'), {
    name: 'cluster.outbound|80||a.b.svc.upstream_rq_total',
    tagExtractedName: 'cluster.upstream_rq_total',
    tags: { envoy_cluster_name: 'outbound|80||a.b.svc' },
  });
  assert.deepEqual(scopeStat('http', 'inbound_0.0.0.0_80', 'downstream_rq_5xx'), {
    name: 'http.inbound_0.0.0.0_80.downstream_rq_5xx',
    tagExtractedName: 'http.downstream_rq_xx',
    tags: { envoy_response_code_class: '5', envoy_http_conn_manager_prefix: 'inbound_0.0.0.0_80' },
  });
  assert.deepEqual(scopeStat('cluster', 'x', 'upstream_rq_503'), {
    name: 'cluster.x.upstream_rq_503',
    tagExtractedName: 'cluster.upstream_rq',
    tags: { envoy_response_code: '503', envoy_cluster_name: 'x' },
  });
  assert.equal(scopeStat('listener', '0.0.0.0_15001', 'downstream_cx_total').tags!.envoy_listener_address, '0.0.0.0_15001');
  assert.equal(scopeStat('tcp', 'in', 'downstream_cx_total').tags!.envoy_tcp_prefix, 'in');
  const s = StatsStore.create(small);
  scopesFor(s).cluster('c').counter('upstream_rq_2xx').inc();
  assert.deepEqual(s.find('cluster.c.upstream_rq_2xx')!.tags, [['envoy_response_code_class', '2'], ['envoy_cluster_name', 'c']]);
});

test('histogram buckets: le semantics, overflow', () => {
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(0.5), 0);
  assert.equal(bucketIndex(0.51), 1);
  assert.equal(bucketIndex(3600000), 18);
  assert.equal(bucketIndex(3600001), 19);
});

test('histogram quantiles from buckets (1..100 ms uniformly)', () => {
  const s = StatsStore.create(small);
  const h = s.histogram('h');
  for (let v = 1; v <= 100; v++) h.record(v);
  const { buckets, count, sum } = s.snapshot().histograms[0]!.cumulative;
  assert.equal(count, 100);
  assert.equal(sum, 5050);
  assert.deepEqual(supportedQuantiles(buckets), [0.5, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
  assert.ok(Number.isNaN(quantile([0, 0, 0], 0.5)));
  // All in one bucket: interpolated inside (5, 10].
  assert.equal(quantile([0, 0, 0, 4], 0.5), 7.5);
  // Overflow counts as the last bound.
  const over = new Array<number>(20).fill(0);
  over[19] = 3;
  assert.equal(quantile(over, 0.99), 3600000);
});

test('/stats text: counters and gauges sorted together, then histograms; usedonly and filter', () => {
  const s = StatsStore.create(small);
  s.counter('z.last').inc(2);
  s.gauge('b.gauge').set(5);
  s.counter('a.unused');
  s.counter(clusterStat('outbound|80||svc', 'upstream_rq_total')).inc(3);
  const h = s.histogram(clusterStat('outbound|80||svc', 'upstream_rq_time'));
  s.histogram('never.recorded');
  for (let v = 1; v <= 100; v++) h.record(v);
  assert.equal(renderText(s), [
    'a.unused: 0',
    'b.gauge: 5',
    'cluster.outbound|80||svc.upstream_rq_total: 3',
    'z.last: 2',
    'cluster.outbound|80||svc.upstream_rq_time: P0(nan,0.5) P25(nan,25) P50(nan,50) P75(nan,75) P90(nan,90) P95(nan,95) P99(nan,99) P99.5(nan,99.5) P99.9(nan,99.9) P100(nan,100)',
    'never.recorded: No recorded values',
    '',
  ].join('\n'));
  assert.equal(renderText(s, { usedOnly: true, filter: /^cluster\./ }), [
    'cluster.outbound|80||svc.upstream_rq_total: 3',
    'cluster.outbound|80||svc.upstream_rq_time: P0(nan,0.5) P25(nan,25) P50(nan,50) P75(nan,75) P90(nan,90) P95(nan,95) P99(nan,99) P99.5(nan,99.5) P99.9(nan,99.9) P100(nan,100)',
    '',
  ].join('\n'));
  // A global regex is not stateful across stats.
  assert.equal(renderText(s, { filter: /last|gauge/g }), 'b.gauge: 5\nz.last: 2\n');
});

test('histogram interval quantiles cover the values between the last two flushes', () => {
  const s = StatsStore.create(small);
  const h = s.histogram('h');
  h.record(1000);
  s.flushInterval();
  h.record(3);
  h.record(3);
  s.flushInterval();
  h.record(40); // not in a closed interval yet
  // interval {3, 3}: all in (1, 5]; cumulative {3, 3, 40, 1000}.
  assert.equal(renderText(s), 'h: P0(1,1) P25(2,3) P50(3,5) P75(4,50) P90(4.6,800) P95(4.8,900) P99(4.96,980) P99.5(4.98,990) P99.9(4.996,998) P100(5,1000)\n');
});

test('/stats?format=json: Envoy shape with histograms last', () => {
  const s = StatsStore.create(small);
  s.counter('b.c').inc(2);
  s.gauge('a.g').set(1);
  s.histogram('h').record(7);
  const out = JSON.parse(renderJson(s)) as unknown;
  assert.deepEqual(out, {
    stats: [
      { name: 'a.g', value: 1 },
      { name: 'b.c', value: 2 },
      {
        histograms: {
          supported_quantiles: [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100],
          computed_quantiles: [{
            name: 'h',
            values: [5, 6.25, 7.5, 8.75, 9.5, 9.75, 9.95, 9.975, 9.995, 10].map((c) => ({ interval: null, cumulative: c })),
          }],
        },
      },
    ],
  });
  assert.deepEqual(JSON.parse(renderJson(s, { filter: /^b/ })), { stats: [{ name: 'b.c', value: 2 }] });
});
