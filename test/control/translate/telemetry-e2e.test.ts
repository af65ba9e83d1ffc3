import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toJson } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { AddressSchema, SocketAddressSchema } from '../../../src/envoy/generated/envoy/config/core/v3/address_pb.js';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { nodeOf } from '../../../src/envoy/node-metadata.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import { generate } from '../../../src/control/translate/index.js';
import { parseResources } from '../../../src/control/config/parse.js';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { startTraceCollector, type TraceCollector } from '../../support/trace-collector.js';
import { configOf, identity } from '../mesh-fixtures.js';
import { asDelivered, asDeliveredListener } from './delivered.js';

/*
 * Telemetry end to end: MeshConfig and Telemetry resources (validated as `tsmesh apply` would),
 * translated for a sidecar, loaded into a real `tsmesh proxy`: a JSON access log that keeps
 * only errors (filter expression), and spans for both directions sent to an OTLP receiver.
 */
const mesh = (logFile: string, collectorPort: number) => `
apiVersion: tsmesh.io/v1
kind: MeshConfig
metadata: { name: mesh, namespace: istio-system }
spec:
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }
  accessLogFile: ${logFile}
  accessLogEncoding: JSON
  extensionProviders:
  - name: otel
    opentelemetry: { service: collector.observability.svc.cluster.local, port: ${collectorPort}, http: { path: /v1/traces } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: collector, namespace: observability }
spec:
  hosts: [collector.observability.svc.cluster.local]
  ports: [{ number: ${collectorPort}, name: http-otlp }]
  resolution: STATIC
  endpoints: [{ address: 127.0.0.1 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews.default.svc.cluster.local]
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  resolution: STATIC
  location: MESH_INTERNAL
  workloadSelector: { labels: { app: reviews } }
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 100 }]
  accessLogging: [{ providers: [{ name: envoy }], filter: { expression: "response.code >= 400" } }]
`;

let proxy: RunningProxy | undefined;
let collector: TraceCollector | undefined;
const upstreams: Upstream[] = [];
after(async () => {
  await proxy?.stop();
  await collector?.close();
  await Promise.all(upstreams.map((u) => u.close()));
});

test('Telemetry from the control plane: filtered JSON access log and OTLP spans from a real proxy', async () => {
  collector = await startTraceCollector();
  const reviews = await httpUpstream((req, res) => res.writeHead(req.url === '/fail' ? 503 : 200).end('reviews'));
  const app = await httpUpstream((_req, res) => res.end('productpage'));
  upstreams.push(reviews, app);
  const logFile = join(mkdtempSync(join(tmpdir(), 'tsmesh-tel-')), 'access.json');
  const yaml = mesh(logFile, collector.port);
  const { issues } = parseResources(yaml, 'telemetry.yaml');
  assert.deepEqual(issues, []);

  const outboundPort = await freePort();
  const inboundPort = await freePort();
  const peer = identity({ name: 'reviews-v1', labels: { app: 'reviews' }, ips: ['127.0.0.1'], inboundPort: reviews.port });
  const me = identity({ name: 'productpage-v1', labels: { app: 'productpage' }, ips: ['127.0.0.1'], outboundPort, inboundPort, appPorts: [app.port] });
  const res = generate(buildMesh(configOf(yaml), [me, peer]), me);
  const opts = { registry: envoyRegistry, useProtoFieldName: true } as const;
  const listeners = res.listeners.filter((l) => l.name === 'virtualOutbound' || l.name === 'virtualInbound').map((l) => {
    const d = asDeliveredListener(l, res.routes);
    d.useOriginalDst = undefined;
    d.address = create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: l.name === 'virtualInbound' ? inboundPort : outboundPort } }) } });
    return toJson(ListenerSchema, d, opts);
  });
  const clusters = res.clusters
    .filter((c) => !(c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.ORIGINAL_DST))
    .map((c) => toJson(ClusterSchema, asDelivered(c, res.endpoints), opts));
  const node = nodeOf(me);
  proxy = await startProxy(JSON.stringify({
    node: { id: node.id, cluster: node.cluster, metadata: node.metadata },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 'ADMIN_PORT' } } },
    static_resources: { listeners, clusters },
  }));

  assert.equal((await request(outboundPort, { path: '/ok', headers: { host: 'reviews:9080' } })).status, 200);
  assert.equal((await request(outboundPort, { path: '/fail', headers: { host: 'reviews:9080' } })).status, 503);
  assert.equal((await request(inboundPort, { path: '/inbound' })).status, 200);

  // Only the 503 is logged, in Istio's JSON format.
  let lines: string[] = [];
  for (let i = 0; i < 400 && lines.length === 0; i++) {
    try { lines = readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean); } catch { /* not yet */ }
    if (lines.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(lines.length, 1, lines.join('\n'));
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(entry['response_code'], 503);
  assert.equal(entry['path'], '/fail');
  assert.equal(entry['upstream_cluster'], 'outbound|9080||reviews.default.svc.cluster.local');
  assert.deepEqual(Object.keys(entry).sort(), ['authority', 'bytes_received', 'bytes_sent', 'connection_termination_details', 'downstream_local_address', 'downstream_remote_address', 'duration', 'method', 'path', 'protocol', 'request_id', 'requested_server_name', 'response_code', 'response_code_details', 'response_flags', 'route_name', 'start_time', 'upstream_cluster', 'upstream_host', 'upstream_local_address', 'upstream_service_time', 'upstream_transport_failure_reason', 'user_agent', 'x_forwarded_for']);

  // Client spans for the outbound calls, a server span for the inbound one, under the node's cluster name.
  const spans = await collector.waitFor((s) => s.length >= 3);
  assert.deepEqual(spans.map((s) => [s.kind, s.tags['http.status_code']]).sort(), [['client', '200'], ['client', '503'], ['server', '200']]);
  assert.ok(spans.every((s) => s.service === 'productpage.default'));
  assert.equal(spans.find((s) => s.tags['http.status_code'] === '503')!.tags['upstream_cluster'], 'outbound|9080||reviews.default.svc.cluster.local');
});
