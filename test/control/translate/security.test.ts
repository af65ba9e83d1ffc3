import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, fromBinary, fromJson, toBinary, toJson, equals, type DescMessage, type Message } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBAC_Action, RBACSchema } from '../../../src/envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { parseResources } from '../../../src/control/config/parse.js';
import { formatIssue } from '../../../src/control/config/issues.js';
import type { AuthorizationPolicy } from '../../../src/control/config/kinds.js';
import { generate, shapeKey } from '../../../src/control/translate/index.js';
import { mtlsModeFor } from '../../../src/control/translate/security-policies.js';
import { rbacRules } from '../../../src/control/translate/authz.js';
import { requestPrincipal } from '../../../src/control/translate/authz-matchers.js';
import { PrincipalSchema } from '../../../src/envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import { GOLDEN_DIR, configOf, goldenCase, identity, resourcesJson } from '../mesh-fixtures.js';

const CASES = readdirSync(GOLDEN_DIR).sort();

/** The security cases; their inputs are what a user could apply (validated as `tsmesh apply` would). */
const SECURITY_CASES = ['authz-http', 'authz-tcp', 'mtls-auto', 'mtls-modes'];

test('the security golden inputs are valid config', () => {
  for (const name of SECURITY_CASES) {
    const { issues } = parseResources(readFileSync(join(GOLDEN_DIR, name, 'input.yaml'), 'utf8'), `${name}/input.yaml`);
    assert.deepEqual(issues.map(formatIssue), [], name);
  }
});

function roundTrip<D extends DescMessage>(schema: D, m: Message, what: string): void {
  const bin = toBinary(schema, m as never);
  assert.ok(equals(schema, fromBinary(schema, bin) as never, m as never), `${what}: binary round trip`);
  const json = toJson(schema, m as never, { registry: envoyRegistry });
  assert.ok(equals(schema, fromJson(schema, json, { registry: envoyRegistry }) as never, m as never), `${what}: JSON round trip`);
}

test('every generated message round-trips through binary and JSON with the type registry', () => {
  for (const name of CASES) {
    const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, name));
    const r = generate(mesh, proxy);
    for (const m of r.listeners) roundTrip(ListenerSchema, m, `${name} ${m.name}`);
    for (const m of r.routes) roundTrip(RouteConfigurationSchema, m, `${name} ${m.name}`);
    for (const m of r.clusters) roundTrip(ClusterSchema, m, `${name} ${m.name}`);
    for (const m of r.endpoints) roundTrip(ClusterLoadAssignmentSchema, m, `${name} ${m.clusterName}`);
  }
});

const MODES = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ns, namespace: perm }
spec: { mtls: { mode: PERMISSIVE } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ns-unset, namespace: unset }
spec: { mtls: {} }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: empty-selector, namespace: open }
spec: { selector: { matchLabels: {} }, mtls: { mode: DISABLE } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: web, namespace: perm }
spec: { selector: { matchLabels: { app: web } }, mtls: { mode: UNSET }, portLevelMtls: { "8080": { mode: DISABLE }, "9090": { mode: UNSET } } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: web-newer, namespace: perm }
spec: { selector: { matchLabels: { app: web } }, mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: db, namespace: perm }
spec: { selector: { matchLabels: { app: db } }, mtls: { mode: DISABLE } }
`;

test('effective mTLS mode: workload > namespace > root namespace, UNSET inherits, port level, oldest wins', () => {
  const config = configOf(MODES);
  const table: [string, Record<string, string>, number | undefined, string][] = [
    ['other', {}, 80, 'STRICT'],
    ['unset', {}, 80, 'STRICT'],
    ['perm', {}, 80, 'PERMISSIVE'],
    ['perm', { app: 'web' }, 80, 'PERMISSIVE'],
    ['perm', { app: 'web' }, 8080, 'DISABLE'],
    ['perm', { app: 'web' }, 9090, 'PERMISSIVE'],
    ['perm', { app: 'db' }, 8080, 'DISABLE'],
    ['web-elsewhere', { app: 'web' }, 8080, 'STRICT'],
    ['open', { app: 'any' }, 80, 'DISABLE'],
  ];
  for (const [namespace, labels, port, want] of table) assert.equal(mtlsModeFor(config, { namespace, labels }, port), want, `${namespace} ${JSON.stringify(labels)} ${port}`);
  assert.equal(mtlsModeFor(configOf(''), { namespace: 'x', labels: {} }, 80), 'PERMISSIVE', "Istio's default");
  assert.equal(mtlsModeFor(configOf(`apiVersion: tsmesh.io/v1\nkind: MeshConfig\nmetadata: { name: mesh }\nspec: { rootNamespace: sys }\n---\n${MODES}`), { namespace: 'other', labels: {} }, 80), 'PERMISSIVE', 'with another root namespace, istio-system is a plain namespace');
});

const ap = (name: string, spec: AuthorizationPolicy['spec']): AuthorizationPolicy => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'ns' }, spec });

test('authorization semantics: allow-nothing, allow-all, empty DENY, TCP handling of HTTP-only fields', () => {
  const summary = (policies: AuthorizationPolicy[], tcp: boolean) => rbacRules(policies, { forTcp: tcp, issuers: [] }).map((r) => `${RBAC_Action[r.action]}:${Object.keys(r.policies).join(',')}`);
  assert.deepEqual(summary([ap('nothing', {})], false), ['ALLOW:'], 'an ALLOW policy without rules: an ALLOW filter with no policy denies every request');
  assert.deepEqual(summary([ap('all', { rules: [{}] })], false), ['ALLOW:ns[ns]-policy[all]-rule[0]']);
  const all = rbacRules([ap('all', { rules: [{}] })], { forTcp: false, issuers: [] })[0]!.policies['ns[ns]-policy[all]-rule[0]']!;
  assert.deepEqual([all.permissions[0]!.rule.case, all.principals[0]!.identifier.case], ['any', 'any'], 'rules: [{}] matches everything');
  assert.deepEqual(summary([ap('d', { action: 'DENY' }), ap('a', { action: 'AUDIT' })], false), [], 'DENY / AUDIT without rules: no filter');
  const http = { to: [{ operation: { methods: ['GET'] } }] };
  assert.deepEqual(summary([ap('a', { rules: [http, { from: [{ source: { namespaces: ['x'] } }] }] })], true), ['ALLOW:ns[ns]-policy[a]-rule[1]'], 'TCP: an ALLOW rule with HTTP-only fields is dropped');
  assert.deepEqual(summary([ap('a', { rules: [http] })], true), ['ALLOW:'], 'TCP: with every ALLOW rule dropped, nothing is allowed');
  const deny = rbacRules([ap('d', { action: 'DENY', rules: [{ ...http, from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }] }] })], { forTcp: true, issuers: [] })[0]!;
  const p = deny.policies['ns[ns]-policy[d]-rule[0]']!;
  assert.equal(p.permissions[0]!.rule.case, 'any', 'TCP: a DENY rule loses its HTTP-only fields (denies more)');
  assert.equal(p.principals[0]!.identifier.case, 'andIds');
  assert.deepEqual(summary([ap('z', { action: 'AUDIT', rules: [{}] }), ap('y', { rules: [{}] }), ap('x', { action: 'DENY', rules: [{}] })], false), ['LOG:ns[ns]-policy[z]-rule[0]', 'DENY:ns[ns]-policy[x]-rule[0]', 'ALLOW:ns[ns]-policy[y]-rule[0]'], 'order: AUDIT, DENY, ALLOW');
});

test('port rules: destination_port with capture; decided per chain when the sidecar listens on its own port', () => {
  const policy = ap('p', { rules: [{ to: [{ operation: { ports: ['8000'] } }] }, { when: [{ key: 'destination.port', notValues: ['8000'] }] }] });
  const rules = (workloadPort?: number) => JSON.stringify(toJson(RBACSchema, create(RBACSchema, rbacRules([policy], { forTcp: false, issuers: [], ...(workloadPort !== undefined ? { workloadPort } : {}) })[0]!)));
  assert.match(rules(), /"destinationPort":8000/);
  assert.doesNotMatch(rules(8000), /destinationPort/);
  assert.match(rules(8000), /"ns\[ns\]-policy\[p\]-rule\[0\]":\{"permissions":\[\{"andRules":\{"rules":\[\{"andRules":\{"rules":\[\{"any":true\}\]/, 'port 8000 is this chain: any');
  assert.match(rules(9000), /-rule\[0\]":\{"permissions":\[\{"andRules":\{"rules":\[\{"andRules":\{"rules":\[\{"notRule":\{"any":true\}\}/, 'another port: nothing');
});

test('request principals: ISS/SUB forms against the issuers the workload verifies', () => {
  const issuers = ['https://a.example.com', 'b'];
  const json = (v: string) => JSON.stringify(toJson(PrincipalSchema, requestPrincipal(v, issuers)));
  assert.match(json('*'), /"key":"https:\/\/a.example.com"},\{"key":"iss"\}\],"value":\{"presentMatch":true/);
  assert.match(json('https://a.example.com/alice'), /"key":"sub"\}\],"value":\{"stringMatch":\{"exact":"alice"\}/);
  assert.doesNotMatch(json('https://a.example.com/alice'), /"key":"b"/, 'only the named issuer');
  assert.match(json('https://a.example.com/*'), /presentMatch/);
  assert.match(json('*/alice'), /"key":"b"\},\{"key":"sub"\}\],"value":\{"stringMatch":\{"exact":"alice"/);
  assert.equal(json('other/alice'), '{"orIds":{}}', 'an issuer no RequestAuthentication verifies matches nothing');
  assert.equal(JSON.stringify(toJson(PrincipalSchema, requestPrincipal('*', []))), '{"orIds":{}}', 'without RequestAuthentication there is no request principal');
});

test('a proxy without a mesh identity keeps plaintext config; STRICT still asks for TLS', () => {
  const se = `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: web }\nspec:\n  hosts: [web.default.svc.cluster.local]\n  ports: [{ number: 80, name: http }]\n  location: MESH_INTERNAL\n  resolution: STATIC\n  endpoints: [{ address: 198.18.0.5, labels: { security.istio.io/tlsMode: istio } }]\n`;
  const plain = identity({ name: 'a', inboundPort: 15006, appPorts: [80] });
  const withId = identity({ name: 'a', inboundPort: 15006, appPorts: [80], labels: { 'security.istio.io/tlsMode': 'istio' } });
  const inbound = (yaml: string, p: typeof plain): Listener => generate(buildMesh(configOf(yaml), [p]), p).listeners.find((l) => l.name === 'virtualInbound')!;
  const chains = (l: Listener) => l.filterChains.map((c) => c.filterChainMatch?.transportProtocol ?? '*');
  assert.deepEqual(chains(inbound(se, plain)), ['*']);
  assert.equal(inbound(se, plain).listenerFilters.length, 0);
  assert.deepEqual(chains(inbound(se, withId)), ['tls', 'raw_buffer']);
  const strict = `${se}---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: s, namespace: istio-system }\nspec: { mtls: { mode: STRICT } }\n`;
  assert.deepEqual(chains(inbound(strict, plain)), ['tls']);
  const cfg = inbound(strict, plain).filterChains[0]!.filters[0]!.configType;
  assert.equal(cfg.case, 'typedConfig');
  const hcm = cfg.case === 'typedConfig' ? anyUnpack(cfg.value, HttpConnectionManagerSchema) : undefined;
  assert.equal(hcm?.forwardClientCertDetails, 2, 'APPEND_FORWARD on the mTLS chain');
  const cluster = (p: typeof plain) => generate(buildMesh(configOf(se), [p]), p).clusters.find((c) => c.name === 'outbound|80||web.default.svc.cluster.local')!;
  assert.equal(cluster(plain).transportSocketMatches.length, 0, 'no client certificate: no auto mTLS');
  assert.deepEqual(cluster(withId).transportSocketMatches.map((m) => m.name), ['tlsMode-istio', 'tlsMode-disabled']);
});

test('shape key: labels read by security selectors and the tlsMode label tell proxies apart; others do not', () => {
  const mesh = buildMesh(configOf(MODES), []);
  const key = (labels: Record<string, string>) => shapeKey(identity({ name: 'x', namespace: 'perm', labels }), mesh);
  assert.notEqual(key({ app: 'web' }), key({ app: 'api' }));
  assert.equal(key({ app: 'api' }), key({ app: 'cart' }), 'a value no selector names');
  assert.equal(key({ team: 'a' }), key({ team: 'b' }), 'a key no selector reads');
  assert.notEqual(key({ 'security.istio.io/tlsMode': 'istio' }), key({}));
});

test('shape key on the security cases: proxies with one key get one output', () => {
  for (const name of SECURITY_CASES) {
    const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, name));
    const out = (p: typeof proxy) => JSON.stringify(resourcesJson(generate(mesh, p)));
    const replica = { ...proxy, id: `${proxy.id}-2`, name: `${proxy.name}-2`, ips: ['127.0.0.99'], serviceAccount: 'other', labels: { ...proxy.labels, 'pod-template-hash': 'abc' } };
    assert.equal(shapeKey(replica, mesh), shapeKey(proxy, mesh), name);
    assert.equal(out(replica), out(proxy), `${name}: same key, same output`);
    const { 'security.istio.io/tlsMode': _, ...noIdentity } = proxy.labels;
    const other = { ...proxy, labels: proxy.labels[TLS] ? noIdentity : { ...noIdentity, [TLS]: 'istio' } };
    assert.notEqual(shapeKey(other, mesh), shapeKey(proxy, mesh), `${name}: the tlsMode label is part of the key`);
  }
});

const TLS = 'security.istio.io/tlsMode';
