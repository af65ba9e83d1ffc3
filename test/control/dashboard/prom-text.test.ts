import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from '../../../src/control/dashboard/prom-text.js';

test('parses names, labels with escapes, special values; skips comments and broken lines', () => {
  const text = [
    '# HELP istio_requests_total Requests.',
    '# TYPE istio_requests_total counter',
    'istio_requests_total{reporter="destination",path="a\\"b\\\\c\\nd",response_code="200"} 42',
    'istio_request_duration_milliseconds_bucket{le="+Inf"} 7 1700000000000',
    'up 1',
    'gauge_inf +Inf',
    'broken{a="x" 1',
    'novalue{a="x"}',
    'envoy_cluster_upstream_rq{x="y"} 3',
  ].join('\n');
  const all = parsePrometheusText(text);
  assert.deepEqual(all.map((s) => [s.name, s.value]), [
    ['istio_requests_total', 42], ['istio_request_duration_milliseconds_bucket', 7], ['up', 1], ['gauge_inf', Infinity], ['envoy_cluster_upstream_rq', 3],
  ]);
  assert.deepEqual(all[0]!.labels, { reporter: 'destination', path: 'a"b\\c\nd', response_code: '200' });
  assert.deepEqual(parsePrometheusText(text, (n) => n.startsWith('istio_')).map((s) => s.name), ['istio_requests_total', 'istio_request_duration_milliseconds_bucket']);
});
