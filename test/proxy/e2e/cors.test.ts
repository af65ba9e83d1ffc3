import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, httpListenerHead, staticCluster, type RunningProxy } from '../../support/proxy.js';
import { statValue } from '../../support/stats.js';

// envoy.filters.http.cors over real sockets, configured as Istio does it: the policy in
// typed_per_filter_config on the virtual host, a route overriding some fields (merged field by
// field, the route's first), preflights answered by the proxy, actual requests decorated.
const POLICY = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';
let proxy: RunningProxy;
let up: Upstream;
let port: number;

before(async () => {
  up = await httpUpstream();
  port = await freePort();
  proxy = await startProxy(`${httpListenerHead(port)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              typed_per_filter_config:
                envoy.filters.http.cors:
                  "@type": ${POLICY}
                  allow_origin_string_match: [ { exact: "https://shop.example" }, { suffix: ".trusted.example" } ]
                  allow_methods: "GET, POST"
                  allow_headers: "content-type, x-user"
                  expose_headers: "x-trace"
                  max_age: "600"
                  allow_credentials: true
              routes:
              - match: { prefix: "/any-method" }
                route: { cluster: app }
                typed_per_filter_config:
                  envoy.filters.http.cors:
                    "@type": ${POLICY}
                    allow_methods: "*"
              - match: { prefix: "/off" }
                route: { cluster: app }
                typed_per_filter_config:
                  envoy.filters.http.cors:
                    "@type": ${POLICY}
                    filter_enabled: { default_value: { numerator: 0 } }
              - match: { prefix: "/" }
                route: { cluster: app }
          http_filters:
          - name: envoy.filters.http.cors
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:${staticCluster('app', [up.port])}
`);
});

after(async () => {
  await proxy?.stop();
  await up?.close();
});

const preflight = (path: string, origin: string, method = 'POST') =>
  request(port, { method: 'OPTIONS', path, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } });

test('a preflight from an allowed origin is answered by the proxy with the policy', async () => {
  const before = up.seen.length;
  const r = await preflight('/items', 'https://shop.example');
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'https://shop.example');
  assert.equal(r.headers['access-control-allow-methods'], 'GET, POST');
  assert.equal(r.headers['access-control-allow-headers'], 'content-type, x-user');
  assert.equal(r.headers['access-control-max-age'], '600');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(up.seen.length, before, 'the preflight never reaches the upstream');
});

test('a route overrides one field and inherits the rest from the virtual host', async () => {
  const r = await preflight('/any-method', 'https://a.trusted.example', 'DELETE');
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'https://a.trusted.example');
  assert.equal(r.headers['access-control-allow-methods'], 'DELETE', '"*" echoes the requested method');
  assert.equal(r.headers['access-control-max-age'], '600');
});

test('an actual request from an allowed origin gets the CORS response headers', async () => {
  const r = await request(port, { path: '/items', headers: { origin: 'https://shop.example' } });
  assert.equal(r.status, 200);
  assert.match(r.body, /hello from upstream GET \/items/);
  assert.equal(r.headers['access-control-allow-origin'], 'https://shop.example');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-expose-headers'], 'x-trace');
});

test('a disallowed origin gets no CORS headers and its preflight goes to the upstream', async () => {
  const r = await request(port, { path: '/items', headers: { origin: 'https://evil.example' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  const before = up.seen.length;
  const p = await preflight('/items', 'https://evil.example');
  assert.equal(p.headers['access-control-allow-origin'], undefined);
  assert.equal(up.seen.length, before + 1, 'forward_not_matching_preflights defaults to true');
  assert.equal(up.seen.at(-1)?.method, 'OPTIONS');
});

test('filter_enabled 0% turns the policy off for its route; stats count origins', async () => {
  const r = await request(port, { path: '/off', headers: { origin: 'https://shop.example' } });
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  const stats = (await proxy.admin('/stats')).body;
  assert.ok(statValue(stats, 'http.ingress.cors.origin_valid') >= 3);
  assert.ok(statValue(stats, 'http.ingress.cors.origin_invalid') >= 2);
});
