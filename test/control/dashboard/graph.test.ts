import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, quantile, type Scrape } from '../../../src/control/dashboard/graph.js';
import type { Sample } from '../../../src/control/dashboard/prom-text.js';

const edge = (reporter: string, extra: Record<string, string> = {}): Record<string, string> => ({
  reporter, source_workload: 'productpage-v1', source_workload_namespace: 'default', source_app: 'productpage', source_version: 'v1',
  destination_workload: 'reviews-v2', destination_workload_namespace: 'default', destination_app: 'reviews', destination_version: 'v2',
  destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', request_protocol: 'http',
  response_code: '200', response_flags: '-', connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown', ...extra,
});
const req = (labels: Record<string, string>, value: number): Sample => ({ name: 'istio_requests_total', labels, value });
const bucket = (labels: Record<string, string>, le: string, value: number): Sample => {
  const { response_code: _c, response_flags: _f, ...rest } = labels;
  return { name: 'istio_request_duration_milliseconds_bucket', labels: { ...rest, le }, value };
};
const at = (t: number, samples: Sample[]): Scrape => ({ at: t, samples });

test('an edge seen by both sidecars is counted once, from the receiving side, as a rate over the window', () => {
  const dst = edge('destination');
  const src = edge('source');
  const g = buildGraph([
    { first: at(0, [req(dst, 100)]), last: at(10_000, [req(dst, 300), req(edge('destination', { response_code: '503', response_flags: 'UH' }), 20)]) },
    { first: at(0, [req(src, 100)]), last: at(10_000, [req(src, 320)]) },
  ]);
  assert.equal(g.edges.length, 1);
  const e = g.edges[0]!;
  assert.equal(e.source, 'default/productpage-v1');
  assert.equal(e.target, 'default/reviews-v2');
  assert.equal(e.reporter, 'destination');
  assert.equal(e.rate, 22); // (200 + 20) / 10 s: the 503 series is new in the window, all of it is increase
  assert.equal(e.errorRate, Math.round((2 / 22) * 10_000) / 10_000);
  assert.equal(e.mtls, true);
  assert.equal(e.total, 320);
  assert.deepEqual(g.nodes.map((n) => [n.id, n.app, n.version]), [['default/productpage-v1', 'productpage', 'v1'], ['default/reviews-v2', 'reviews', 'v2']]);
  assert.equal(g.failures.length, 1, 'the 503 is reported by the destination only');
  assert.deepEqual({ ...g.failures[0]! }, { source: 'default/productpage-v1', target: 'default/reviews-v2', service: 'reviews.default.svc.cluster.local', code: '503', flags: 'UH', count: 20, explanation: 'UH: no healthy upstream host in the cluster' });
});

test('a destination without a sidecar appears as a service node from the caller\'s numbers; a counter reset is an increase', () => {
  const l = edge('source', { destination_workload: 'unknown', destination_app: 'unknown', destination_version: 'unknown', destination_service: 'httpbin.org', destination_service_name: 'httpbin.org', response_code: '0', response_flags: 'UF,URX' });
  const g = buildGraph([{ first: at(0, [req(l, 50)]), last: at(5000, [req(l, 10)]) }]);
  assert.equal(g.edges[0]!.target, 'httpbin.org');
  assert.equal(g.edges[0]!.reporter, 'source');
  assert.equal(g.edges[0]!.rate, 2);
  assert.equal(g.edges[0]!.errorRate, 1);
  assert.equal(g.nodes.find((n) => n.id === 'httpbin.org')!.kind, 'service');
  assert.equal(g.failures[0]!.explanation, 'UF: could not connect to the upstream; URX: gave up after the retry limit or the TCP connect-attempt limit');
});

test('p99 from the window\'s bucket increases; one scrape gives totals but no rates', () => {
  const d = edge('destination');
  const first = [bucket(d, '5', 0), bucket(d, '10', 0), bucket(d, '+Inf', 0), req(d, 0)];
  const last = [bucket(d, '5', 90), bucket(d, '10', 100), bucket(d, '+Inf', 100), req(d, 100)];
  const g = buildGraph([{ first: at(0, first), last: at(10_000, last) }]);
  assert.equal(g.edges[0]!.p99Ms, 9.5);
  const one = at(0, last);
  const g1 = buildGraph([{ first: one, last: one }]);
  assert.equal(g1.edges[0]!.rate, 0);
  assert.equal(g1.edges[0]!.total, 100);
  assert.equal(g1.edges[0]!.p99Ms, undefined);
});

test('TCP edges count connections and bytes', () => {
  const l = { ...edge('destination'), request_protocol: 'tcp' };
  const g = buildGraph([{
    first: at(0, [{ name: 'istio_tcp_connections_opened_total', labels: l, value: 0 }, { name: 'istio_tcp_sent_bytes_total', labels: l, value: 0 }, { name: 'istio_tcp_received_bytes_total', labels: l, value: 0 }]),
    last: at(2000, [{ name: 'istio_tcp_connections_opened_total', labels: l, value: 4 }, { name: 'istio_tcp_sent_bytes_total', labels: l, value: 1000 }, { name: 'istio_tcp_received_bytes_total', labels: l, value: 3000 }]),
  }]);
  assert.equal(g.edges[0]!.protocol, 'tcp');
  assert.equal(g.edges[0]!.rate, 2);
  assert.equal(g.edges[0]!.bytesPerS, 2000);
});

test('quantile interpolates like histogram_quantile', () => {
  assert.equal(quantile(0.5, new Map([[10, 50], [20, 100], [Infinity, 100]])), 10);
  assert.equal(quantile(0.99, new Map([[10, 0], [20, 100], [Infinity, 100]])), 19.9);
  assert.equal(quantile(0.99, new Map([[10, 0], [Infinity, 100]])), 10);
  assert.equal(quantile(0.99, new Map()), undefined);
});

test('a dashboard opened less than a window ago counts failures since the sidecar started, and an error rate from the totals', () => {
  const failed = edge('destination', { response_code: '503', response_flags: 'UF' });
  const ok = edge('destination');
  const one = at(0, [req(failed, 3), req(ok, 9)]);
  const g = buildGraph([{ first: one, last: one, sinceStart: true }]);
  assert.equal(g.edges[0]!.rate, 0);
  assert.equal(g.edges[0]!.errorRate, 0.25);
  assert.equal(g.failures[0]!.count, 3);
  const later = buildGraph([{ first: one, last: at(5000, [req(failed, 3), req(ok, 19)]) }]);
  assert.deepEqual(later.failures, [], 'no failure in the window once the history covers it');
  assert.equal(later.edges[0]!.errorRate, 0);
});
