import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REVIEWS_SERVICE_ENTRY, startMesh, until, viaProxy, type Mesh } from '../../support/running-mesh.js';
import { startTraceCollector, type TraceCollector } from '../../support/trace-collector.js';

/*
 * Telemetry through `tsmesh control`: MeshConfig (an OTLP/HTTP collector that is a mesh
 * service, a file access log) and a root-namespace Telemetry (100% tracing, errors-only access
 * log) reach two sidecars over ADS. A call from the client sidecar to reviews gives one trace:
 * the client's client span and the reviews sidecar's server span under it.
 */
const REVIEWS = 'http://reviews.default.svc.cluster.local:9080';

let mesh: Mesh;
let collector: TraceCollector;
const logFile = join(mkdtempSync(join(tmpdir(), 'tsmesh-mesh-tel-')), 'access.log');

before(async () => {
  collector = await startTraceCollector();
  const config = `${REVIEWS_SERVICE_ENTRY}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: collector, namespace: observability }
spec:
  hosts: [collector.observability.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: ${collector.port}, name: http-otlp, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1 }]
---
apiVersion: tsmesh.io/v1
kind: MeshConfig
metadata: { name: mesh, namespace: istio-system }
spec:
  accessLogFile: ${logFile}
  extensionProviders:
  - name: otel
    opentelemetry: { service: collector.observability.svc.cluster.local, port: ${collector.port}, http: { path: /v1/traces } }
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 100 }]
  accessLogging: [{ providers: [{ name: envoy }], filter: { expression: "response.code >= 400" } }]
`;
  mesh = await startMesh({
    configFiles: { 'mesh.yaml': config },
    workloads: [
      { name: 'client', labels: { app: 'client' }, noApp: true },
      { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } },
    ],
  });
});
after(async () => { await mesh?.close(); await collector?.close(); });

test('spans across two sidecars programmed by tsmesh control, and an errors-only access log', async () => {
  const out = mesh.workloads.get('client')!.outboundPort;
  await until(async () => (await viaProxy(out, `${REVIEWS}/ok`)).status === 200 || undefined, 30_000, () => 'reviews never answered');
  const traceId = await until(async () => {
    const both = collector.spans.filter((s) => s.tags['http.url']?.endsWith('/ok'));
    // The first calls may have gone out before reviews' sidecar had its config: any matching pair.
    const server = both.find((s) => s.kind === 'server' && s.service === 'reviews.default'
      && both.some((c) => c.kind === 'client' && c.service === 'client.default' && c.traceId === s.traceId && c.spanId === s.parentSpanId));
    return server?.traceId;
  }, 30_000, () => `no client/server span pair yet: ${JSON.stringify(collector.spans.map((s) => [s.service, s.kind, s.traceId, s.spanId, s.parentSpanId, s.tags['http.url']]))}`);
  const pair = collector.spans.filter((s) => s.traceId === traceId);
  const client = pair.find((s) => s.kind === 'client')!;
  assert.equal(client.tags['upstream_cluster'], 'outbound|9080||reviews.default.svc.cluster.local');
  assert.equal(client.tags['istio.canonical_service'], 'client');
  assert.equal(pair.find((s) => s.kind === 'server')!.tags['upstream_cluster'], 'inbound|' + mesh.workloads.get('reviews-v1')!.app!.port + '||');

  // Errors only: a 503 from a broken reviews is logged (by both sidecars), the 200s are not.
  mesh.workloads.get('reviews-v1')!.app!.mode = 'fail';
  assert.equal((await viaProxy(out, `${REVIEWS}/broken`, { headers: { 'x-request-id': 'req-broken-1' } })).status, 503);
  const lines = await until(async () => {
    let text = '';
    try { text = readFileSync(logFile, 'utf8'); } catch { return undefined; }
    const l = text.split('\n').filter(Boolean);
    return l.filter((x) => x.includes('req-broken-1')).length >= 2 ? l : undefined;
  }, 20_000, () => 'the 503 was not logged by both sidecars');
  // Calls made before every sidecar had its config may have failed (404, 503) and are logged too.
  for (const l of lines) assert.ok(Number(/^\[[^\]]+\] "[^"]*" (\d+) /.exec(l)?.[1]) >= 400, `only errors are logged: ${l}`);
  const broken = lines.filter((l) => l.includes('req-broken-1'));
  for (const l of broken) assert.match(l, /^\[\d{4}-\d\d-\d\dT[^\]]+\] "GET \/broken HTTP\/1\.1" 503 /);
});
