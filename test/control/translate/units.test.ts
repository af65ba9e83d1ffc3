import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { toJson } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import { RetryPolicySchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { duration } from '../../../src/control/translate/duration.js';
import { domainsFor, hostMatches, resolveHost } from '../../../src/control/translate/hosts.js';
import { effectivePolicy } from '../../../src/control/translate/policy.js';
import { retryPolicy } from '../../../src/control/translate/route-policies.js';
import { generate, shapeKey, TranslationError } from '../../../src/control/translate/index.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import { portProtocol } from '../../../src/control/registry/protocol.js';
import type { DestinationRule } from '../../../src/control/config/kinds.js';
import type { Service } from '../../../src/control/registry/model.js';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { GOLDEN_DIR, configOf, goldenCase, identity, resourcesJson } from '../mesh-fixtures.js';

test('Istio durations', () => {
  const table: [string, string][] = [['1s', '1s'], ['1.5s', '1.500s'], ['100ms', '0.100s'], ['1m30s', '90s'], ['2h', '7200s'], ['250us', '0.000250s'], ['0s', '0s']];
  for (const [text, json] of table) assert.equal(toJson(DurationSchema, duration(text)), json, text);
  for (const bad of ['', '1', 's', '1x', '1s ', '-1s']) assert.throws(() => duration(bad), /not a duration/, bad);
});

test('port protocols: the field, else the name prefix, else TCP', () => {
  const table: [{ number: number; name: string; protocol?: string }, string][] = [
    [{ number: 1, name: 'x', protocol: 'grpc' }, 'GRPC'], [{ number: 1, name: 'http-web' }, 'HTTP'], [{ number: 1, name: 'grpc' }, 'GRPC'],
    [{ number: 1, name: 'http2' }, 'HTTP2'], [{ number: 1, name: 'web' }, 'TCP'], [{ number: 1, name: 'tcp-db' }, 'TCP'],
  ];
  for (const [port, want] of table) assert.equal(portProtocol(port), want, JSON.stringify(port));
});

test('host resolution and wildcard matching', () => {
  const known = new Set(['reviews.default.svc.cluster.local', 'legacy']);
  assert.equal(resolveHost('reviews', 'default', known), 'reviews.default.svc.cluster.local');
  assert.equal(resolveHost('ratings', 'shop', known), 'ratings.shop.svc.cluster.local');
  assert.equal(resolveHost('legacy', 'default', known), 'legacy', 'a literal short ServiceEntry host is used when no FQDN exists');
  assert.equal(resolveHost('api.example.com', 'x', known), 'api.example.com');
  assert.ok(hostMatches('*.example.com', 'a.example.com'));
  assert.ok(!hostMatches('*.example.com', 'example.com'));
  assert.ok(hostMatches('*', 'anything'));
});

test('virtual host domains: short names only where Istio gives them', () => {
  const svc = (hostname: string, addresses: string[] = []): Service => ({ hostname, namespace: 'x', ports: [], addresses, resolution: 'STATIC', location: 'MESH_INTERNAL', source: 'x/y' });
  assert.deepEqual(domainsFor(svc('a.ns1.svc.cluster.local', ['10.0.0.1']), 80, 'ns1'), [
    'a.ns1.svc.cluster.local', 'a.ns1.svc.cluster.local:80', 'a', 'a:80', 'a.ns1', 'a.ns1:80', 'a.ns1.svc', 'a.ns1.svc:80', '10.0.0.1', '10.0.0.1:80',
  ]);
  assert.deepEqual(domainsFor(svc('a.ns1.svc.cluster.local'), 80, 'ns2'), ['a.ns1.svc.cluster.local', 'a.ns1.svc.cluster.local:80', 'a.ns1', 'a.ns1:80', 'a.ns1.svc', 'a.ns1.svc:80']);
  assert.deepEqual(domainsFor(svc('api.example.com', ['10.1.0.0/16', '10.2.0.1/32']), 443, 'ns1'), ['api.example.com', 'api.example.com:443', '10.2.0.1', '10.2.0.1:443']);
});

test('traffic policy merge: port-level replaces whole fields, the subset replaces the rule', () => {
  const dr: DestinationRule = {
    apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'd', namespace: 'default' },
    spec: {
      host: 'h',
      trafficPolicy: {
        loadBalancer: { simple: 'RANDOM' },
        connectionPool: { tcp: { maxConnections: 1 } },
        portLevelSettings: [{ port: { number: 9 }, connectionPool: { http: { maxRetries: 2 } } }],
      },
      subsets: [{ name: 's', labels: { v: '1' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, portLevelSettings: [{ port: { number: 9 }, outlierDetection: { consecutive5xxErrors: 1 } }] } }],
    },
  };
  assert.deepEqual(effectivePolicy(dr, 80), { loadBalancer: { simple: 'RANDOM' }, connectionPool: { tcp: { maxConnections: 1 } } });
  assert.deepEqual(effectivePolicy(dr, 9), { loadBalancer: { simple: 'RANDOM' }, connectionPool: { http: { maxRetries: 2 } } });
  assert.deepEqual(effectivePolicy(dr, 9, 's'), { loadBalancer: { simple: 'ROUND_ROBIN' }, connectionPool: { http: { maxRetries: 2 } }, outlierDetection: { consecutive5xxErrors: 1 } });
  assert.deepEqual(effectivePolicy(undefined, 9, 's'), {});
});

test("retries: Istio's defaults, attempts 0 disables, retryOn status codes", () => {
  const json = (p: ReturnType<typeof retryPolicy>): unknown => (p ? toJson(RetryPolicySchema, p, { registry: envoyRegistry, useProtoFieldName: true }) : null);
  assert.deepEqual(json(retryPolicy(undefined, true)), {
    retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 2, host_selection_retry_max_attempts: '5', retriable_status_codes: [503],
  });
  assert.equal(retryPolicy({ attempts: 0 }, false), undefined);
  assert.equal(retryPolicy({ perTryTimeout: '1s' }, false), undefined, 'no attempts given counts as 0, as in Istio');
  assert.deepEqual(json(retryPolicy({ attempts: 3, retryOn: 'reset, 502 ,504', perTryTimeout: '2s' }, true)), {
    retry_on: 'reset,retriable-status-codes', num_retries: 3, per_try_timeout: '2s', host_selection_retry_max_attempts: '5', retriable_status_codes: [502, 504],
  });
  const p = retryPolicy({ attempts: 1 }, false)!;
  assert.deepEqual(p.retryHostPredicate.map((h) => h.name), ['envoy.retry_host_predicates.previous_hosts']);
});

test('shapeKey: replicas share a key and an output; labels, namespace, ports and generator make a new one', () => {
  const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, 'source-labels'));
  const replica = { ...proxy, id: 'sidecar~10.0.0.99~productpage-v2-b.shop~shop.svc.cluster.local', name: 'productpage-v2-b', ips: ['10.0.0.99'], serviceAccount: 'other' };
  assert.equal(shapeKey(replica), shapeKey(proxy));
  assert.equal(JSON.stringify(resourcesJson(generate(mesh, replica))), JSON.stringify(resourcesJson(generate(mesh, proxy))));
  const v1 = { ...proxy, labels: { app: 'productpage', version: 'v1' } };
  assert.notEqual(shapeKey(v1), shapeKey(proxy));
  assert.notEqual(JSON.stringify(resourcesJson(generate(mesh, v1))), JSON.stringify(resourcesJson(generate(mesh, proxy))), 'sourceLabels make v1 see other routes');
  assert.equal(shapeKey({ ...proxy, labels: { version: 'v2', app: 'productpage' } }), shapeKey(proxy), 'label order does not matter');
  for (const other of [{ ...proxy, namespace: 'qa' }, { ...proxy, inboundPort: 1 }, { ...proxy, outboundPort: 2 }, { ...proxy, appPorts: [3] }, { ...proxy, generator: 'grpc' as const }]) {
    assert.notEqual(shapeKey(other), shapeKey(proxy));
  }
});

test('shapeKey with the mesh: labels no selector reads share a shape and an output; labels a selector reads do not', () => {
  const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, 'source-labels'));
  const extra = { ...proxy, labels: { ...proxy.labels, 'pod-template-hash': 'abc123', team: 'x' } };
  assert.notEqual(shapeKey(extra), shapeKey(proxy), 'without the mesh every label counts');
  assert.equal(shapeKey(extra, mesh), shapeKey(proxy, mesh));
  assert.equal(JSON.stringify(resourcesJson(generate(mesh, extra))), JSON.stringify(resourcesJson(generate(mesh, proxy))));
  const v1 = { ...proxy, labels: { app: 'productpage', version: 'v1' } };
  assert.notEqual(shapeKey(v1, mesh), shapeKey(proxy, mesh), 'sourceLabels read "version"');
  assert.notEqual(JSON.stringify(resourcesJson(generate(mesh, v1))), JSON.stringify(resourcesJson(generate(mesh, proxy))));
  const v7 = { ...proxy, labels: { app: 'productpage', version: 'v7' } };
  const v8 = { ...proxy, labels: { app: 'productpage', version: 'v8' } };
  assert.equal(shapeKey(v7, mesh), shapeKey(v8, mesh), 'values no selector compares with are one value');
  assert.equal(JSON.stringify(resourcesJson(generate(mesh, v7))), JSON.stringify(resourcesJson(generate(mesh, v8))));
});

test('generate is pure: same input, same output, twice', () => {
  const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, 'route-features'));
  assert.equal(JSON.stringify(resourcesJson(generate(mesh, proxy))), JSON.stringify(resourcesJson(generate(mesh, proxy))));
});

test('an untranslatable value is an error naming the resource and field, not a crash deep inside', () => {
  const mesh = buildMesh(configOf(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: a }
spec: { hosts: [a.example.com], ports: [{ number: 80, name: http }], resolution: STATIC, endpoints: [{ address: 10.0.0.1 }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: a, namespace: web }
spec: { hosts: [a.example.com], http: [{ match: [{ uri: { prefix: /a } }], route: [{ destination: { host: a.example.com } }] }, { timeout: soon, route: [{ destination: { host: a.example.com } }] }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: a }
spec: { host: a.example.com, trafficPolicy: { connectionPool: { tcp: { connectTimeout: 5 } } } }
`), []);
  const proxy = identity({ name: 'p', outboundPort: 15001 });
  assert.throws(() => generate(mesh, proxy), (e: unknown) => e instanceof TranslationError && e.code === 'TSMESH_TRANSLATE'
    && /^DestinationRule default\/a: spec.trafficPolicy: not a duration/.test(e.message));
  const withoutDr = { ...mesh, config: { ...mesh.config, destinationRules: [] } };
  assert.throws(() => generate(withoutDr, proxy), /VirtualService web\/a: spec.http\[1\]: not a duration: "soon"/);
});

test('an empty mesh: only the catch-alls', () => {
  const res = generate(buildMesh(configOf(''), []), identity({ name: 'p', outboundPort: 15001 }));
  assert.deepEqual(res.clusters.map((c) => c.name), ['BlackHoleCluster', 'PassthroughCluster']);
  assert.deepEqual(res.listeners.map((l) => l.name), ['virtualOutbound']);
  assert.deepEqual(res.routes.map((r) => r.name), ['http_proxy']);
  assert.deepEqual(res.endpoints, []);
});
