import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { extractContext, injectContext, parseTraceparent } from '../../../src/proxy/tracing/propagation.js';
import { decideReason, isSampled, reasonOf, scanTraceHeaders, TraceHeader, TraceReason } from '../../../src/proxy/tracing/sampling.js';
import { encodeExportTraceRequest } from '../../../src/proxy/tracing/otlp-encode.js';
import { encodeZipkinSpans } from '../../../src/proxy/tracing/zipkin-encode.js';
import { newTraceId, newTraceparent } from '../../../src/proxy/tracing/ids.js';
import type { FinishedSpan } from '../../../src/proxy/tracing/span.js';
import { decodeOtlp, decodeZipkin } from '../../support/trace-collector.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';

test('traceparent: valid and invalid values (W3C trace-context §3.2)', () => {
  const table: [string, boolean | undefined][] = [
    [`00-${T}-00f067aa0ba902b7-01`, true],
    [`00-${T}-00f067aa0ba902b7-00`, false],
    [`00-${T.toUpperCase()}-00F067AA0BA902B7-01`, true],
    [`01-${T}-00f067aa0ba902b7-01-future`, true],
    [`00-${T}-00f067aa0ba902b7-01-extra`, undefined], // version 00 has exactly four fields
    [`ff-${T}-00f067aa0ba902b7-01`, undefined],
    [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, undefined],
    [`00-${T}-0000000000000000-01`, undefined],
    [`00-${T}-00f067aa0ba902b7`, undefined],
    ['garbage', undefined],
  ];
  for (const [v, sampled] of table) assert.equal(parseTraceparent(v)?.sampled, sampled, v);
});

test('extraction order and B3 forms', () => {
  const h = (...kv: string[]): HeaderMap => new HeaderMap(kv);
  assert.equal(extractContext(h('traceparent', `00-${T}-00f067aa0ba902b7-01`, 'b3', `${'1'.repeat(32)}-${'2'.repeat(16)}-1`))?.traceId, T);
  const single = extractContext(h('b3', `${'1'.repeat(16)}-${'2'.repeat(16)}-d-${'3'.repeat(16)}`))!;
  assert.deepEqual([single.traceId, single.spanId, single.parentSpanId, single.sampled, single.format], ['0'.repeat(16) + '1'.repeat(16), '2'.repeat(16), '3'.repeat(16), true, 'b3-single']);
  const multi = extractContext(h('x-b3-traceid', T, 'x-b3-spanid', '2'.repeat(16), 'x-b3-flags', '1'))!;
  assert.equal(multi.sampled, true);
  assert.equal(extractContext(h('x-b3-traceid', T, 'x-b3-spanid', '2'.repeat(16)))!.sampled, undefined, 'B3 may defer the decision');
  assert.equal(extractContext(h('b3', '0')), undefined, 'a lone sampling state carries no context');
  assert.equal(extractContext(h('x-b3-traceid', 'zz', 'x-b3-spanid', '2'.repeat(16))), undefined);
  // Zipkin reads B3 first, W3C only when there is no valid B3 context.
  const both = h('traceparent', `00-${T}-00f067aa0ba902b7-01`, 'x-b3-traceid', '1'.repeat(32), 'x-b3-spanid', '2'.repeat(16));
  assert.equal(extractContext(both, 'b3')?.traceId, '1'.repeat(32));
  assert.equal(extractContext(both, 'w3c')?.traceId, T);
  assert.equal(extractContext(h('traceparent', `00-${T}-00f067aa0ba902b7-01`, 'b3', 'junk'), 'b3')?.format, 'w3c');
});

test('injection writes the provider\'s format only (OpenTelemetry W3C, Zipkin B3), as Envoy; 64-bit trace ids stay 16 digits in B3', () => {
  const ctx = { traceId: T, spanId: 'a'.repeat(16), parentSpanId: 'b'.repeat(16), sampled: true, traceState: 'k=v' };
  const w3c = new HeaderMap(['x-b3-flags', '1', 'traceparent', `00-${'9'.repeat(32)}-${'9'.repeat(16)}-00`, 'tracestate', 'old=1', 'x-b3-traceid', '9'.repeat(32)]);
  injectContext(w3c, ctx, 'w3c', true);
  assert.deepEqual(w3c.getAll('traceparent'), [`00-${T}-${'a'.repeat(16)}-01`]);
  assert.deepEqual(w3c.getAll('tracestate'), ['k=v']);
  assert.deepEqual([w3c.get('x-b3-flags'), w3c.get('x-b3-traceid'), w3c.get('x-b3-spanid'), w3c.get('b3')], ['1', '9'.repeat(32), undefined, undefined], 'B3 headers pass through untouched');
  const noState = new HeaderMap(['tracestate', 'orphan=1']);
  injectContext(noState, { ...ctx, traceState: undefined }, 'w3c', false);
  assert.equal(noState.get('tracestate'), undefined, 'a caller\'s tracestate goes with its traceparent');
  // Only a header made by newTraceparent is marked for the HTTP/1.1 serializer to skip; one built
  // from a continued context (a caller's ids) is checked like any other value.
  assert.equal(w3c.trusted, undefined);
  const fresh = new HeaderMap();
  const made = newTraceparent(false, false);
  injectContext(fresh, ctx, 'w3c', false, made);
  assert.deepEqual([fresh.get('traceparent'), fresh.trusted], [made, made]);

  const b3 = new HeaderMap(['x-b3-flags', '1', 'traceparent', `00-${'9'.repeat(32)}-${'9'.repeat(16)}-00`]);
  injectContext(b3, ctx, 'b3', true);
  assert.equal(b3.get('x-b3-traceid'), T);
  assert.equal(b3.get('x-b3-spanid'), 'a'.repeat(16));
  assert.equal(b3.get('x-b3-parentspanid'), 'b'.repeat(16));
  assert.equal(b3.get('x-b3-sampled'), '1');
  assert.equal(b3.get('x-b3-flags'), undefined);
  assert.equal(b3.get('b3'), `${T}-${'a'.repeat(16)}-1-${'b'.repeat(16)}`);
  assert.equal(b3.get('traceparent'), `00-${'9'.repeat(32)}-${'9'.repeat(16)}-00`, 'W3C headers pass through untouched');
  const short = newTraceId(true);
  const h2 = new HeaderMap();
  injectContext(h2, { traceId: short, spanId: 'a'.repeat(16), parentSpanId: undefined, sampled: false, traceState: undefined }, 'b3', false);
  assert.equal(h2.get('x-b3-traceid'), short.slice(16));
  assert.equal(h2.get('x-b3-sampled'), '0');
  assert.equal(h2.get('x-b3-parentspanid'), undefined);
  assert.equal(h2.get('b3'), undefined);
  assert.equal(h2.get('traceparent'), undefined);
  const h3 = new HeaderMap();
  injectContext(h3, { traceId: T, spanId: 'a'.repeat(16), parentSpanId: undefined, sampled: false, traceState: undefined }, 'w3c', false);
  assert.deepEqual(h3.list, ['traceparent', `00-${T}-${'a'.repeat(16)}-00`]);
});

const ALL = { numerator: 100, denominator: 100 };
const NONE = { numerator: 0, denominator: 100 };
const RID = '123e4567-e89b-42d3-a456-426614174000';

test('sampling decisions are recorded in the x-request-id nibble (Envoy UUID extension)', () => {
  const cases: { headers: string[]; cfg: { clientSampling: typeof ALL; randomSampling: typeof ALL; overallSampling: typeof ALL }; want: TraceReason }[] = [
    { headers: [], cfg: { clientSampling: ALL, randomSampling: ALL, overallSampling: ALL }, want: TraceReason.Sampling },
    { headers: [], cfg: { clientSampling: ALL, randomSampling: NONE, overallSampling: ALL }, want: TraceReason.NotTraceable },
    { headers: ['x-client-trace-id', 'c'], cfg: { clientSampling: ALL, randomSampling: NONE, overallSampling: ALL }, want: TraceReason.ClientForced },
    { headers: ['x-client-trace-id', 'c'], cfg: { clientSampling: NONE, randomSampling: NONE, overallSampling: ALL }, want: TraceReason.NotTraceable },
    { headers: ['x-envoy-force-trace', '1'], cfg: { clientSampling: ALL, randomSampling: NONE, overallSampling: ALL }, want: TraceReason.ServiceForced },
    { headers: ['x-envoy-force-trace', '1'], cfg: { clientSampling: ALL, randomSampling: NONE, overallSampling: NONE }, want: TraceReason.NotTraceable },
  ];
  for (const c of cases) {
    const h = new HeaderMap(['x-request-id', RID, ...c.headers]);
    // The same answer from a scan made beforehand (as the tracer does) as from decideReason's own.
    assert.equal(decideReason(h.clone(), c.cfg, 0.5, scanTraceHeaders(h)), c.want, JSON.stringify(c));
    assert.equal(decideReason(h, c.cfg, 0.5), c.want, JSON.stringify(c));
    assert.equal(reasonOf(h.get('x-request-id')!), c.want);
  }
  // An upstream hop keeps an earlier decision (nibble 9) even at 0% of its own.
  const h = new HeaderMap(['x-request-id', '123e4567-e89b-92d3-a456-426614174000']);
  assert.equal(decideReason(h, { clientSampling: ALL, randomSampling: NONE, overallSampling: ALL }, 0.5), TraceReason.Sampling);
  assert.equal(decideReason(new HeaderMap(['x-request-id', 'not-a-uuid']), { clientSampling: ALL, randomSampling: ALL, overallSampling: ALL }, 0), TraceReason.NotTraceable);
  // Forced beats an inherited "no"; otherwise the caller's flag wins.
  assert.equal(isSampled(TraceReason.ClientForced, false), true);
  assert.equal(isSampled(TraceReason.Sampling, false), false);
  assert.equal(isSampled(TraceReason.NotTraceable, true), true);
  assert.equal(isSampled(TraceReason.NotTraceable, undefined), false);
});

test('scanTraceHeaders: the tracing headers present, by exact name', () => {
  const table: [string[], number][] = [
    [[], 0],
    [['host', 'h', 'x-request-id', RID, 'user-agent', 'u'], 0],
    [['x-client-trace-id', '1'], TraceHeader.ClientTraceId],
    [['x-envoy-force-trace', ''], TraceHeader.ForceTrace],
    [['traceparent', 'x'], TraceHeader.Context],
    [['b3', '0'], TraceHeader.Context],
    [['x-b3-traceid', 'x'], TraceHeader.Context],
    [['tracestate', 'k=v'], TraceHeader.TraceState],
    // Same lengths, other names; the span id alone is no context.
    [['x-client-trace-ix', '1', 'x-envoy-force-tracf', '1', 'traceparenu', 'x', 'b4', 'x', 'x-b3-spanid', 'x', 'tracestatf', 'x', 'x-request-ie', 'x'], 0],
    [['a', 'b', 'x-envoy-force-trace', '1', 'tracestate', 's', 'x-client-trace-id', 'c', 'b3', 'd'], TraceHeader.ClientTraceId | TraceHeader.ForceTrace | TraceHeader.TraceState | TraceHeader.Context],
  ];
  for (const [list, want] of table) assert.equal(scanTraceHeaders(new HeaderMap(list)), want, JSON.stringify(list));
});

test('random sampling follows the request id: about the configured share of many ids', () => {
  let hits = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const tail = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0');
    const h = new HeaderMap(['x-request-id', `123e4567-e89b-42d3-a456-4266${tail}`]);
    if (decideReason(h, { clientSampling: ALL, randomSampling: { numerator: 10_000, denominator: 1_000_000 }, overallSampling: ALL }, 0) === TraceReason.Sampling) hits++;
  }
  assert.ok(hits > n * 0.005 && hits < n * 0.02, `1% of ${n}: ${hits}`);
  // The id's last 32 bits, unsigned, over 2^32: exact at the edges (the top bit set included).
  const half = { clientSampling: ALL, randomSampling: { numerator: 50, denominator: 100 }, overallSampling: ALL };
  const at = (tail: string, cfg = half): TraceReason => decideReason(new HeaderMap(['x-request-id', `123e4567-e89b-42d3-a456-4266${tail}`]), cfg, 0);
  assert.equal(at('7fffffff'), TraceReason.Sampling);
  assert.equal(at('80000000'), TraceReason.NotTraceable);
  assert.equal(at('FFFFFFFF'), TraceReason.NotTraceable);
  assert.equal(at('00000000'), TraceReason.Sampling);
  assert.equal(at('fffffffe', { ...half, randomSampling: { numerator: 99_999_999, denominator: 100_000_000 } }), TraceReason.NotTraceable);
  assert.equal(at('fffe0000', { ...half, randomSampling: { numerator: 99_999_999, denominator: 100_000_000 } }), TraceReason.Sampling);
});

const span: FinishedSpan = {
  traceId: T, spanId: '00f067aa0ba902b7', parentSpanId: 'a2fb4a1d1a96d312', traceState: 'k=v', name: 'svc/path', kind: 'client',
  startUnixNano: 1_700_000_000_123_456_789n, endUnixNano: 1_700_000_000_223_456_789n, attributes: [['http.status_code', '503'], ['error', 'true']], error: true,
  shared: false, remote: { address: '10.0.0.1', port: 80 }, local: { address: '127.0.0.1', port: 15001 },
};

test('OTLP protobuf decodes with an independent .proto', () => {
  const [s] = decodeOtlp(encodeExportTraceRequest({ attributes: [['service.name', 'svc']] }, [span]));
  assert.deepEqual({ ...s, tags: { ...s!.tags } }, {
    service: 'svc', traceId: T, spanId: span.spanId, parentSpanId: span.parentSpanId, name: 'svc/path', kind: 'client',
    startUs: 1_700_000_000_123_456, durationUs: 100_000, tags: { 'http.status_code': '503', error: 'true' }, error: true, shared: false,
  });
});

test('Zipkin v2 JSON: microseconds, endpoints, 64-bit ids as 16 digits', () => {
  const json = JSON.parse(encodeZipkinSpans('svc', [{ ...span, traceId: '0'.repeat(16) + '1'.repeat(16), shared: true }])) as Record<string, unknown>[];
  assert.equal(json[0]!['traceId'], '1'.repeat(16));
  assert.equal(json[0]!['timestamp'], 1_700_000_000_123_456);
  assert.equal(json[0]!['duration'], 100_000);
  assert.deepEqual(json[0]!['localEndpoint'], { serviceName: 'svc', ipv4: '127.0.0.1', port: 15001 });
  assert.deepEqual(json[0]!['remoteEndpoint'], { ipv4: '10.0.0.1', port: 80 });
  assert.equal(json[0]!['shared'], true);
  assert.equal(decodeZipkin(JSON.stringify(json))[0]!.kind, 'client');
});

test('newTraceparent: a valid traceparent with new non-zero ids and the sampled flag; 64-bit ids keep the upper half zero', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const sampled = i % 2 === 0;
    const bits64 = i % 3 === 0;
    const tp = newTraceparent(bits64, sampled);
    const c = parseTraceparent(tp);
    assert.ok(c, tp);
    assert.equal(c.sampled, sampled);
    assert.equal(tp.slice(3, 35), c.traceId);
    assert.equal(tp.slice(36, 52), c.spanId);
    if (bits64) assert.ok(c.traceId.startsWith('0'.repeat(16)) && !c.traceId.endsWith('0'.repeat(16)), tp);
    assert.ok(!seen.has(c.traceId), 'trace ids repeat');
    seen.add(c.traceId);
  }
});

test('trace and span ids: every bit of the 24 bytes is set about half the time, and ids never repeat', () => {
  // A generator with a stuck or correlated bit would show here: over 20,000 draws a fair bit is
  // set 50% ± 0.35% (one standard deviation); 3% off is beyond any fair run.
  const draws = 20_000;
  const ones = new Array<number>(24 * 8).fill(0);
  const spans = new Set<string>();
  for (let i = 0; i < draws; i++) {
    const tp = newTraceparent(false, false);
    const hex = tp.slice(3, 35) + tp.slice(36, 52);
    for (let byte = 0; byte < 24; byte++) {
      const v = parseInt(hex.slice(2 * byte, 2 * byte + 2), 16);
      for (let bit = 0; bit < 8; bit++) if ((v >> bit) & 1) ones[byte * 8 + bit]!++;
    }
    spans.add(tp.slice(36, 52));
  }
  for (const [i, n] of ones.entries()) assert.ok(Math.abs(n / draws - 0.5) < 0.03, `bit ${i} set in ${n} of ${draws} ids`);
  assert.equal(spans.size, draws, 'span ids repeat');
});

