import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { freePort, request } from '../../support/net.js';
import { startProxy, httpListenerHead, repoRoot, type RunningProxy } from '../../support/proxy.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { accessLogFile, loggedFlags } from '../../support/access-log.js';
import { statValue, waitForStat } from '../../support/stats.js';

// envoy.filters.http.fault over real sockets: header-controlled faults on every route (100% of
// requests that ask for one), a route with its own HTTPFault, gRPC aborts to a grpc-js client,
// and max_active_faults.
interface Msg { text: string; n: number }
type EchoClient = grpc.Client & { Say(m: Msg, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Msg) => void): void };

let proxy: RunningProxy;
let up: FaultyUpstream;
let server: grpc.Server;
let client: EchoClient;
let port: number;
const log = accessLogFile();
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

before(async () => {
  up = await faultyUpstream({ name: 'app' });
  const def = protoLoader.loadSync(join(repoRoot(), 'test/fixtures/echo.proto'));
  const Echo = (grpc.loadPackageDefinition(def) as unknown as { tsmesh: { test: { Echo: grpc.ServiceClientConstructor } } }).tsmesh.test.Echo;
  server = new grpc.Server();
  server.addService(Echo.service, {
    Say: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(null, { text: `echo ${call.request.text}`, n: 1 }),
    Stream: (call: grpc.ServerWritableStream<Msg, Msg>) => call.end(),
    Fail: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb({ code: grpc.status.INTERNAL }),
  });
  const grpcPort = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  port = await freePort();
  proxy = await startProxy(`${httpListenerHead(port, log.hcmExtra)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/teapot" }
                route: { cluster: app }
                typed_per_filter_config:
                  envoy.filters.http.fault:
                    "@type": ${FAULT}
                    abort: { http_status: 418, percentage: { numerator: 100 } }
              - match: { prefix: "/paced" }
                route: { cluster: app }
                typed_per_filter_config:
                  envoy.filters.http.fault:
                    "@type": ${FAULT}
                    response_rate_limit: { fixed_limit: { limit_kbps: 16 }, percentage: { numerator: 100 } }
              - match: { prefix: "/tsmesh.test.Echo/" }
                route: { cluster: grpc }
              - match: { prefix: "/" }
                route: { cluster: app }
          http_filters:
          - name: envoy.filters.http.fault
            typed_config:
              "@type": ${FAULT}
              delay: { header_delay: {}, percentage: { numerator: 100 } }
              abort: { header_abort: {}, percentage: { numerator: 100 } }
              response_rate_limit: { header_limit: {}, percentage: { numerator: 100 } }
              max_active_faults: 1
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: app
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: app
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${up.port} } } } } ] } ]
  - name: grpc
    connect_timeout: 1s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: grpc
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${grpcPort} } } } } ] } ]
`);
  client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
});

after(async () => {
  client?.close();
  server?.forceShutdown();
  await proxy?.stop();
  await up?.close();
});

test('x-envoy-fault-abort-request aborts with that status before the upstream; flag FI', async () => {
  const seen = up.seen.length;
  const r = await request(port, { path: '/abort-me', headers: { 'x-envoy-fault-abort-request': '503' } });
  assert.equal(r.status, 503);
  assert.equal(r.body, 'fault filter abort');
  assert.equal(up.seen.length, seen, 'the upstream never saw it');
  assert.equal(await loggedFlags(log.path, '/abort-me'), 'FI');
  const ok = await request(port, { path: '/no-fault' });
  assert.equal(ok.status, 200);
  assert.equal(await loggedFlags(log.path, '/no-fault'), '-');
  const bad = await request(port, { path: '/bad-code', headers: { 'x-envoy-fault-abort-request': '700' } });
  assert.equal(bad.status, 200, 'a status outside 200-599 is no abort');
});

test('x-envoy-fault-delay-request delays, then the request goes upstream; flag DI', async () => {
  const r = await request(port, { path: '/delay-me', headers: { 'x-envoy-fault-delay-request': '100' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-upstream'], 'app');
  assert.equal(await loggedFlags(log.path, '/delay-me'), 'DI');
  const both = await request(port, { path: '/delay-abort', headers: { 'x-envoy-fault-delay-request': '50', 'x-envoy-fault-abort-request': '429' } });
  assert.equal(both.status, 429);
  assert.equal(await loggedFlags(log.path, '/delay-abort'), 'DI,FI');
});

test("a route's typed_per_filter_config replaces the filter's faults on that route", async () => {
  const r = await request(port, { path: '/teapot' });
  assert.equal(r.status, 418);
  assert.equal(await loggedFlags(log.path, '/teapot'), 'FI');
  const ignored = await request(port, { path: '/teapot', headers: { 'x-envoy-fault-abort-request': '503' } });
  assert.equal(ignored.status, 418, 'the route has no header abort');
});

test('a gRPC abort reaches a grpc-js client as its status', async () => {
  const md = new grpc.Metadata();
  md.set('x-envoy-fault-abort-grpc-request', '14');
  const err = await new Promise<grpc.ServiceError>((resolve, reject) => client.Say({ text: 'hi', n: 1 }, md, (e) => (e ? resolve(e) : reject(new Error('expected an error')))));
  assert.equal(err.code, grpc.status.UNAVAILABLE);
  assert.equal(err.details, 'fault filter abort');
  const ok = await new Promise<Msg>((resolve, reject) => client.Say({ text: 'hi', n: 1 }, new grpc.Metadata(), (e, m) => (e ? reject(e) : resolve(m!))));
  assert.equal(ok.text, 'echo hi');
});

test('max_active_faults: while one request is held by a delay, another gets no fault (faults_overflow)', async () => {
  const before = statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.faults_overflow');
  const held = http.request({ host: '127.0.0.1', port, path: '/held', agent: false, headers: { 'x-envoy-fault-delay-request': '60000' } });
  held.on('error', () => { /* destroyed below */ });
  held.end();
  assert.equal(await waitForStat(proxy.admin, 'http.ingress.fault.active_faults', 1), 1);
  const r = await request(port, { path: '/overflow', headers: { 'x-envoy-fault-abort-request': '503' } });
  assert.equal(r.status, 200, 'not aborted: the one allowed fault is active');
  assert.equal(statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.faults_overflow'), before + 1);
  held.destroy();
  assert.equal(await waitForStat(proxy.admin, 'http.ingress.fault.active_faults', 0), 0, 'the held request released its fault when it went away');
});

const BODY = Array.from({ length: 64 }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(1024)).join('');

test('response_rate_limit (fixed 16 KiB/s, HTTP/1.1): a 64 KiB body arrives whole, paced over about 4 s', async (t) => {
  const before = statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.response_rl_injected');
  up.script({ kind: 'ok', body: BODY });
  const start = performance.now();
  const r = await request(port, { path: '/paced' });
  const ms = performance.now() - start;
  t.diagnostic(`64 KiB at 16 KiB/s over HTTP/1.1 took ${Math.round(ms)} ms`);
  assert.equal(r.status, 200);
  assert.equal(r.body, BODY);
  // A lower bound only (a loaded machine can only make it slower): all but the first fill
  // interval's worth (0.8 KiB) goes at 16 KiB/s.
  assert.ok(ms >= 3000, `took ${Math.round(ms)} ms`);
  assert.equal(statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.response_rl_injected'), before + 1);
  assert.equal(await waitForStat(proxy.admin, 'http.ingress.fault.active_faults', 0), 0, 'the fault ended with the response');
});

test('response_rate_limit from x-envoy-fault-throughput-response (HTTP/2): paced the same way', async (t) => {
  up.script({ kind: 'ok', body: BODY });
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const start = performance.now();
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const s = client.request({ ':path': '/h2-paced', 'x-envoy-fault-throughput-response': '16' });
      let status = 0, body = '';
      s.setEncoding('utf8');
      s.on('response', (h) => { status = Number(h[':status']); });
      s.on('data', (d: string) => { body += d; });
      s.on('end', () => resolve({ status, body }));
      s.on('error', reject);
      s.end();
    });
    const ms = performance.now() - start;
    t.diagnostic(`64 KiB at 16 KiB/s over HTTP/2 took ${Math.round(ms)} ms`);
    assert.equal(status, 200);
    assert.equal(body, BODY);
    assert.ok(ms >= 3000, `took ${Math.round(ms)} ms`);
  } finally {
    client.close();
  }
  const injected = statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.response_rl_injected');
  up.script({ kind: 'ok', body: BODY });
  assert.equal((await request(port, { path: '/not-paced' })).body, BODY);
  assert.equal(statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.response_rl_injected'), injected, 'without the header, no rate limit');
});

test('a paced gRPC answer keeps its trailers (grpc-status) after the body', async () => {
  const md = new grpc.Metadata();
  md.set('x-envoy-fault-throughput-response', '1');
  const before = statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.response_rl_injected');
  const ok = await new Promise<Msg>((resolve, reject) => client.Say({ text: 'slowly', n: 1 }, md, (e, m) => (e ? reject(e) : resolve(m!))));
  assert.equal(ok.text, 'echo slowly');
  assert.equal(statValue((await proxy.admin('/stats')).body, 'http.ingress.fault.response_rl_injected'), before + 1);
});

test('a client that goes away during a paced response ends the fault (and the pacing)', async () => {
  up.script({ kind: 'ok', body: BODY });
  const got = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/paced/abandoned', agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; if (n >= 1024) { req.destroy(); resolve(n); } });
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end();
  });
  assert.ok(got < BODY.length);
  assert.equal(await waitForStat(proxy.admin, 'http.ingress.fault.active_faults', 0), 0);
  assert.equal(await loggedFlags(log.path, '/paced/abandoned'), 'DC');
});

test('fault stats in /stats and /stats/prometheus', async () => {
  const text = (await proxy.admin('/stats')).body;
  assert.ok(statValue(text, 'http.ingress.fault.aborts_injected') >= 4);
  assert.ok(statValue(text, 'http.ingress.fault.delays_injected') >= 3);
  const prom = (await proxy.admin('/stats/prometheus')).body;
  assert.match(prom, /^envoy_http_fault_aborts_injected\{envoy_http_conn_manager_prefix="ingress"\} \d+$/m);
  const dump = (await proxy.admin('/config_dump')).body;
  assert.match(dump, /envoy\.extensions\.filters\.http\.fault\.v3\.HTTPFault/);
});
