import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTraceCollector, type ReceivedSpan, type TraceCollector } from '../../support/trace-collector.js';
import { startTracedChain, otlpProvider, type TracedChain } from '../../support/traced-chain.js';

// a -> b -> c, each behind its own proxy, OTLP/HTTP to one collector; random sampling 0%, so
// only forced or inherited traces are recorded.
let collector: TraceCollector;
let chain: TracedChain;

before(async () => {
  collector = await startTraceCollector();
  chain = await startTracedChain(['a', 'b', 'c'], collector.port, otlpProvider, `
            random_sampling: { value: 0 }
            custom_tags: [ { tag: team, literal: { value: checkout } }, { tag: user, request_header: { name: x-user, default_value: anonymous } } ]`);
});

after(async () => {
  await chain?.close();
  await collector?.close();
});

function traceOf(spans: readonly ReceivedSpan[], traceId: string): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === traceId);
}

function one(spans: readonly ReceivedSpan[], service: string, kind: 'server' | 'client'): ReceivedSpan {
  const found = spans.filter((s) => s.service === service && s.kind === kind);
  assert.equal(found.length, 1, `${service} ${kind}: ${JSON.stringify(spans)}`);
  return found[0]!;
}

test('one trace across three services: a server and a client span per hop, each the parent of the next', async () => {
  const r = await chain.call({ 'x-client-trace-id': 'forced-1', 'x-user': 'ann' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'a>b>c');
  const seenByC = chain.services[2]!.received.at(-1)!;
  const traceId = String(seenByC['traceparent']).split('-')[1]!;
  const spans = traceOf(await collector.waitFor((s) => traceOf(s, traceId).length >= 5), traceId);
  assert.equal(spans.length, 5);
  const aIn = one(spans, 'a', 'server');
  const aOut = one(spans, 'a', 'client');
  const bIn = one(spans, 'b', 'server');
  const bOut = one(spans, 'b', 'client');
  const cIn = one(spans, 'c', 'server');
  assert.equal(aIn.parentSpanId, undefined, 'the first hop starts the trace');
  assert.equal(aOut.parentSpanId, aIn.spanId);
  assert.equal(bIn.parentSpanId, aOut.spanId);
  assert.equal(bOut.parentSpanId, bIn.spanId);
  assert.equal(cIn.parentSpanId, bOut.spanId);
  assert.equal(new Set(spans.map((s) => s.spanId)).size, 5);
  // The app behind c saw c's server span as its parent.
  assert.equal(String(seenByC['traceparent']), `00-${traceId}-${cIn.spanId}-01`);
  // Each span lies within its parent (the parent waits for the child). Different proxies are
  // different processes whose clocks may disagree by a little: 5 ms of slack.
  for (const [child, parent] of [[aOut, aIn], [bIn, aOut], [bOut, bIn], [cIn, bOut]] as const) {
    const slack = 5000;
    assert.ok(child.startUs + slack >= parent.startUs && child.startUs + child.durationUs <= parent.startUs + parent.durationUs + slack,
      `${child.service} ${child.kind} within its parent: ${JSON.stringify([child.startUs, child.durationUs, parent.startUs, parent.durationUs])}`);
  }
  // Envoy's and Istio's tags.
  assert.equal(aIn.tags['http.status_code'], '200');
  assert.equal(aIn.tags['http.method'], 'GET');
  assert.equal(aIn.tags['http.url'], 'http://a/');
  assert.equal(aIn.tags['upstream_cluster'], 'app');
  assert.equal(aOut.tags['upstream_cluster'], 'next');
  assert.equal(aOut.tags['upstream_cluster.name'], 'next');
  assert.equal(bIn.tags['component'], 'proxy');
  assert.equal(bIn.tags['node_id'], 'sidecar~127.0.0.1~b-1.default~default.svc.cluster.local');
  assert.equal(bIn.tags['zone'], 'zone-1');
  assert.equal(bIn.tags['istio.canonical_service'], 'b');
  assert.equal(bIn.tags['istio.canonical_revision'], 'v1');
  assert.equal(bIn.tags['istio.namespace'], 'default');
  assert.equal(bIn.tags['istio.mesh_id'], 'mesh1');
  assert.equal(bIn.tags['http.protocol'], 'HTTP/1.1');
  assert.equal(bIn.tags['peer.address'], '127.0.0.1');
  assert.equal(bIn.tags['response_flags'], '-');
  assert.equal(aIn.tags['team'], 'checkout');
  assert.equal(aIn.tags['user'], 'ann');
  assert.equal(bIn.tags['user'], 'anonymous', 'the app forwards no x-user');
  // One x-request-id for the whole trace, marked client-forced (nibble b).
  const rid = aIn.tags['guid:x-request-id']!;
  assert.match(rid, /^[0-9a-f]{8}-[0-9a-f]{4}-b[0-9a-f]{3}-/);
  for (const s of spans) assert.equal(s.tags['guid:x-request-id'], rid);
  assert.ok(spans.every((s) => !s.error));
  assert.deepEqual(collector.bad, []);
  assert.ok(collector.contentTypes.every((c) => c === 'POST /v1/traces application/x-protobuf'), collector.contentTypes.join());
});

test('0% random sampling: an unforced request is not recorded, and says so downstream', async () => {
  const quiet = await chain.call();
  assert.equal(quiet.status, 200);
  const quietHeaders = chain.services[2]!.received.at(-1)!;
  assert.match(String(quietHeaders['traceparent']), /-00$/, 'sampled flag off for the next hops');
  assert.equal(quietHeaders['x-b3-sampled'], undefined, 'OpenTelemetry propagates W3C only, as Envoy\'s tracer');
  const quietTrace = String(quietHeaders['traceparent']).split('-')[1]!;
  // A forced request afterwards: once its spans are in, every proxy has reported past the quiet one.
  await chain.call({ 'x-client-trace-id': 'forced-2' });
  const forcedTrace = String(chain.services[2]!.received.at(-1)!['traceparent']).split('-')[1]!;
  await collector.waitFor((s) => traceOf(s, forcedTrace).length >= 5);
  assert.equal(traceOf(collector.spans, quietTrace).length, 0);
});

test('an inherited sampled traceparent is continued: trace id, parent and tracestate', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const r = await chain.call({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'vendor=x' });
  assert.equal(r.status, 200);
  const spans = traceOf(await collector.waitFor((s) => traceOf(s, traceId).length >= 5), traceId);
  assert.equal(one(spans, 'a', 'server').parentSpanId, '00f067aa0ba902b7');
  const seenByA = chain.services[0]!.received.at(-1)!;
  assert.equal(seenByA['tracestate'], 'vendor=x');
  assert.equal(seenByA['traceparent'], `00-${traceId}-${one(spans, 'a', 'server').spanId}-01`);
  assert.equal(seenByA['x-b3-traceid'], undefined, 'no B3 written');
});

test('B3 multi and single headers are read; the next hop gets W3C and the caller\'s B3 untouched', async () => {
  const traceId = '463ac35c9f6413ad48485a3953bb6124';
  await chain.call({ 'x-b3-traceid': traceId, 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' });
  let spans = traceOf(await collector.waitFor((s) => traceOf(s, traceId).length >= 5), traceId);
  assert.equal(one(spans, 'a', 'server').parentSpanId, 'a2fb4a1d1a96d312');
  const single = '80f198ee56343ba864fe8b2a57d3eff7';
  await chain.call({ b3: `${single}-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90` });
  spans = traceOf(await collector.waitFor((s) => traceOf(s, single).length >= 5), single);
  const aIn = one(spans, 'a', 'server');
  assert.equal(aIn.parentSpanId, 'e457b5a2e4d86bd1');
  const seenByA = chain.services[0]!.received.at(-1)!;
  assert.equal(seenByA['traceparent'], `00-${single}-${aIn.spanId}-01`);
  assert.equal(seenByA['b3'], `${single}-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90`);
  // A caller's "not sampled" is respected.
  const off = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
  await chain.call({ b3: `${off}-e457b5a2e4d86bd1-0` });
  await chain.call({ 'x-client-trace-id': 'forced-3' });
  const forcedTrace = String(chain.services[2]!.received.at(-1)!['traceparent']).split('-')[1]!;
  await collector.waitFor((s) => traceOf(s, forcedTrace).length >= 5);
  assert.equal(traceOf(collector.spans, off).length, 0);
});

test('a 5xx marks every span on its way as an error', async () => {
  const r = await chain.call({ 'x-client-trace-id': 'forced-4' }, '/fail');
  assert.equal(r.status, 503);
  const traceId = String(chain.services[2]!.received.at(-1)!['traceparent']).split('-')[1]!;
  const spans = traceOf(await collector.waitFor((s) => traceOf(s, traceId).length >= 5), traceId);
  for (const s of spans) {
    assert.equal(s.error, true, `${s.service} ${s.kind}`);
    assert.equal(s.tags['error'], 'true');
    assert.equal(s.tags['http.status_code'], '503');
  }
});

test('x-envoy-force-trace forces a trace as well (reason a in x-request-id)', async () => {
  await chain.call({ 'x-envoy-force-trace': '1' });
  const seen = chain.services[2]!.received.at(-1)!;
  const traceId = String(seen['traceparent']).split('-')[1]!;
  assert.match(String(seen['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-a/);
  await collector.waitFor((s) => traceOf(s, traceId).length >= 5);
});
