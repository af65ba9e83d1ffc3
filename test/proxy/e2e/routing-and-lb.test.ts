import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, request } from '../../support/net.js';
import { startProxy, httpListenerHead, ROUTER_FILTER, type RunningProxy } from '../../support/proxy.js';

// Routes, rewrites, redirects, header mutations and load balancing, end to end.
let proxy: RunningProxy;
let port: number;
const servers: http.Server[] = [];
const ports: number[] = [];

async function named(name: string): Promise<number> {
  const s = http.createServer((req, res) => {
    res.setHeader('x-served-by', name);
    res.end(JSON.stringify({ name, url: req.url, host: req.headers.host, added: req.headers['x-added'] ?? null, removed: req.headers['x-secret'] ?? null }));
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return (s.address() as net.AddressInfo).port;
}

const ep = (p: number, w = 1) => `{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }, load_balancing_weight: ${w} }`;

before(async () => {
  for (const n of ['a', 'b', 'c', 'd']) ports.push(await named(n));
  port = await freePort();
  const [a, b, c, d] = ports as [number, number, number, number];
  proxy = await startProxy(`${httpListenerHead(port)}
          route_config:
            name: local
            request_headers_to_add: [ { header: { key: x-added, value: global } } ]
            response_headers_to_add: [ { header: { key: x-proxy, value: tsmesh } } ]
            virtual_hosts:
            - name: api
              domains: ["api.example.com", "api.example.com:*"]
              request_headers_to_remove: [ x-secret ]
              routes:
              - match: { prefix: "/v1/" }
                route: { cluster: one, prefix_rewrite: "/internal/" }
              - match: { safe_regex: { regex: "/users/([0-9]+)/profile" } }
                route: { cluster: one, regex_rewrite: { pattern: { regex: "^/users/([0-9]+)/profile$" }, substitution: "/profile?id=\\\\1" } }
              - match: { path: "/old" }
                redirect: { path_redirect: "/new", response_code: PERMANENT_REDIRECT }
              - match: { prefix: "/" }
                route: { cluster: one, host_rewrite_literal: rewritten.internal }
            - name: weighted
              domains: ["weighted.test"]
              routes:
              - match: { prefix: "/" }
                route:
                  weighted_clusters:
                    clusters: [ { name: one, weight: 20 }, { name: three, weight: 80 } ]
            - name: hashing
              domains: ["hash.test"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: ring
                  hash_policy: [ { header: { header_name: x-user } } ]
            - name: maglev
              domains: ["maglev.test"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: maglev
                  hash_policy: [ { query_parameter: { name: user } } ]
            - name: sticky
              domains: ["sticky.test"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: ring
                  hash_policy: [ { cookie: { name: session, ttl: 3600s, path: "/" } } ]
            - name: logical
              domains: ["logical.test"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: logical }
            - name: empty
              domains: ["empty.test"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: empty }
            - name: fallback
              domains: ["*"]
              routes:
              - match: { prefix: "/", headers: [ { name: x-version, string_match: { exact: v3 } } ] }
                route: { cluster: three }
              - match: { prefix: "/", query_parameters: [ { name: debug, present_match: true } ] }
                direct_response: { status: 418, body: { inline_string: "debug mode" } }
              - match: { prefix: "/rr" }
                route: { cluster: rr }
              - match: { prefix: "/" }
                route: { cluster: one }
${ROUTER_FILTER}
  clusters:
  - name: one
    type: STATIC
    load_assignment: { cluster_name: one, endpoints: [ { lb_endpoints: [ ${ep(a)} ] } ] }
  - name: three
    type: STATIC
    load_assignment: { cluster_name: three, endpoints: [ { lb_endpoints: [ ${ep(c)} ] } ] }
  - name: rr
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment: { cluster_name: rr, endpoints: [ { lb_endpoints: [ ${ep(a, 1)}, ${ep(b, 3)} ] } ] }
  - name: ring
    type: STATIC
    lb_policy: RING_HASH
    load_assignment: { cluster_name: ring, endpoints: [ { lb_endpoints: [ ${ep(a)}, ${ep(b)}, ${ep(c)}, ${ep(d)} ] } ] }
  - name: logical
    type: LOGICAL_DNS
    dns_lookup_family: V4_ONLY
    load_assignment: { cluster_name: logical, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: localhost, port_value: ${d} } } } } ] } ] }
  - name: empty
    type: STATIC
    load_assignment: { cluster_name: empty }
  - name: maglev
    type: STRICT_DNS
    lb_policy: MAGLEV
    load_assignment: { cluster_name: maglev, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: localhost, port_value: ${a} } } } }, { endpoint: { address: { socket_address: { address: localhost, port_value: ${b} } } } } ] } ] }
`);
});

after(async () => {
  await proxy.stop();
  for (const s of servers) { s.closeAllConnections(); s.close(); }
});

const body = async (path: string, headers: Record<string, string> = {}) => JSON.parse((await request(port, { path, headers })).body) as { name: string; url: string; host: string; added: string | null; removed: string | null };

test('virtual host by domain (with port), prefix rewrite, global header add, vhost header remove', async () => {
  const r = await body('/v1/items?x=1', { host: `api.example.com:${port}`, 'x-secret': 's' });
  assert.deepEqual(r, { name: 'a', url: '/internal/items?x=1', host: `api.example.com:${port}`, added: 'global', removed: null });
});

test('regex rewrite with a capture group', async () => {
  const r = await body('/users/42/profile', { host: 'api.example.com' });
  assert.equal(r.url, '/profile?id=42');
});

test('host_rewrite_literal', async () => {
  const r = await body('/anything', { host: 'api.example.com' });
  assert.equal(r.host, 'rewritten.internal');
});

test('redirect with the configured code; response headers added to local replies too', async () => {
  const r = await request(port, { path: '/old', headers: { host: 'api.example.com' } });
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, 'http://api.example.com/new');
  assert.equal(r.headers['x-proxy'], 'tsmesh');
});

test('header match and query parameter match; direct response', async () => {
  assert.equal((await body('/x', { 'x-version': 'v3' })).name, 'c');
  const r = await request(port, { path: '/x?debug' });
  assert.equal(r.status, 418);
  assert.equal(r.body, 'debug mode');
});

test('weighted clusters split about 20/80', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 400; i++) { const n = (await body('/', { host: 'weighted.test' })).name; counts[n] = (counts[n] ?? 0) + 1; }
  assert.ok(counts.a! > 40 && counts.a! < 130, JSON.stringify(counts));
  assert.equal(counts.a! + counts.c!, 400);
});

test('weighted round robin follows endpoint weights exactly', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 40; i++) { const n = (await body('/rr')).name; counts[n] = (counts[n] ?? 0) + 1; }
  assert.deepEqual(counts, { a: 10, b: 30 });
});

test('ring hash: the same header value always reaches the same host, and values spread', async () => {
  const hostFor = new Map<string, string>();
  for (let i = 0; i < 40; i++) hostFor.set(`user${i}`, (await body('/', { host: 'hash.test', 'x-user': `user${i}` })).name);
  for (let i = 0; i < 40; i++) assert.equal((await body('/', { host: 'hash.test', 'x-user': `user${i}` })).name, hostFor.get(`user${i}`));
  assert.ok(new Set(hostFor.values()).size >= 3, `spread over ${new Set(hostFor.values()).size} hosts`);
});

test('STRICT_DNS cluster (localhost) with Maglev by query parameter', async () => {
  const first = (await body('/?user=alice', { host: 'maglev.test' })).name;
  for (let i = 0; i < 10; i++) assert.equal((await body('/?user=alice', { host: 'maglev.test' })).name, first);
  const clusters = (await proxy.admin('/clusters')).body;
  assert.match(clusters, /^maglev::127\.0\.0\.1:\d+::hostname::localhost$/m);
});

test('cookie hash policy with a ttl sets the cookie, and the cookie keeps the host', async () => {
  const first = await request(port, { path: '/', headers: { host: 'sticky.test' } });
  const setCookie = String(first.headers['set-cookie']);
  assert.match(setCookie, /^session="[0-9a-f]{16}"; Max-Age=3600; Path=\/; HttpOnly$/);
  const cookie = setCookie.split(';')[0]!;
  const host = (JSON.parse(first.body) as { name: string }).name;
  for (let i = 0; i < 10; i++) {
    const r = await request(port, { path: '/', headers: { host: 'sticky.test', cookie } });
    assert.equal((JSON.parse(r.body) as { name: string }).name, host);
    assert.equal(r.headers['set-cookie'], undefined, 'no new cookie once the client has one');
  }
});

test('LOGICAL_DNS cluster resolves and serves', async () => {
  assert.equal((await body('/', { host: 'logical.test' })).name, 'd');
});

test('a cluster without endpoints → 503 no healthy upstream', async () => {
  const r = await request(port, { path: '/', headers: { host: 'empty.test' } });
  assert.equal(r.status, 503);
  assert.equal(r.body, 'no healthy upstream');
});
