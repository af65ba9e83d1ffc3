import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { freePort, httpUpstream, rawExchange, request, type Upstream } from '../../support/net.js';
import { startProxy, staticCluster, type RunningProxy } from '../../support/proxy.js';

// HTTP proxy mode: clients that speak absolute-form (HTTP_PROXY=http://proxy) are routed by the
// URI's authority, and the upstream sees an ordinary origin-form request. Real sockets, a real
// node:http upstream per service and curl as an unmodified client.
let proxy: RunningProxy;
let port: number;
let stripAnyPort: number;
let stripMatchingPort: number;
let reviews: Upstream;
let ratings: Upstream;
let fallback: Upstream;

const REVIEWS = 'reviews.default.svc.cluster.local:9080';

const hcm = (statPrefix: string, extra: string, vhosts: string): string => `
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${statPrefix}
          ${extra}
          route_config:
            name: ${statPrefix}
            virtual_hosts:${vhosts}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;

const vhost = (name: string, domains: string[], cluster: string): string => `
            - name: ${name}
              domains: ${JSON.stringify(domains)}
              routes: [ { match: { prefix: "/" }, route: { cluster: ${cluster} } } ]`;

before(async () => {
  reviews = await httpUpstream((req, res) => res.end(`reviews ${req.url}`));
  ratings = await httpUpstream((req, res) => res.end(`ratings ${req.url}`));
  fallback = await httpUpstream((req, res) => res.end(`fallback ${req.url}`));
  [port, stripAnyPort, stripMatchingPort] = [await freePort(), await freePort(), await freePort()];
  proxy = await startProxy(`
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } }
static_resources:
  listeners:
  - name: outbound
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }${hcm('outbound', '', vhost('reviews', [REVIEWS, 'reviews:9080', 'reviews.default:9080'], 'reviews') + vhost('ratings', ['ratings:9080'], 'ratings'))}
  - name: strip_any
    address: { socket_address: { address: 127.0.0.1, port_value: ${stripAnyPort} } }${hcm('strip_any', 'strip_any_host_port: true', vhost('reviews', ['reviews'], 'reviews'))}
  - name: strip_matching
    address: { socket_address: { address: 127.0.0.1, port_value: ${stripMatchingPort} } }${hcm('strip_matching', 'strip_matching_host_port: true', vhost('ratings', ['ratings'], 'ratings') + vhost('other', ['*'], 'fallback'))}
  clusters:${staticCluster('reviews', [reviews.port])}${staticCluster('ratings', [ratings.port])}${staticCluster('fallback', [fallback.port])}
`);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([reviews?.close(), ratings?.close(), fallback?.close()]);
});

test('an absolute-form request is routed by the URI authority and forwarded in origin-form', async () => {
  const r = await request(port, { path: `http://${REVIEWS}/p?q=1`, headers: { host: 'ignored.example:1' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'reviews /p?q=1');
  const seen = reviews.seen.at(-1)!;
  assert.equal(seen.url, '/p?q=1');
  assert.equal(seen.headers.host, REVIEWS, 'Host is the authority of the target (RFC 9112 §3.2.2)');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  const r2 = await request(port, { path: 'http://ratings:9080', headers: { host: 'ratings:9080' } });
  assert.equal(r2.body, 'ratings /', 'an empty path is /');
});

test('curl with HTTP_PROXY reaches the service by name (an unmodified client in the mesh)', async () => {
  const out = await new Promise<string>((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '10', `http://${REVIEWS}/via-curl?x=y`], { env: { ...process.env, http_proxy: `http://127.0.0.1:${port}`, HTTP_PROXY: `http://127.0.0.1:${port}`, no_proxy: '', NO_PROXY: '' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)));
  });
  assert.equal(out, 'reviews /via-curl?x=y');
  assert.equal(reviews.seen.at(-1)!.headers['proxy-connection'], undefined, 'hop-by-hop Proxy-Connection is not forwarded');
});

test('a vhost domain with a port matches only that host:port (no implicit port stripping)', async () => {
  assert.equal((await request(port, { path: 'http://reviews:9080/' })).status, 200);
  assert.equal((await request(port, { path: 'http://reviews/' })).status, 404, 'Host "reviews" does not match domain "reviews:9080"');
  assert.equal((await request(port, { path: 'http://reviews:9081/' })).status, 404);
});

test('https:// targets, CONNECT and malformed absolute URIs are refused and never forwarded', async () => {
  const before = reviews.seen.length + ratings.seen.length;
  const cases: [string, RegExp, RegExp][] = [
    [`GET https://${REVIEWS}/ HTTP/1.1\r\nHost: ${REVIEWS}\r\n\r\n`, /^HTTP\/1\.1 400 /, /https:\/\/ targets are not supported/],
    [`CONNECT ${REVIEWS} HTTP/1.1\r\nHost: ${REVIEWS}\r\n\r\n`, /^HTTP\/1\.1 405 /, /CONNECT is not supported/],
    [`GET http://user@${REVIEWS}/ HTTP/1.1\r\nHost: ${REVIEWS}\r\n\r\n`, /^HTTP\/1\.1 400 /, /userinfo/],
    [`GET http:///p HTTP/1.1\r\nHost: ${REVIEWS}\r\n\r\n`, /^HTTP\/1\.1 400 /, /authority is empty/],
    [`GET http://reviews:9080:1/ HTTP/1.1\r\nHost: ${REVIEWS}\r\n\r\n`, /^HTTP\/1\.1 400 /, /bad /],
    [`GET ${REVIEWS}/p HTTP/1.1\r\nHost: ${REVIEWS}\r\n\r\n`, /^HTTP\/1\.1 400 /, /invalid request-target/],
    [`POST http://reviews:9080/#x HTTP/1.1\r\nHost: ${REVIEWS}\r\nContent-Length: 3\r\n\r\nabc`, /^HTTP\/1\.1 400 /, /fragment/],
  ];
  for (const [raw, status, reason] of cases) {
    const r = await rawExchange(port, raw, 3000);
    assert.match(r.text, status, raw);
    assert.match(r.text, reason, raw);
    assert.ok(r.closed, `connection closed after ${JSON.stringify(raw)}`);
  }
  // A pipelined request behind a refused one is not served either.
  const p = await rawExchange(port, `GET https://x/ HTTP/1.1\r\nHost: x\r\n\r\nGET http://reviews:9080/smuggled HTTP/1.1\r\nHost: x\r\n\r\n`, 3000);
  assert.equal(p.text.match(/HTTP\/1\.1 /g)?.length, 1);
  assert.equal(reviews.seen.length + ratings.seen.length, before, 'nothing reached an upstream');
});

test('strip_any_host_port: "reviews:9080" matches domain "reviews" and goes upstream without the port', async () => {
  const r = await request(stripAnyPort, { path: 'http://reviews:9080/s' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'reviews /s');
  assert.equal(reviews.seen.at(-1)!.headers.host, 'reviews');
});

test('strip_matching_host_port: only the port the connection arrived on is stripped', async () => {
  const same = await request(stripMatchingPort, { path: '/m', headers: { host: `ratings:${stripMatchingPort}` } });
  assert.equal(same.body, 'ratings /m');
  assert.equal(ratings.seen.at(-1)!.headers.host, 'ratings');
  const other = await request(stripMatchingPort, { path: '/m', headers: { host: 'ratings:9080' } });
  assert.equal(other.body, 'fallback /m', 'ratings:9080 keeps its port, so only "*" matches');
  assert.equal(fallback.seen.at(-1)!.headers.host, 'ratings:9080');
});
