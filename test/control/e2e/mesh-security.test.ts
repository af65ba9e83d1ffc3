import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { REVIEWS_SERVICE_ENTRY, REVIEWS_URL, keepAliveAgent, startMesh, until, viaProxy, type Mesh } from '../../support/running-mesh.js';
import { jwksOf, nowS, signJwt, testKey } from '../../support/jwt.js';

/*
 * Zero trust end to end: `tsmesh control` with its CA on the TLS port, sidecars that join with
 * join tokens (so each has a SPIFFE certificate from the mesh CA), and one legacy sidecar without
 * a certificate. Everything the user sees: the app receives the caller's SPIFFE ID in
 * x-forwarded-client-cert (the hop was mutual TLS), PERMISSIVE serves the legacy caller,
 * STRICT refuses it, AuthorizationPolicy ALLOW/DENY decide per principal, path and method, and
 * a RequestAuthentication with a JWT rule answers 401 to a bad token.
 */
const ISSUER = 'https://idp.test';
const key = testKey('ES256', 'k1');
let mesh: Mesh;

before(async () => {
  mesh = await startMesh({
    secure: true,
    configFiles: { 'services.yaml': REVIEWS_SERVICE_ENTRY },
    workloads: [
      { name: 'productpage-v1', labels: { app: 'productpage', version: 'v1' }, noApp: true },
      { name: 'legacy', labels: { app: 'legacy' }, noApp: true, noJoin: true },
      { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } },
    ],
  });
  await mesh.waitSynced(['productpage-v1', 'legacy', 'reviews-v1']);
});
after(() => mesh?.close());

const port = (name: string): number => mesh.workloads.get(name)!.outboundPort;
const call = (from: string, path = '/', headers: Record<string, string> = {}, method = 'GET') => viaProxy(port(from), `${REVIEWS_URL}${path}`, { headers, method });

test('between sidecars with certificates the hop is mutual TLS: the app sees the caller\'s SPIFFE ID', async () => {
  const r = await until(async () => { const x = await call('productpage-v1'); return x.status === 200 ? x : undefined; }, 30_000, () => 'productpage never reached reviews');
  assert.match(r.json?.xfcc ?? '', /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/productpage/);
  assert.match(r.json?.xfcc ?? '', /By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews/);
});

test('PERMISSIVE (the default) also serves a caller without a certificate, in plaintext', async () => {
  const r = await call('legacy');
  assert.equal(r.status, 200);
  assert.equal(r.json?.xfcc, undefined, 'a plaintext hop has no client certificate to forward');
});

test('STRICT refuses plaintext and keeps serving mutual TLS; back to PERMISSIVE serves both again', async () => {
  await mesh.apply(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: default }
spec: { mtls: { mode: STRICT } }
`);
  await until(async () => ((await call('legacy')).status !== 200 ? true : undefined), 30_000, () => 'legacy still served under STRICT');
  assert.notEqual((await call('legacy')).status, 200);
  assert.equal((await call('productpage-v1')).status, 200);
  await mesh.apply(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: default }
spec: { mtls: { mode: PERMISSIVE } }
`);
  await until(async () => ((await call('legacy')).status === 200 ? true : undefined), 30_000, () => 'legacy not served again after PERMISSIVE');
});

test('AuthorizationPolicy: ALLOW admits only what it names, DENY wins over ALLOW', async () => {
  await mesh.apply(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews-allow, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: [cluster.local/ns/default/sa/productpage] } }]
    to: [{ operation: { methods: [GET, DELETE], paths: [/reviews/*] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews-deny, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  action: DENY
  rules: [{ to: [{ operation: { methods: [DELETE] } }] }]
`);
  await until(async () => ((await call('productpage-v1', '/other')).status === 403 ? true : undefined), 30_000, () => 'ALLOW policy not enforced');
  const denied = await call('productpage-v1', '/other');
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'RBAC: access denied');
  assert.equal((await call('productpage-v1', '/reviews/1')).status, 200);
  assert.equal((await call('productpage-v1', '/reviews/1', {}, 'DELETE')).status, 403, 'DENY is evaluated before ALLOW');
  assert.equal((await call('legacy', '/reviews/1')).status, 403, 'no certificate, no principal: not the allowed caller');
});

test('RequestAuthentication: a bad JWT is 401; requestPrincipals admit only a valid one', async () => {
  await mesh.apply(`apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: reviews-jwt, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  jwtRules: [{ issuer: "${ISSUER}", jwks: '${jwksOf(key)}' }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews-allow, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules: [{ from: [{ source: { requestPrincipals: ["${ISSUER}/alice"] } }] }]
`);
  const good = signJwt(key, { iss: ISSUER, sub: 'alice', exp: nowS() + 600 });
  const other = signJwt(key, { iss: ISSUER, sub: 'bob', exp: nowS() + 600 });
  const expired = signJwt(key, { iss: ISSUER, sub: 'alice', exp: nowS() - 600 });
  await until(async () => ((await call('productpage-v1', '/reviews/1', { authorization: `Bearer ${expired}` })).status === 401 ? true : undefined), 30_000, () => 'jwt_authn not enforced');
  assert.equal((await call('productpage-v1', '/reviews/1', { authorization: `Bearer ${good}` })).status, 200);
  assert.equal((await call('productpage-v1', '/reviews/1', { authorization: `Bearer ${other}` })).status, 403);
  assert.equal((await call('productpage-v1', '/reviews/1')).status, 403, 'no token: authentication passes, the policy denies');
  assert.equal((await call('productpage-v1', '/reviews/1', { authorization: 'Bearer not.a.jwt' })).status, 401);
  for (const [kind, name] of [['AuthorizationPolicy', 'reviews-allow'], ['AuthorizationPolicy', 'reviews-deny'], ['RequestAuthentication', 'reviews-jwt']]) {
    assert.equal((await fetch(`${mesh.url}/api/v1/resources/${kind}/default/${name}`, { method: 'DELETE' })).status, 200);
  }
});

test('workload certificates rotate under continuous load with zero failed requests', { timeout: 120_000 }, async () => {
  const client = await mesh.addWorkload({ name: 'rotating-client', labels: { app: 'ratings' }, noApp: true, certTtl: '6s' });
  await mesh.waitSynced(['rotating-client']);
  const agent = keepAliveAgent(4);
  await until(async () => ((await viaProxy(client.outboundPort, `${REVIEWS_URL}/`, { agent })).status === 200 ? true : undefined), 30_000, () => 'rotating client never reached reviews');
  const certs = new Set<string>();
  // Load for at least 15 s (two and a half lifetimes) and until a renewed certificate was
  // presented, at most 60 s. The keep-alive upstream connections are not reused past the expiry
  // of the certificate they were opened with, so a renewal reaches reviews within a lifetime.
  const started = Date.now();
  const done = (): boolean => Date.now() - started > 60_000 || (Date.now() - started > 15_000 && certs.size >= 2);
  let ok = 0;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    while (!done()) {
      const r = await viaProxy(client.outboundPort, `${REVIEWS_URL}/`, { agent });
      if (r.status === 200) { ok++; const m = /Hash=([0-9a-f]+)/.exec(r.json?.xfcc ?? ''); if (m) certs.add(m[1]!); } else failures.push(`${r.status} ${r.body.slice(0, 80)}`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.deepEqual(failures, []);
  const seconds = Math.round((Date.now() - started) / 1000);
  assert.ok(ok > 50, `only ${ok} requests in ${seconds} s`);
  assert.ok(certs.size >= 2, `the client presented ${certs.size} distinct certificate(s) in ${seconds} s with a 6 s lifetime`);
});
