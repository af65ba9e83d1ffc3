import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { AddressSchema, SocketAddressSchema } from '../../../src/envoy/generated/envoy/config/core/v3/address_pb.js';
import { create } from '@bufbuild/protobuf';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import { generate } from '../../../src/control/translate/index.js';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { configOf, identity } from '../mesh-fixtures.js';
import { asDelivered, asDeliveredListener } from './delivered.js';

/*
 * End to end: what generate() returns for a sidecar, loaded into the real `tsmesh proxy` process
 * as its bootstrap (the form ADS will deliver: routes inline, EDS endpoints inline), with real
 * upstreams on loopback. Requests go to virtualOutbound with the Host a client of the mesh
 * would send, and to virtualInbound as a peer sidecar would.
 */
const MESH = `
apiVersion: tsmesh.io/v1
kind: MeshConfig
metadata: { name: mesh, namespace: tsmesh-system }
spec: { outboundTrafficPolicy: { mode: REGISTRY_ONLY } }
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
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
    headers: { response: { set: { x-routed: jason } } }
  - match: [{ uri: { prefix: /teapot } }]
    fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }
    route: [{ destination: { host: reviews, subset: v1 } }]
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 90 }
    - { destination: { host: reviews, subset: v2 }, weight: 10 }
`;

let proxy: RunningProxy | undefined;
const upstreams: Upstream[] = [];
after(async () => {
  await proxy?.stop();
  await Promise.all(upstreams.map((u) => u.close()));
});

test('generated sidecar config serves real traffic in tsmesh proxy', async () => {
  const answer = (text: string) => (_req: unknown, res: { end(s: string): void }) => res.end(text);
  const [v1, v2, app] = await Promise.all([httpUpstream(answer('v1')), httpUpstream(answer('v2')), httpUpstream(answer('productpage'))]);
  upstreams.push(v1, v2, app);
  const outboundPort = await freePort();
  const inboundPort = await freePort();
  // The reviews "sidecars" are registered at their inbound port; here the apps answer there directly.
  const reviews = [
    identity({ name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ips: ['127.0.0.1'], inboundPort: v1.port }),
    identity({ name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' }, ips: ['127.0.0.1'], inboundPort: v2.port }),
  ];
  const me = identity({ name: 'productpage-v1', labels: { app: 'productpage' }, ips: ['127.0.0.1'], outboundPort, inboundPort, appPorts: [app.port] });
  const res = generate(buildMesh(configOf(MESH), [me, ...reviews]), me);

  const opts = { registry: envoyRegistry, useProtoFieldName: true } as const;
  const listeners = res.listeners.filter((l) => l.name === 'virtualOutbound' || l.name === 'virtualInbound').map((l) => {
    const d = asDeliveredListener(l, res.routes);
    d.useOriginalDst = undefined; // the listener handoff comes with the sidecar flags
    // Tests stay on loopback: virtualInbound binds 0.0.0.0 in production.
    d.address = create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: l.name === 'virtualInbound' ? inboundPort : outboundPort } }) } });
    return toJson(ListenerSchema, d, opts);
  });
  assert.equal(listeners.length, 2);
  const clusters = res.clusters
    .filter((c) => !(c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.ORIGINAL_DST))
    .map((c) => toJson(ClusterSchema, asDelivered(c, res.endpoints), opts));
  const bootstrap = {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 'ADMIN_PORT' } } },
    static_resources: { listeners, clusters },
  };
  proxy = await startProxy(JSON.stringify(bootstrap));

  const get = (host: string, path = '/', headers: Record<string, string> = {}) => request(outboundPort, { path, headers: { host, ...headers } });

  // Header A/B: jason always reaches v2, with the route's response header.
  for (let i = 0; i < 10; i++) {
    const r = await get('reviews:9080', '/', { 'end-user': 'jason' });
    assert.deepEqual([r.status, r.body, r.headers['x-routed']], [200, 'v2', 'jason']);
  }
  // Canary 90/10 over 200 requests: both versions answer, v1 the most. (All v1 has
  // probability 0.9^200 ≈ 7e-10.)
  const counts: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const r = await get('reviews.default.svc.cluster.local:9080');
    assert.equal(r.status, 200);
    counts[r.body] = (counts[r.body] ?? 0) + 1;
  }
  assert.ok((counts['v2'] ?? 0) > 0 && (counts['v1'] ?? 0) > (counts['v2'] ?? 0), JSON.stringify(counts));
  // Fault injection from the VirtualService.
  assert.equal((await get('reviews:9080', '/teapot')).status, 418);
  // REGISTRY_ONLY: an unknown host is refused by the proxy itself.
  assert.equal((await get('example.com')).status, 502);
  // The inbound side reaches the application behind the sidecar.
  const inbound = await request(inboundPort, { path: '/' });
  assert.deepEqual([inbound.status, inbound.body], [200, 'productpage']);
});
