import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { freePort, request } from '../../support/net.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { startProxy, httpListenerHead, ROUTER_FILTER, staticCluster, type RunningProxy } from '../../support/proxy.js';

// Timeouts, circuit breakers and mirroring, against upstreams that hang or answer on command.
let proxy: RunningProxy;
let port: number;
let up: FaultyUpstream;
let up2: FaultyUpstream;
let shadow: FaultyUpstream;
let grpcUp: FaultyUpstream;

const cluster = staticCluster;

function route(prefix: string, body: string): string {
  return `
              - match: { prefix: "${prefix}" }
                route: { ${body} }`;
}

function bootstrap(listen: number, o: { up: number; up2: number; shadow: number; grpc: number }): string {
  return `${httpListenerHead(listen, 'common_http_protocol_options: { max_stream_duration: 60s }')}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:${route('/slow', 'cluster: up, timeout: 0.3s')}${route('/idle', 'cluster: up, timeout: 0s, idle_timeout: 0.3s')}${route('/duration', 'cluster: up, timeout: 0s, max_stream_duration: { max_stream_duration: 0.3s }')}${route('/header-timeout', 'cluster: up, timeout: 30s')}${route('/grpc', 'cluster: grpc, timeout: 30s, max_grpc_timeout: 0s')}${route('/pending', 'cluster: onecx, timeout: 30s')}${route('/requests', 'cluster: tworq, timeout: 30s')}${route('/pools', 'cluster: onepool, timeout: 30s')}${route('/mirror-none', 'cluster: up, request_mirror_policies: [{ cluster: shadow, runtime_fraction: { default_value: { numerator: 0 } } }]')}${route('/mirror', 'cluster: up, request_mirror_policies: [{ cluster: shadow }]')}
${ROUTER_FILTER}
  clusters:${cluster('up', [o.up])}${cluster('shadow', [o.shadow])}${cluster('onecx', [o.up], '    circuit_breakers: { thresholds: [ { max_connections: 1, max_pending_requests: 1 } ] }')}${cluster('tworq', [o.up], '    circuit_breakers: { thresholds: [ { max_requests: 2, track_remaining: true } ] }')}${cluster('onepool', [o.up, o.up2], '    circuit_breakers: { thresholds: [ { max_connection_pools: 1 } ] }')}${cluster('grpc', [o.grpc], `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`)}
`;
}

before(async () => {
  up = await faultyUpstream({ name: 'up' });
  up2 = await faultyUpstream({ name: 'up2' });
  shadow = await faultyUpstream({ name: 'shadow' });
  grpcUp = await faultyUpstream({ name: 'g', http2: true });
  port = await freePort();
  proxy = await startProxy(bootstrap(port, { up: up.port, up2: up2.port, shadow: shadow.port, grpc: grpcUp.port }));
});

after(async () => {
  await proxy?.stop();
  await Promise.all([up, up2, shadow, grpcUp].map((u) => u?.close()));
});

async function stats(): Promise<string> {
  return (await proxy.admin('/stats')).body;
}

async function stat(name: string): Promise<number> {
  const m = new RegExp(`^${name.replace(/[|.]/g, '\\$&')}: (\\d+)$`, 'm').exec(await stats());
  return m ? Number(m[1]) : 0;
}

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('route timeout: 504 "upstream request timeout", counted as upstream_rq_timeout', async () => {
  up.setDefault({ kind: 'hang' });
  try {
    const r = await request(port, { path: '/slow' });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.ok(await stat('cluster.up.upstream_rq_timeout') >= 1);
  } finally { up.setDefault({ kind: 'ok' }); }
});

test('route idle_timeout: a stream with no traffic is ended (504 before the response starts)', async () => {
  up.setDefault({ kind: 'hang' });
  try {
    const r = await request(port, { path: '/idle' });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'stream timeout');
  } finally { up.setDefault({ kind: 'ok' }); }
});

/** One HTTP/2 request; resolves with what arrived before the stream ended or was reset. */
function h2Get(path: string): Promise<{ status: number | undefined; body: string; resetCode: number | undefined }> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  return new Promise((resolve) => {
    let status: number | undefined;
    let body = '';
    const s = client.request({ ':path': path });
    s.setEncoding('utf8');
    s.on('response', (h) => { status = Number(h[':status']); });
    s.on('data', (d: string) => { body += d; });
    s.on('close', () => { resolve({ status, body, resetCode: s.rstCode === 0 ? undefined : s.rstCode }); client.close(); });
    s.on('error', () => {});
    s.end();
  });
}

test('route idle_timeout over HTTP/2: 504 "stream timeout" before the response starts (HCM default is 5 min)', async () => {
  up.setDefault({ kind: 'hang' });
  try {
    const before = await stat('http.ingress.downstream_rq_idle_timeout');
    const r = await h2Get('/idle');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'stream timeout');
    assert.equal(await stat('http.ingress.downstream_rq_idle_timeout'), before + 1);
  } finally { up.setDefault({ kind: 'ok' }); }
});

test('route idle_timeout after the response started: the stream is reset (HTTP/2 RST_STREAM, HTTP/1.1 close)', async () => {
  up.setDefault({ kind: 'stall', body: 'partial' });
  try {
    const r = await h2Get('/idle');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'partial');
    assert.ok(r.resetCode !== undefined, 'the stream was reset, not ended');
    await assert.rejects(request(port, { path: '/idle' }), /aborted|ECONNRESET|socket hang up/);
  } finally { up.setDefault({ kind: 'ok' }); }
});

test('max_stream_duration: 408 and downstream_rq_max_duration_reached', async () => {
  up.setDefault({ kind: 'hang' });
  try {
    const r = await request(port, { path: '/duration' });
    assert.equal(r.status, 408);
    assert.equal(await stat('http.ingress.downstream_rq_max_duration_reached'), 1);
  } finally { up.setDefault({ kind: 'ok' }); }
});

test('x-envoy-upstream-rq-timeout-ms overrides the route timeout and is not forwarded', async () => {
  up.script({ kind: 'hang' });
  const r = await request(port, { path: '/header-timeout', headers: { 'x-envoy-upstream-rq-timeout-ms': '200' } });
  assert.equal(r.status, 504);
  const r2 = await request(port, { path: '/header-timeout', headers: { 'x-envoy-upstream-rq-timeout-ms': '5000' } });
  assert.equal(r2.status, 200);
  const seen = up.seen[up.seen.length - 1]!;
  assert.equal(seen.headers['x-envoy-upstream-rq-timeout-ms'], undefined);
  assert.equal(seen.headers['x-envoy-expected-rq-timeout-ms'], '5000');
});

test('grpc-timeout is honoured with max_grpc_timeout; the local reply is gRPC-shaped', async () => {
  grpcUp.setDefault({ kind: 'hang' });
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const s = client.request({ ':method': 'POST', ':path': '/grpc/pkg.Svc/Call', 'content-type': 'application/grpc', 'grpc-timeout': '200m', te: 'trailers' });
      s.on('response', (headers) => { s.resume(); s.on('end', () => resolve(headers)); });
      s.on('error', reject);
      s.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    assert.equal(h[':status'], 200);
    assert.equal(h['grpc-status'], '14');
    assert.equal(h['grpc-message'], 'upstream%20request%20timeout');
  } finally {
    client.close();
    grpcUp.setDefault({ kind: 'grpc', grpcStatus: 0 });
  }
});

test('max_connections 1 + max_pending_requests 1: the third concurrent request overflows with x-envoy-overloaded', async () => {
  up.setDefault({ kind: 'held' });
  up.seen.length = 0;
  try {
    const first = request(port, { path: '/pending/1' });
    await until('first request upstream', () => up.seen.length === 1);
    const second = request(port, { path: '/pending/2' });
    await until('second request pending', async () => (await stat('cluster.onecx.upstream_rq_pending_active')) === 1);
    const third = await request(port, { path: '/pending/3' });
    assert.equal(third.status, 503);
    assert.equal(third.headers['x-envoy-overloaded'], 'true');
    up.setDefault({ kind: 'ok' });
    up.release();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.equal(await stat('cluster.onecx.upstream_rq_pending_overflow'), 1);
    assert.equal(up.seen.length, 2, 'the overflowed request never reached the upstream');
  } finally { up.setDefault({ kind: 'ok' }); }
});

test('max_requests 2: open gauge and remaining_rq follow the count; the third is refused', async () => {
  up.setDefault({ kind: 'held' });
  up.seen.length = 0;
  try {
    const inflight = [request(port, { path: '/requests/1' }), request(port, { path: '/requests/2' })];
    await until('two requests upstream', () => up.seen.length === 2);
    assert.equal(await stat('cluster.tworq.circuit_breakers.default.rq_open'), 1);
    assert.equal(await stat('cluster.tworq.circuit_breakers.default.remaining_rq'), 0);
    const third = await request(port, { path: '/requests/3' });
    assert.equal(third.status, 503);
    up.setDefault({ kind: 'ok' });
    up.release();
    for (const r of await Promise.all(inflight)) assert.equal(r.status, 200);
    await until('gauge closes', async () => (await stat('cluster.tworq.circuit_breakers.default.rq_open')) === 0);
    assert.equal(await stat('cluster.tworq.circuit_breakers.default.remaining_rq'), 2);
  } finally { up.setDefault({ kind: 'ok' }); }
});

test('max_connection_pools 1: the second host has no pool left (503 UO, upstream_cx_pool_overflow)', async () => {
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await request(port, { path: `/pools/${i}` })).status);
  assert.deepEqual(statuses.sort(), [200, 200, 503, 503]);
  assert.equal(await stat('cluster.onepool.upstream_cx_pool_overflow'), 2);
});

test('mirroring: the shadow gets a copy (host -shadow, same body); its failure never touches the primary', async () => {
  shadow.seen.length = 0;
  shadow.setDefault({ kind: 'reset' });
  const r = await request(port, { path: '/mirror/x', method: 'POST', body: 'payload', headers: { host: 'svc.example:8080' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-upstream'], 'up');
  await until('shadow request', () => shadow.seen.length === 1);
  const s = shadow.seen[0]!;
  assert.equal(s.headers.host, 'svc.example-shadow:8080');
  assert.equal(s.url, '/mirror/x');
  assert.equal(s.body, 'payload');
  shadow.setDefault({ kind: 'hang' });
  assert.equal((await request(port, { path: '/mirror/y' })).status, 200, 'a hanging shadow does not delay the primary');
  await until('second shadow request', () => shadow.seen.length === 2);
  const before = shadow.seen.length;
  for (let i = 0; i < 5; i++) assert.equal((await request(port, { path: '/mirror-none/z' })).status, 200);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(shadow.seen.length, before, 'runtime_fraction 0%: nothing mirrored');
});

test('circuit breakers count per proxy, not per worker: with --concurrency 2, max_requests 2 admits 2 of 6', async () => {
  const slow = await faultyUpstream({ name: 'slow' });
  slow.setDefault({ kind: 'held' });
  const listen = await freePort();
  const p = await startProxy(bootstrap(listen, { up: slow.port, up2: slow.port, shadow: slow.port, grpc: slow.port }), { concurrency: 2 });
  try {
    // The two admitted requests are held upstream until all six have an answer or are held, so
    // the count cannot drop while later requests are still on their way.
    let answered = 0;
    const pending = Array.from({ length: 6 }, (_, i) => request(listen, { path: `/requests/${i}` }).then((r) => { answered++; return r; }));
    // Handled now, so a failure before Promise.all below reports itself and not a stray rejection.
    for (const p of pending) p.catch(() => {});
    await until('four refused, two held upstream', () => answered === 4 && slow.held === 2);
    slow.release();
    const statuses = (await Promise.all(pending)).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503, 503, 503, 503]);
    assert.equal(slow.seen.length, 2);
  } finally {
    await p.stop();
    await slow.close();
  }
});
