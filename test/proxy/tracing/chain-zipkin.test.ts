import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTraceCollector, type ReceivedSpan, type TraceCollector } from '../../support/trace-collector.js';
import { startTracedChain, zipkinProvider, type TracedChain } from '../../support/traced-chain.js';

const open: { close(): Promise<void> }[] = [];
after(async () => { for (const o of open.reverse()) await o.close(); });

function traceOf(spans: readonly ReceivedSpan[], traceId: string): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === traceId);
}

function one(spans: readonly ReceivedSpan[], service: string, kind: 'server' | 'client'): ReceivedSpan {
  const found = spans.filter((s) => s.service === service && s.kind === kind);
  assert.equal(found.length, 1, `${service} ${kind}: ${JSON.stringify(spans)}`);
  return found[0]!;
}

async function setUp(shared: boolean, concurrency: number): Promise<{ collector: TraceCollector; chain: TracedChain }> {
  const collector = await startTraceCollector();
  open.push(collector);
  const chain = await startTracedChain(['front', 'middle', 'back'], collector.port, zipkinProvider(shared), '', concurrency);
  open.push(chain);
  return { collector, chain };
}

test('Zipkin v2 JSON: one trace across three services, parent/child per hop (worker threads)', async () => {
  const { collector, chain } = await setUp(false, 2);
  // Several requests, so both workers of each proxy serve some and report their own batches.
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await chain.call();
    assert.equal(r.status, 200);
    ids.push(String(chain.services[2]!.received.at(-1)!['x-b3-traceid']));
  }
  for (const traceId of ids) {
    const spans = traceOf(await collector.waitFor((s) => traceOf(s, traceId).length >= 5), traceId);
    const fIn = one(spans, 'front.default', 'server');
    const fOut = one(spans, 'front.default', 'client');
    const mIn = one(spans, 'middle.default', 'server');
    const mOut = one(spans, 'middle.default', 'client');
    const bIn = one(spans, 'back.default', 'server');
    assert.equal(fIn.parentSpanId, undefined);
    assert.equal(fOut.parentSpanId, fIn.spanId);
    assert.equal(mIn.parentSpanId, fOut.spanId);
    assert.equal(mOut.parentSpanId, mIn.spanId);
    assert.equal(bIn.parentSpanId, mOut.spanId);
    assert.ok(spans.every((s) => !s.shared));
    assert.equal(fOut.tags['upstream_cluster'], 'next');
  }
  assert.deepEqual(collector.bad, []);
  assert.ok(collector.contentTypes.every((c) => c === 'POST /api/v2/spans application/json'));
});

test('Zipkin shared span context: the server side of a hop reports under its caller\'s span id', async () => {
  const { collector, chain } = await setUp(true, 1);
  await chain.call();
  const traceId = String(chain.services[2]!.received.at(-1)!['x-b3-traceid']);
  const spans = traceOf(await collector.waitFor((s) => traceOf(s, traceId).length >= 5), traceId);
  const fIn = one(spans, 'front.default', 'server');
  const fOut = one(spans, 'front.default', 'client');
  const mIn = one(spans, 'middle.default', 'server');
  const mOut = one(spans, 'middle.default', 'client');
  assert.equal(mIn.spanId, fOut.spanId);
  assert.equal(mIn.shared, true);
  assert.equal(mIn.parentSpanId, fIn.spanId);
  assert.equal(mOut.parentSpanId, mIn.spanId);
  assert.equal(fIn.shared, false, 'a trace root shares with no one');
});

test('Zipkin reads and writes B3 (the single b3 header too, when it came that way) and writes no traceparent', async () => {
  const { collector, chain } = await setUp(false, 1);
  const single = '80f198ee56343ba864fe8b2a57d3eff7';
  await chain.call({ b3: `${single}-e457b5a2e4d86bd1-1` });
  const spans = traceOf(await collector.waitFor((s) => traceOf(s, single).length >= 5), single);
  const fIn = one(spans, 'front.default', 'server');
  assert.equal(fIn.parentSpanId, 'e457b5a2e4d86bd1');
  const seenByFront = chain.services[0]!.received.at(-1)!;
  assert.equal(seenByFront['b3'], `${single}-${fIn.spanId}-1-e457b5a2e4d86bd1`);
  assert.deepEqual([seenByFront['x-b3-traceid'], seenByFront['x-b3-spanid'], seenByFront['x-b3-parentspanid'], seenByFront['x-b3-sampled']], [single, fIn.spanId, 'e457b5a2e4d86bd1', '1']);
  assert.equal(seenByFront['traceparent'], undefined);
  const mIn = one(spans, 'middle.default', 'server');
  assert.equal(mIn.parentSpanId, one(spans, 'front.default', 'client').spanId, 'the next hop reads the updated b3, not the caller\'s');
});
