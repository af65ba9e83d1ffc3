import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { Tracer, type TracedStream } from '../../../src/proxy/tracing/tracer.js';
import type { TracingConfig } from '../../../src/proxy/tracing/config.js';
import type { FinishedSpan } from '../../../src/proxy/tracing/span.js';
import type { RequestHeaders } from '../../../src/proxy/http/stream.js';

const ALL = { numerator: 100, denominator: 100 };

function setUp(extra: Partial<TracingConfig>): { tracer: Tracer; spans: FinishedSpan[] } {
  const spans: FinishedSpan[] = [];
  const cfg: TracingConfig = {
    provider: { kind: 'opentelemetry', cluster: 'c', path: '/v1/traces', authority: 'c', headers: [], timeoutMs: 1000, serviceName: '' },
    operation: 'ingress', customTags: [], spawnUpstreamSpan: false, maxPathTagLength: 256,
    clientSampling: ALL, randomSampling: ALL, overallSampling: ALL, ...extra,
  };
  return { tracer: new Tracer(cfg, { add: (s) => spans.push(s) }, { nodeId: 'n1', zone: 'z', istio: [] }), spans };
}

const request = (headers: string[] = []): RequestHeaders => ({ method: 'GET', path: '/a/very/long/path?q=1', authority: 'svc', scheme: 'http', headers: new HeaderMap(['x-request-id', '123e4567-e89b-42d3-a456-426614174000', ...headers]), protocol: 'HTTP/2' });
const finished = (req: RequestHeaders, status = 200): TracedStream => ({
  req, elapsedMs: () => 2, status, flags: 0, bytesReceived: 3, bytesSent: 4, upstreamCluster: { name: 'app' }, upstreamHost: { address: '10.0.0.2', port: 8080 },
  downstreamAddress: { address: '10.0.0.1', port: 5000 }, conn: { localAddress: '10.0.0.3', localPort: 15006 },
});

test('spawn_upstream_span: a client span under the server span, and the upstream sees the client span as parent', () => {
  const { tracer, spans } = setUp({ spawnUpstreamSpan: true });
  const req = request();
  const a = tracer.start(req);
  tracer.finish(a, finished(req));
  assert.equal(spans.length, 2);
  const [server, client] = spans as [FinishedSpan, FinishedSpan];
  assert.deepEqual([server.kind, client.kind], ['server', 'client']);
  assert.equal(client.parentSpanId, server.spanId);
  assert.equal(req.headers.get('traceparent'), `00-${server.traceId}-${client.spanId}-01`);
  assert.equal(req.headers.get('x-b3-parentspanid'), undefined, 'OpenTelemetry writes W3C only');
  assert.deepEqual(client.remote, { address: '10.0.0.2', port: 8080 });
  assert.deepEqual(server.remote, { address: '10.0.0.1', port: 5000 });
});

test('tags: http.url bounded by max_path_tag_length, custom tags, error on 5xx and on no response', () => {
  const { tracer, spans } = setUp({ maxPathTagLength: 16, customTags: [{ tag: 'lit', kind: 'literal', value: 'v' }, { tag: 'h', kind: 'header', name: 'x-h', defaultValue: 'dflt' }, { tag: 'env', kind: 'environment', value: 'from-env' }] });
  const req = request(['x-h', 'given']);
  tracer.finish(tracer.start(req), finished(req, 502));
  const reset = request();
  tracer.finish(tracer.start(reset), finished(reset, 0));
  const tags = Object.fromEntries(spans[0]!.attributes);
  assert.equal(tags['http.url'], 'http://svc/a/ver');
  assert.equal(spans[0]!.name, 'svc/a/very/long/', 'host and path without the query, bounded the same way');
  assert.deepEqual([tags['lit'], tags['h'], tags['env'], tags['error'], tags['http.protocol'], tags['upstream_address']], ['v', 'given', 'from-env', 'true', 'HTTP/2', '10.0.0.2:8080']);
  assert.equal(Object.fromEntries(spans[1]!.attributes)['h'], 'dflt');
  assert.equal(spans[1]!.error, true, 'a stream that ended without a response is an error');
  assert.ok(spans[0]!.endUnixNano - spans[0]!.startUnixNano === 2_000_000n);
});

test('an unsampled request reports nothing but still carries its context onwards', () => {
  const { tracer, spans } = setUp({ randomSampling: { numerator: 0, denominator: 100 } });
  const req = request();
  tracer.finish(tracer.start(req), finished(req));
  assert.equal(spans.length, 0);
  assert.match(req.headers.get('traceparent')!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  // A tracestate without a traceparent belongs to no context: it goes, the new traceparent stays alone.
  const stray = request(['tracestate', 'k=v', 'user-agent', 'u']);
  tracer.finish(tracer.start(stray), finished(stray));
  assert.deepEqual([stray.headers.getAll('tracestate'), stray.headers.getAll('traceparent').length, stray.headers.get('user-agent')], [[], 1, 'u']);
  // An invalid traceparent starts a new trace and is replaced, not kept beside the new one.
  const invalid = request(['traceparent', 'garbage', 'tracestate', 'k=v']);
  tracer.finish(tracer.start(invalid), finished(invalid));
  assert.equal(invalid.headers.getAll('traceparent').length, 1);
  assert.match(invalid.headers.get('traceparent')!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  assert.deepEqual(invalid.headers.getAll('tracestate'), []);
  const invalidAlone = request(['traceparent', '00-zz']);
  tracer.finish(tracer.start(invalidAlone), finished(invalidAlone));
  assert.equal(invalidAlone.headers.getAll('traceparent').length, 1);
  assert.notEqual(invalidAlone.headers.get('traceparent'), '00-zz');
});

test('Zipkin writes B3 only: x-b3-* with the client span and its parent, a caller\'s traceparent untouched', () => {
  const { tracer, spans } = setUp({
    spawnUpstreamSpan: true,
    provider: { kind: 'zipkin', cluster: 'c', path: '/api/v2/spans', authority: 'c', traceId128: true, sharedSpanContext: false, timeoutMs: 1000, serviceName: '' },
  });
  const stale = `00-${'9'.repeat(32)}-${'9'.repeat(16)}-01`;
  const req = request(['x-b3-traceid', '1'.repeat(32), 'x-b3-spanid', '2'.repeat(16), 'x-b3-sampled', '1', 'traceparent', stale]);
  tracer.finish(tracer.start(req), finished(req));
  const [server, client] = spans as [FinishedSpan, FinishedSpan];
  assert.equal(server.traceId, '1'.repeat(32), 'B3 is read first');
  assert.equal(server.parentSpanId, '2'.repeat(16));
  assert.deepEqual([req.headers.get('x-b3-traceid'), req.headers.get('x-b3-spanid'), req.headers.get('x-b3-parentspanid'), req.headers.get('x-b3-sampled')], ['1'.repeat(32), client.spanId, server.spanId, '1']);
  assert.deepEqual(req.headers.getAll('traceparent'), [stale]);
});
