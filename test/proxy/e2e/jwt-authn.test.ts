import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type net from 'node:net';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { statValue } from '../../support/stats.js';
import { jwksOf, nowS, signJwt, testKey } from '../../support/jwt.js';

// envoy.filters.http.jwt_authn in a real proxy: remote JWKS fetched through a cluster from a
// server on loopback, and RBAC on the verified claims.
const JWT_AUTHN = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
const HTTP_RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
const ISS = 'https://auth.example.test';
const key = testKey('ES256', 'k1');
const rsKey = testKey('RS256', 'k2');

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

const address = (port: number | string) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
const cluster = (name: string, port: number) => ({
  name, type: 'STATIC', connect_timeout: '1s',
  load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: address(port) } }] }] },
});

/** A JWKS server on loopback; with `hold`, every answer waits until release() is called. */
async function jwksServer(body: string, hold = false): Promise<{ port: number; paths: string[]; release(): void; hold(): void; close(): Promise<void> }> {
  const paths: string[] = [];
  const waiting: (() => void)[] = [];
  let released = !hold;
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    const answer = () => { res.setHeader('content-type', 'application/json'); res.end(body); };
    if (released) answer(); else waiting.push(answer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const s = {
    port: (server.address() as net.AddressInfo).port,
    paths,
    release() { released = true; for (const w of waiting.splice(0)) w(); },
    hold() { released = false; },
    close: () => { server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())); },
  };
  cleanup.push(() => s.close());
  return s;
}

function bootstrap(port: number, appPort: number, jwksPort: number, filters: object[], routes?: object[], extraClusters: object[] = []): string {
  const b = {
    admin: { address: address('ADMIN_PORT') },
    static_resources: {
      listeners: [{ name: 'in', address: address(port), filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
        '@type': HCM, stat_prefix: 'in',
        route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: routes ?? [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }] },
        http_filters: [...filters, ROUTER],
      } }] }] }],
      clusters: [cluster('app', appPort), cluster('jwks', jwksPort), ...extraClusters],
    },
  };
  return JSON.stringify(b).replace('"ADMIN_PORT"', 'ADMIN_PORT');
}

const jwtFilter = (extra: object = {}) => ({ name: 'envoy.filters.http.jwt_authn', typed_config: {
  '@type': JWT_AUTHN,
  providers: { auth: {
    issuer: ISS, audiences: ['bookinfo'], payload_in_metadata: ISS,
    remote_jwks: { http_uri: { uri: 'http://jwks.example.test/.well-known/jwks.json', cluster: 'jwks', timeout: '5s' }, cache_duration: '3600s' },
  } },
  rules: [
    { match: { prefix: '/public' } },
    { match: { prefix: '/' }, requires: { requires_any: { requirements: [{ provider_name: 'auth' }, { allow_missing: {} }] } } },
  ],
  ...extra,
} });

async function started(yaml: string): Promise<RunningProxy> {
  const p = await startProxy(yaml);
  cleanup.push(() => p.stop());
  return p;
}

async function app(): Promise<Upstream> {
  const u = await httpUpstream();
  cleanup.push(() => u.close());
  return u;
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const token = (claims: Record<string, unknown>, k = key) => signJwt(k, { iss: ISS, aud: 'bookinfo', sub: 'alice', exp: nowS() + 3600, ...claims });

test('remote JWKS through a cluster: valid 200; expired, foreign issuer, bad signature 401; wrong audience 403; fetched once', async () => {
  const jwks = await jwksServer(jwksOf(key, rsKey));
  const up = await app();
  const port = await freePort();
  const proxy = await started(bootstrap(port, up.port, jwks.port, [{ name: 'envoy.filters.http.jwt_authn', typed_config: { ...jwtFilter().typed_config, rules: [{ match: { prefix: '/' }, requires: { provider_name: 'auth' } }] } }]));
  const ok = await request(port, { path: '/items', headers: bearer(token({})) });
  assert.equal(ok.status, 200);
  assert.equal(up.seen[0]?.headers.authorization, undefined, 'the verified token is not forwarded (forward: false)');
  assert.equal((await request(port, { path: '/x', headers: bearer(token({}, rsKey)) })).status, 200, 'RS256 key from the same JWKS');
  const rows: [Record<string, string>, number, string][] = [
    [{}, 401, 'Jwt is missing'],
    [bearer(token({ exp: nowS() - 3600 })), 401, 'Jwt is expired'],
    [bearer(token({ iss: 'https://other.example' })), 401, 'Jwt issuer is not configured'],
    [bearer(token({ aud: 'someone-else' })), 403, 'Audiences in Jwt are not allowed'],
    [bearer(signJwt(testKey('ES256', 'k1'), { iss: ISS, aud: 'bookinfo' })), 401, 'Jwt verification fails'],
  ];
  for (const [headers, status, body] of rows) {
    const r = await request(port, { path: '/items?page=2', headers });
    assert.equal(r.status, status, body);
    assert.equal(r.body, body);
    assert.match(String(r.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/items\?page=2"/);
  }
  assert.equal(up.seen.length, 2, 'rejected requests never reach the app');
  assert.deepEqual(jwks.paths, ['/.well-known/jwks.json'], 'one fetch, then the cache');
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'http.in.jwt_authn.allowed'), 2);
  assert.equal(statValue(stats, 'http.in.jwt_authn.denied'), rows.length);
  assert.equal(statValue(stats, 'http.in.jwt_authn.jwks_fetch_success'), 1);
});

test('a request waiting for the JWKS fetch does not hold up other streams', async () => {
  const jwks = await jwksServer(jwksOf(key), true);
  const up = await app();
  const port = await freePort();
  await started(bootstrap(port, up.port, jwks.port, [jwtFilter()]));
  const waiting = request(port, { path: '/needs-keys', headers: bearer(token({})) });
  // The fetch has started once the JWKS server saw it; the request is parked on it.
  for (let i = 0; i < 400 && jwks.paths.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(jwks.paths.length, 1);
  const other = await request(port, { path: '/public/health' });
  assert.equal(other.status, 200, 'a stream without a JWT requirement is served meanwhile');
  const noToken = await request(port, { path: '/no-token' });
  assert.equal(noToken.status, 200, 'allow_missing: a request without a JWT needs no keys');
  assert.deepEqual(up.seen.map((s) => s.url), ['/public/health', '/no-token']);
  jwks.release();
  assert.equal((await waiting).status, 200);
  assert.equal(up.seen.at(-1)?.url, '/needs-keys');
});

test('async_fetch: fetched at start; once cache_duration is over the old keys keep serving while new ones are fetched', async () => {
  const jwks = await jwksServer(jwksOf(key));
  const up = await app();
  const port = await freePort();
  const filter = jwtFilter();
  const remote = (filter.typed_config.providers as Record<string, { remote_jwks: Record<string, unknown> }>).auth!.remote_jwks;
  remote.cache_duration = '0.2s';
  remote.async_fetch = {};
  await started(bootstrap(port, up.port, jwks.port, [filter]));
  for (let i = 0; i < 400 && jwks.paths.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(jwks.paths.length >= 1, 'fetched when the listener was built, before any request');
  assert.equal((await request(port, { path: '/a', headers: bearer(token({})) })).status, 200);
  const fetched = jwks.paths.length;
  jwks.hold();
  await new Promise((r) => setTimeout(r, 300)); // past cache_duration: the next request must not wait for the JWKS server
  assert.equal((await request(port, { path: '/b', headers: bearer(token({})) })).status, 200, 'served with the expired keys');
  for (let i = 0; i < 400 && jwks.paths.length === fetched; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(jwks.paths.length > fetched, 'and a refresh was started');
  jwks.release();
});

test('a JWKS fetch that fails answers 401 with the reason; the proxy keeps serving', async () => {
  const closedPort = await freePort();
  const up = await app();
  const port = await freePort();
  const proxy = await started(bootstrap(port, up.port, closedPort, [jwtFilter()]));
  for (let i = 0; i < 2; i++) {
    const r = await request(port, { path: '/items', headers: bearer(token({})) });
    assert.equal(r.status, 401);
    assert.equal(r.body, 'Jwks remote fetch is failed');
  }
  assert.equal((await request(port, { path: '/public/x' })).status, 200);
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'http.in.jwt_authn.jwks_fetch_failed'), 2, 'each request tries again');
});

test('RBAC on claims from jwt_authn metadata: request principal and a list claim decide', async () => {
  const jwks = await jwksServer(jwksOf(key));
  const up = await app();
  const port = await freePort();
  const md = (claim: string, value: object) => ({ metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: ISS }, { key: claim }], value } });
  const rbac = { name: 'envoy.filters.http.rbac', typed_config: { '@type': HTTP_RBAC, rules: { action: 'ALLOW', policies: {
    'users-read': {
      permissions: [{ header: { name: ':method', string_match: { exact: 'GET' } } }],
      principals: [{ and_ids: { ids: [md('iss', { string_match: { exact: ISS } }), md('sub', { present_match: true })] } }],
    },
    admins: {
      permissions: [{ url_path: { path: { prefix: '/admin' } } }],
      principals: [md('groups', { list_match: { one_of: { string_match: { exact: 'admins' } } } })],
    },
  } } } };
  await started(bootstrap(port, up.port, jwks.port, [jwtFilter(), rbac]));
  const alice = token({ sub: 'alice', groups: ['dev'] });
  const root = token({ sub: 'root', groups: ['admins', 'dev'] });
  const rows: [string, string, Record<string, string>, number][] = [
    ['GET', '/items', bearer(alice), 200],
    ['POST', '/items', bearer(alice), 403],
    ['GET', '/admin/users', bearer(alice), 200],
    ['POST', '/admin/users', bearer(alice), 403],
    ['POST', '/admin/users', bearer(root), 200],
    ['GET', '/items', {}, 403],
    ['GET', '/items', bearer(token({ exp: 1 })), 401],
  ];
  for (const [method, path, headers, status] of rows) {
    const r = await request(port, { method, path, headers });
    assert.equal(r.status, status, `${method} ${path} ${headers.authorization ? JSON.parse(Buffer.from(headers.authorization.split('.')[1]!, 'base64url').toString()).sub : '(no token)'}`);
    if (status === 403) assert.equal(r.body, 'RBAC: access denied');
  }
});

test('claim_to_headers with clear_route_cache: the route is chosen on the verified claim, never on a header the client sent', async () => {
  const jwks = await jwksServer(jwksOf(key));
  const basic = await app();
  const gold = await app();
  const port = await freePort();
  const filter = jwtFilter();
  const auth = (filter.typed_config.providers as Record<string, Record<string, unknown>>).auth!;
  auth.claim_to_headers = [{ header_name: 'x-tier', claim_name: 'tier' }];
  auth.clear_route_cache = true;
  const routes = [
    { match: { prefix: '/', headers: [{ name: 'x-tier', string_match: { exact: 'gold' } }] }, route: { cluster: 'gold' } },
    { match: { prefix: '/' }, route: { cluster: 'app' } },
  ];
  await started(bootstrap(port, basic.port, jwks.port, [filter], routes, [cluster('gold', gold.port)]));
  assert.equal((await request(port, { path: '/a', headers: bearer(token({ tier: 'gold' })) })).status, 200);
  assert.equal((await request(port, { path: '/b', headers: { ...bearer(token({ tier: 'basic' })), 'x-tier': 'gold' } })).status, 200);
  assert.equal((await request(port, { path: '/c' })).status, 200);
  assert.deepEqual(gold.seen.map((s) => [s.url, s.headers['x-tier']]), [['/a', 'gold']]);
  assert.deepEqual(basic.seen.map((s) => [s.url, s.headers['x-tier']]), [['/b', 'basic'], ['/c', undefined]]);
});

test('a bad jwt_authn config is refused at start-up with its field path', async () => {
  const { runCli, writeTemp } = await import('../../support/proxy.js');
  const port = await freePort();
  const text = bootstrap(port, 1, 1, [jwtFilter({ rules: [{ match: { prefix: '/' }, requires: { provider_name: 'nobody' } }] })]).replace('ADMIN_PORT', '0');
  const r = await runCli(['proxy', '-c', writeTemp('bad.json', text), '--concurrency', '1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /http_filters\[0\]\.typed_config\.rules\[0\]\.requires\.provider_name: Required provider \['nobody'\] is not configured/);
});
