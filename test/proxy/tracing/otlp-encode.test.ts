import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { encodeExportTraceRequest, otlpFormat } from '../../../src/proxy/tracing/otlp-encode.js';
import { encodeZipkinSpans, zipkinFormat } from '../../../src/proxy/tracing/zipkin-encode.js';
import { ReportBuffer } from '../../../src/proxy/tracing/report-buffer.js';
import type { FinishedSpan } from '../../../src/proxy/tracing/span.js';
import { repoRoot } from '../../support/proxy.js';

// The encoder writes each length once it knows it; protobufjs, with the test's own .proto,
// writes the canonical encoding of the same message. They must agree byte for byte.
const root = protobuf.loadSync(join(repoRoot(), 'test/fixtures/otlp-trace.proto'));
const Req = root.lookupType('tsmesh.test.otlp.ExportTraceServiceRequest');

const base: FinishedSpan = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: undefined, traceState: undefined,
  name: 'svc/path', kind: 'server', startUnixNano: 1_700_000_000_123_456_789n, endUnixNano: 1_700_000_000_223_456_789n,
  attributes: [['http.status_code', '200']], error: false, shared: false, remote: undefined, local: { address: '127.0.0.1', port: 15006 },
};

const long = (n: number, c = 'a'): string => c.repeat(n);
const cases: [string, FinishedSpan][] = [
  ['the common span', base],
  ['parent, trace state, client, error', { ...base, parentSpanId: 'a2fb4a1d1a96d312', traceState: 'k=v,x=y', kind: 'client', error: true }],
  ['no attributes', { ...base, attributes: [] }],
  ['non-ASCII key and value', { ...base, attributes: [['ключ', 'значение ✓'], ['emoji', '🙂']] }],
  ['values around the 1- and 2-byte length edges', { ...base, attributes: [['a', long(125)], ['b', long(126)], ['c', long(127)], ['d', long(128)], ['e', long(16_380)], ['f', long(16_384)]] }],
  ['a non-ASCII value long enough for a 3-byte length', { ...base, attributes: [['big', long(6_000, 'é')]] }],
  ['a long non-ASCII name', { ...base, name: long(200, 'ж') }],
  ['uppercase hex ids', { ...base, traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', spanId: '00F067AA0BA902B7' }],
  ['many tags', { ...base, attributes: Array.from({ length: 40 }, (_, i) => [`tag.${i}`, `value-${i}`] as [string, string]) }],
];

function canonical(service: [string, string][], spans: FinishedSpan[]): Uint8Array {
  const kv = ([key, value]: readonly [string, string]): object => ({ key, value: { stringValue: value } });
  return Req.encode(Req.fromObject({
    resourceSpans: [{
      resource: { attributes: service.map(kv) },
      scopeSpans: [{
        scope: { name: 'tsmesh', version: '1' },
        spans: spans.map((s) => ({
          traceId: Buffer.from(s.traceId, 'hex'), spanId: Buffer.from(s.spanId, 'hex'),
          ...(s.traceState ? { traceState: s.traceState } : {}),
          ...(s.parentSpanId ? { parentSpanId: Buffer.from(s.parentSpanId, 'hex') } : {}),
          name: s.name, kind: s.kind === 'server' ? 2 : 3,
          startTimeUnixNano: String(s.startUnixNano),
          endTimeUnixNano: String(s.endUnixNano),
          attributes: s.attributes.map(kv),
          ...(s.error ? { status: { code: 2 } } : {}),
        })),
      }],
    }],
  })).finish();
}

for (const [name, span] of cases) {
  test(`OTLP span, byte for byte as protobufjs encodes it: ${name}`, () => {
    const service: [string, string][] = [['service.name', 'bench.default']];
    assert.deepEqual(encodeExportTraceRequest({ attributes: service }, [span]), Buffer.from(canonical(service, [span])));
  });
}

test('OTLP report of every case at once, with a non-ASCII service name and a report grown from a small buffer', () => {
  const service: [string, string][] = [['service.name', 'сервис'], ['host', long(300)]];
  const format = otlpFormat({ attributes: service });
  const r = new ReportBuffer(format.headroom, 64);
  const spans = cases.map(([, s]) => s);
  for (const s of spans) { format.putSpan(r, s); r.spans++; }
  assert.deepEqual(format.frame(r), Buffer.from(canonical(service, spans)));
});

test('a lone surrogate is written as U+FFFD, as Buffer and TextEncoder write it', () => {
  // protobufjs writes it as a 3-byte surrogate (not UTF-8), so this one is checked by decoding.
  const body = encodeExportTraceRequest({ attributes: [['service.name', 's']] }, [{ ...base, attributes: [['k', 'a\ud800b']] }]);
  const msg = Req.toObject(Req.decode(body)) as { resourceSpans: { scopeSpans: { spans: { attributes: { value: { stringValue: string } }[] }[] }[] }[] };
  assert.equal(msg.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes[0]!.value.stringValue, 'a\ufffdb');
  assert.ok(body.includes(Buffer.from([0x61, 0xef, 0xbf, 0xbd, 0x62])));
});

test('an empty OTLP report is a resource and a scope without spans', () => {
  assert.deepEqual(encodeExportTraceRequest({ attributes: [['service.name', 's']] }, []), Buffer.from(canonical([['service.name', 's']], [])));
});

test('Zipkin report: a JSON list of the spans, empty or not', () => {
  assert.deepEqual(JSON.parse(encodeZipkinSpans('svc', [])), []);
  const json = JSON.parse(encodeZipkinSpans('svc', cases.map(([, s]) => s))) as { id: string; tags: Record<string, string> }[];
  assert.equal(json.length, cases.length);
  assert.equal(json[3]!.tags['ключ'], 'значение ✓');
  const format = zipkinFormat('svc');
  const r = new ReportBuffer(format.headroom, 64);
  format.putSpan(r, base); r.spans++;
  format.putSpan(r, base); r.spans++;
  assert.equal(JSON.parse(format.frame(r).toString()).length, 2);
});
