import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import type { Endpoint } from '../../../src/control/registry/model.js';
import { configOf, identity } from '../mesh-fixtures.js';

const SE = (extra: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc }
spec:
  hosts: [svc.default.svc.cluster.local]
  ports: [{ number: 80, name: http, protocol: HTTP, targetPort: 8080 }, { number: 81, name: admin }]
  resolution: STATIC
${extra}`;

const at = (eps: readonly Endpoint[] | undefined): string[] => (eps ?? []).map((e) => `${e.address}:${e.port}`);

test('inline endpoints: the port by name, else targetPort, else the service port', () => {
  const mesh = buildMesh(configOf(SE(`  endpoints:
  - { address: 10.0.0.2, ports: { http: 9000 } }
  - { address: 10.0.0.1 }`)), []);
  assert.deepEqual(at(mesh.endpoints.get('svc.default.svc.cluster.local:80')), ['10.0.0.1:8080', '10.0.0.2:9000']);
  assert.deepEqual(at(mesh.endpoints.get('svc.default.svc.cluster.local:81')), ['10.0.0.1:81', '10.0.0.2:81']);
  const e = mesh.endpoints.get('svc.default.svc.cluster.local:80')![0]!;
  assert.deepEqual({ weight: e.weight, healthy: e.healthy, sa: e.serviceAccount, source: e.source }, { weight: 1, healthy: true, sa: 'default', source: 'entry:default/svc' });
});

test('workloadSelector: WorkloadEntries of the same namespace whose labels include the selector', () => {
  const mesh = buildMesh(configOf(`${SE('  workloadSelector: { labels: { app: svc } }')}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: yes }
spec: { address: 10.0.1.1, labels: { app: svc, version: v1 }, ports: { admin: 9981 }, weight: 4, serviceAccount: svc-sa }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: other-labels }
spec: { address: 10.0.1.2, labels: { app: other } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: other-namespace, namespace: elsewhere }
spec: { address: 10.0.1.3, labels: { app: svc } }
`), []);
  assert.deepEqual(at(mesh.endpoints.get('svc.default.svc.cluster.local:80')), ['10.0.1.1:8080']);
  assert.deepEqual(at(mesh.endpoints.get('svc.default.svc.cluster.local:81')), ['10.0.1.1:9981']);
  const e = mesh.endpoints.get('svc.default.svc.cluster.local:80')![0]!;
  assert.deepEqual({ w: e.weight, sa: e.serviceAccount, labels: e.labels, source: e.source }, { w: 4, sa: 'svc-sa', labels: { app: 'svc', version: 'v1' }, source: 'entry:default/yes' });
});

test('connected sidecars are endpoints on their inbound port (no capture), with their identity', () => {
  const p = identity({ name: 'svc-1', labels: { app: 'svc', version: 'v2' }, ips: ['127.0.0.7', '10.9.9.9'], inboundPort: 15006, serviceAccount: 'svc-sa', appPorts: [8080] });
  const noIp = identity({ name: 'svc-2', labels: { app: 'svc' }, inboundPort: 15106 });
  const mesh = buildMesh(configOf(SE('  workloadSelector: { labels: { app: svc } }')), [p, { ...noIp, ips: [] }]);
  const eps = mesh.endpoints.get('svc.default.svc.cluster.local:80')!;
  assert.deepEqual(at(eps), ['127.0.0.7:15006']);
  assert.deepEqual(at(mesh.endpoints.get('svc.default.svc.cluster.local:81')), ['127.0.0.7:15006']);
  assert.deepEqual({ sa: eps[0]!.serviceAccount, source: eps[0]!.source, labels: eps[0]!.labels }, { sa: 'svc-sa', source: `proxy:${p.id}`, labels: { app: 'svc', version: 'v2' } });
  // Sorted by node id (sidecar~127.0.0.1~svc-2... before sidecar~127.0.0.7~svc-1...).
  assert.deepEqual(mesh.connected.map((c) => c.name), ['svc-2', 'svc-1']);
});

test('a proxyless gRPC server is reached on its first app port', () => {
  const p = identity({ name: 'g', labels: { app: 'svc' }, ips: ['127.0.0.8'], generator: 'grpc', appPorts: [50051, 50052] });
  const mesh = buildMesh(configOf(SE('  workloadSelector: { labels: { app: svc } }')), [p]);
  assert.deepEqual(at(mesh.endpoints.get('svc.default.svc.cluster.local:80')), ['127.0.0.8:50051']);
});

test('WorkloadGroup: a matching proxy gets the template labels, ports, service account and weight', () => {
  const cfg = configOf(`${SE('  workloadSelector: { labels: { app: svc, tier: vm } }')}
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: { name: vms }
spec:
  metadata: { labels: { app: svc } }
  template: { labels: { tier: vm }, ports: { http: 7000 }, serviceAccount: vm-sa, weight: 3 }
`);
  const inGroup = identity({ name: 'vm-1', labels: { app: 'svc', tier: 'vm', extra: 'x' }, ips: ['10.2.0.1'] });
  const partial = identity({ name: 'vm-2', labels: { app: 'svc' }, ips: ['10.2.0.2'] });
  const ownSa = identity({ name: 'vm-3', labels: { app: 'svc', tier: 'vm' }, ips: ['10.2.0.3'], serviceAccount: 'mine' });
  const mesh = buildMesh(cfg, [inGroup, partial, ownSa]);
  const eps = mesh.endpoints.get('svc.default.svc.cluster.local:80')!;
  // vm-2 lacks tier=vm: no group, and the selector (app, tier) does not select it either.
  assert.deepEqual(eps.map((e) => [e.address, e.port, e.weight, e.serviceAccount]), [['10.2.0.1', 7000, 3, 'vm-sa'], ['10.2.0.3', 7000, 3, 'mine']]);
  assert.deepEqual(eps[0]!.labels, { app: 'svc', extra: 'x', tier: 'vm' });
});

test('DNS service without endpoints: the host itself; NONE without endpoints: none', () => {
  const mesh = buildMesh(configOf(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ext }
spec: { hosts: [api.example.com, "*.example.org"], ports: [{ number: 443, name: tls }], resolution: DNS }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: none }
spec: { hosts: [none.example.com], ports: [{ number: 80, name: http }] }
`), []);
  assert.deepEqual(at(mesh.endpoints.get('api.example.com:443')), ['api.example.com:443']);
  assert.deepEqual(at(mesh.endpoints.get('*.example.org:443')), []);
  assert.deepEqual(at(mesh.endpoints.get('none.example.com:80')), []);
  const none = mesh.services.find((s) => s.hostname === 'none.example.com')!;
  assert.deepEqual({ r: none.resolution, l: none.location }, { r: 'NONE', l: 'MESH_EXTERNAL' });
});

test('one service per host: the oldest ServiceEntry wins', () => {
  const mesh = buildMesh(configOf(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: newer, creationTimestamp: "2026-02-01T00:00:00Z" }
spec: { hosts: [a.example.com], ports: [{ number: 80, name: http }], resolution: STATIC, endpoints: [{ address: 10.0.0.2 }] }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: older, creationTimestamp: "2026-01-01T00:00:00Z" }
spec: { hosts: [a.example.com], ports: [{ number: 80, name: http }], resolution: STATIC, endpoints: [{ address: 10.0.0.1 }] }
`), []);
  assert.equal(mesh.services.length, 1);
  assert.equal(mesh.services[0]!.source, 'default/older');
  assert.deepEqual(at(mesh.endpoints.get('a.example.com:80')), ['10.0.0.1:80']);
});

test('deterministic: the order of the input does not change the output', () => {
  const docs = [
    SE('  workloadSelector: { labels: { app: svc } }'),
    `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: b, creationTimestamp: "2026-01-01T00:00:00Z" }\nspec: { hosts: [b.example.com], ports: [{ number: 2, name: tcp }, { number: 1, name: http }], addresses: [10.9.0.2, 10.9.0.1], resolution: STATIC, endpoints: [{ address: 10.0.0.9 }, { address: 10.0.0.3 }] }`,
    `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: { name: w1, creationTimestamp: "2026-01-01T00:00:00Z" }\nspec: { address: 10.1.0.9, labels: { app: svc } }`,
    `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: { name: w2, creationTimestamp: "2026-01-01T00:00:00Z" }\nspec: { address: 10.1.0.1, labels: { app: svc } }`,
  ];
  const proxies = [identity({ name: 'p2', labels: { app: 'svc' }, ips: ['127.0.0.9'], inboundPort: 1 }), identity({ name: 'p1', labels: { app: 'svc' }, ips: ['127.0.0.1'], inboundPort: 2 })];
  const a = buildMesh(configOf(docs.join('\n---\n')), proxies);
  const b = buildMesh(configOf([...docs].reverse().join('\n---\n')), [...proxies].reverse());
  const norm = (m: typeof a): unknown => ({ services: m.services, endpoints: [...m.endpoints], connected: m.connected });
  assert.deepEqual(norm(a), norm(b));
  assert.deepEqual(a.services.map((s) => s.hostname), ['b.example.com', 'svc.default.svc.cluster.local']);
  assert.deepEqual(a.services[0]!.ports.map((p) => p.number), [1, 2]);
  assert.deepEqual(a.services[0]!.addresses, ['10.9.0.1', '10.9.0.2']);
});
