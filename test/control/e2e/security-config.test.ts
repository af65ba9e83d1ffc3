import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, type Cluster } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { DiscoveryResponse } from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { TYPE_URL } from '../../../src/control/translate/index.js';
import { startControlProcess, tsmesh, type RunningControl } from '../../support/control.js';
import { freePort } from '../../support/net.js';
import { AdsTestClient, testNode } from '../xds/ads-client.js';

const MESH = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: httpbin, namespace: foo }
spec:
  hosts: [httpbin.foo.svc.cluster.local]
  ports: [{ number: 8000, name: http }]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints: [{ address: 198.18.0.20, serviceAccount: httpbin, labels: { app: httpbin, security.istio.io/tlsMode: istio } }]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: httpbin, namespace: foo }
spec: { selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: httpbin, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  rules: [{ from: [{ source: { principals: [cluster.local/ns/foo/sa/curl] } }], to: [{ operation: { methods: [GET] } }] }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: foo }
spec:
  jwtRules: [{ issuer: https://issuer.example.com, jwksUri: https://issuer.example.com/keys }]
`;

/** The next response of `typeUrl`, ACKed; other types are ACKed and skipped. */
async function nextOf(client: AdsTestClient<import('../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js').DiscoveryRequest, DiscoveryResponse>, typeUrl: string, names: string[] = []): Promise<DiscoveryResponse> {
  for (;;) {
    const res = await client.next(30_000);
    client.send({ typeUrl: res.typeUrl, versionInfo: res.versionInfo, responseNonce: res.nonce, resourceNames: res.typeUrl === typeUrl ? names : [] });
    if (res.typeUrl === typeUrl) return res;
  }
}

const inbound = (res: DiscoveryResponse): Listener => res.resources.map((r) => anyUnpack(r, ListenerSchema)!).find((l) => l.name === 'virtualInbound')!;

test('security kinds through tsmesh control: apply, get, refuse, analyze, and what a sidecar receives, live', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsmesh-e2e-security-'));
  const xdsPort = await freePort();
  const control: RunningControl = await startControlProcess({ dataDir, extra: ['--xds-port', String(xdsPort)] });
  const clients: AdsTestClient<never, never>[] = [];
  t.after(async () => { for (const c of clients) c.close(); await control.stop(); rmSync(dataDir, { recursive: true, force: true }); });
  const c = ['--control', control.url];
  const file = join(dataDir, 'security.yaml');
  writeFileSync(file, MESH);

  const applied = await tsmesh(['apply', '-f', file, ...c]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stdout, ['ServiceEntry foo/httpbin created', 'PeerAuthentication foo/httpbin created', 'AuthorizationPolicy foo/httpbin created', 'RequestAuthentication foo/jwt created', ''].join('\n'));

  const pa = await tsmesh(['get', 'pa', '-n', 'foo', ...c]);
  assert.match(pa.stdout.split('\n')[0]!, /^NAMESPACE\s+NAME\s+MODE\s+SELECTOR\s+AGE$/);
  assert.match(pa.stdout.split('\n')[1]!, /^foo\s+httpbin\s+STRICT\s+app=httpbin\s+\d+s$/);
  const ap = parse((await tsmesh(['get', 'authorizationpolicies', 'httpbin', '-n', 'foo', '-o', 'yaml', ...c])).stdout) as { spec: { rules: unknown[] } };
  assert.equal(ap.spec.rules.length, 1);
  assert.match((await tsmesh(['get', 'requestauthentication', ...c])).stdout, /\["https:\/\/issuer\.example\.com"\]/);

  const bad = await tsmesh(['apply', '-f', '-', ...c], `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ext, namespace: foo }
spec: { action: CUSTOM, rules: [{ when: [{ key: request.time, values: [x] }] }] }
`);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, [
    'invalid configuration, nothing was applied:',
    'AuthorizationPolicy foo/ext: spec.action: CUSTOM is not supported by tsmesh (it needs an external authorization provider); use ALLOW, DENY or AUDIT',
    'AuthorizationPolicy foo/ext: spec.rules[0].when[0].key: unknown key "request.time"; expected request.headers[NAME], request.auth.claims[NAME] or one of source.ip, remote.ip, source.namespace, source.principal, request.auth.principal, request.auth.audiences, request.auth.presenter, destination.ip, destination.port, connection.sni',
    '',
  ].join('\n'));
  assert.equal((await tsmesh(['get', 'ap', 'ext', '-n', 'foo', ...c])).code, 1, 'nothing was stored');

  // The workload's sidecar (no certificate yet: STRICT still means TLS only, with RBAC and JWT).
  const server = AdsTestClient.sotw(xdsPort);
  clients.push(server as never);
  server.send({ node: testNode('httpbin-1', { namespace: 'foo', labels: { app: 'httpbin' }, inboundPort: 15006, appPorts: [8000] }), typeUrl: TYPE_URL.listener });
  let l = inbound(await nextOf(server, TYPE_URL.listener));
  assert.deepEqual(l.listenerFilters.map((f) => f.name), ['envoy.filters.listener.tls_inspector']);
  assert.deepEqual(l.filterChains.map((ch) => ch.filterChainMatch?.transportProtocol), ['tls']);
  const cfg = l.filterChains[0]!.filters[0]!.configType;
  const hcm = cfg.case === 'typedConfig' ? anyUnpack(cfg.value, HttpConnectionManagerSchema) : undefined;
  assert.deepEqual(hcm?.httpFilters.map((f) => f.name), ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac', 'envoy.filters.http.router']);

  // A client sidecar with a mesh identity: auto mTLS to httpbin, verified against httpbin's SPIFFE ID.
  const client = AdsTestClient.sotw(xdsPort);
  clients.push(client as never);
  client.send({ node: testNode('curl-1', { namespace: 'foo', labels: { app: 'curl', 'security.istio.io/tlsMode': 'istio' }, serviceAccount: 'curl' }), typeUrl: TYPE_URL.cluster });
  const clusters = (await nextOf(client, TYPE_URL.cluster)).resources.map((r) => anyUnpack(r, ClusterSchema)!) as Cluster[];
  const httpbin = clusters.find((x) => x.name === 'outbound|8000||httpbin.foo.svc.cluster.local')!;
  assert.deepEqual(httpbin.transportSocketMatches.map((m) => [m.name, m.match]), [['tlsMode-istio', { tlsMode: 'istio' }], ['tlsMode-disabled', {}]]);

  // Deleting the STRICT policy is pushed: PERMISSIVE, and without a certificate plaintext only.
  assert.equal((await tsmesh(['delete', 'pa', 'httpbin', '-n', 'foo', ...c])).stdout, 'PeerAuthentication foo/httpbin deleted\n');
  // Other pushes (curl-1 joining the registry) may come first: wait for the one that changes it.
  do l = inbound(await nextOf(server, TYPE_URL.listener)); while (l.listenerFilters.length > 0);
  assert.deepEqual(l.filterChains.map((ch) => ch.filterChainMatch?.transportProtocol ?? ''), ['']);

  const analysis = await tsmesh(['analyze', ...c]);
  assert.equal(analysis.code, 0, analysis.stdout);
});
