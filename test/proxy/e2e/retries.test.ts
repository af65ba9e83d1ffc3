import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, request } from '../../support/net.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { startProxy, httpListenerHead, ROUTER_FILTER, staticCluster, type RunningProxy } from '../../support/proxy.js';

// Retries against upstreams told exactly how to fail, request by request.
let proxy: RunningProxy;
let port: number;
let logFile: string;
let a: FaultyUpstream;
let b: FaultyUpstream;
let grpcUp: FaultyUpstream;
let refusedPort: number;

const cluster = staticCluster;

function route(prefix: string, clusterName: string, extra = ''): string {
  return `
              - match: { prefix: "${prefix}" }
                route: { cluster: ${clusterName}${extra} }`;
}

const PREVIOUS_HOSTS = `retry_host_predicate: [{ name: envoy.retry_host_predicates.previous_hosts, typed_config: { "@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate } }], host_selection_retry_max_attempts: 5`;

before(async () => {
  a = await faultyUpstream({ name: 'a' });
  b = await faultyUpstream({ name: 'b' });
  grpcUp = await faultyUpstream({ name: 'g', http2: true });
  refusedPort = await freePort();
  port = await freePort();
  logFile = join(mkdtempSync(join(tmpdir(), 'tsmesh-retry-')), 'access.log');
  const fast = 'retry_back_off: { base_interval: 0.001s }';
  proxy = await startProxy(`${httpListenerHead(port, `
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${logFile}
    log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_REQUEST_ATTEMPT_COUNT%\\n" } }`)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              include_request_attempt_count: true
              include_attempt_count_in_response: true
              routes:${route('/5xx', 'a', `, retry_policy: { retry_on: 5xx, num_retries: 2, ${fast} }`)}${route('/gateway', 'a', `, retry_policy: { retry_on: gateway-error, num_retries: 2, ${fast} }`)}${route('/reset', 'a', `, retry_policy: { retry_on: reset, num_retries: 1, ${fast} }`)}${route('/codes', 'a', `, retry_policy: { retry_on: "retriable-status-codes,retriable-4xx", retriable_status_codes: [418], num_retries: 3, ${fast} }`)}${route('/headers', 'a', `, retry_policy: { retry_on: retriable-headers, retriable_headers: [{ name: x-try-again }], num_retries: 1, ${fast} }`)}${route('/ratelimited', 'a', `, retry_policy: { retry_on: "5xx", num_retries: 1, ${fast} }`)}${route('/rl-retry', 'a', `, retry_policy: { retry_on: "envoy-ratelimited", num_retries: 1, ${fast} }`)}${route('/connect', 'twohosts', `, retry_policy: { retry_on: connect-failure, num_retries: 1, ${PREVIOUS_HOSTS}, ${fast} }`)}${route('/pertry', 'a', `, timeout: 10s, retry_policy: { retry_on: 5xx, num_retries: 1, per_try_timeout: 0.3s, ${fast} }`)}${route('/overflow', 'nobudget', `, retry_policy: { retry_on: 5xx, num_retries: 3, ${fast} }`)}${route('/bigbody', 'a', `, retry_policy: { retry_on: 5xx, num_retries: 1, ${fast} }`)}
              - match: { prefix: "/smallbuffer" }
                per_request_buffer_limit_bytes: 1024
                route: { cluster: a, retry_policy: { retry_on: 5xx, num_retries: 1, ${fast} } }${route('/grpc', 'grpc', `, retry_policy: { retry_on: "unavailable", num_retries: 1, ${fast} }`)}${route('/', 'a')}
${ROUTER_FILTER}
  clusters:${cluster('a', [a.port])}${cluster('twohosts', [refusedPort, b.port])}${cluster('nobudget', [a.port], '    circuit_breakers: { thresholds: [ { max_retries: 0 } ] }')}${cluster('grpc', [grpcUp.port], `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`)}
`);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([a, b, grpcUp].map((u) => u?.close()));
});

function reset(): void {
  a.seen.length = 0;
  b.seen.length = 0;
  a.setDefault({ kind: 'ok' });
}

async function stat(name: string): Promise<number> {
  const body = (await proxy.admin('/stats')).body;
  const m = new RegExp(`^${name.replace(/[|.]/g, '\\$&')}: (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

async function logLine(path: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    let text = '';
    try { text = readFileSync(logFile, 'utf8'); } catch { /* not written yet */ }
    const line = text.split('\n').reverse().find((l) => l.startsWith(`${path} `));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no access log line for ${path}`);
}

test('5xx: two failures then success; attempts counted up and down the wire, in stats and the log', async () => {
  reset();
  const before = await stat('cluster.a.upstream_rq_retry');
  a.script({ kind: 'status', status: 503 }, { kind: 'status', status: 500 });
  const r = await request(port, { path: '/5xx/one' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-upstream'], 'a');
  assert.equal(r.headers['x-envoy-attempt-count'], '3');
  assert.deepEqual(a.seen.map((s) => s.headers['x-envoy-attempt-count']), ['1', '2', '3']);
  assert.equal(await stat('cluster.a.upstream_rq_retry') - before, 2);
  assert.ok(await stat('cluster.a.upstream_rq_retry_success') >= 1);
  assert.equal(await logLine('/5xx/one'), '/5xx/one 200 - 3');
});

test('retries exhausted: the last upstream answer goes downstream with flag URX', async () => {
  reset();
  a.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 502 });
  const r = await request(port, { path: '/5xx/exhausted' });
  assert.equal(r.status, 502);
  assert.equal(a.seen.length, 3);
  assert.equal(await logLine('/5xx/exhausted'), '/5xx/exhausted 502 URX 3');
  assert.ok(await stat('cluster.a.upstream_rq_retry_limit_exceeded') >= 1);
});

test('gateway-error retries 502/503/504 only: a 500 is final', async () => {
  reset();
  a.script({ kind: 'status', status: 500 });
  assert.equal((await request(port, { path: '/gateway/500' })).status, 500);
  assert.equal(a.seen.length, 1);
  reset();
  a.script({ kind: 'status', status: 504 });
  assert.equal((await request(port, { path: '/gateway/504' })).status, 200);
  assert.equal(a.seen.length, 2);
});

test('reset: a connection reset before the response is retried', async () => {
  reset();
  a.script({ kind: 'reset' });
  const r = await request(port, { path: '/reset/x' });
  assert.equal(r.status, 200);
  assert.deepEqual(a.seen.map((s) => s.behaviour), ['reset', 'ok']);
});

test('retriable-status-codes and retriable-4xx (409)', async () => {
  reset();
  a.script({ kind: 'status', status: 418 }, { kind: 'status', status: 409 });
  assert.equal((await request(port, { path: '/codes/a' })).status, 200);
  assert.equal(a.seen.length, 3);
  reset();
  a.script({ kind: 'status', status: 404 });
  assert.equal((await request(port, { path: '/codes/b' })).status, 404, '404 is not retriable');
  assert.equal(a.seen.length, 1);
});

test('retriable-headers: a response header named in the policy triggers a retry', async () => {
  reset();
  a.script({ kind: 'status', status: 200, headers: { 'x-try-again': 'yes' } });
  const r = await request(port, { path: '/headers/x' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-try-again'], undefined);
  assert.equal(a.seen.length, 2);
});

test('x-envoy-ratelimited answers are retried only under envoy-ratelimited', async () => {
  reset();
  a.script({ kind: 'status', status: 503, headers: { 'x-envoy-ratelimited': 'true' } });
  assert.equal((await request(port, { path: '/ratelimited/x' })).status, 503);
  assert.equal(a.seen.length, 1);
  reset();
  a.script({ kind: 'status', status: 429, headers: { 'x-envoy-ratelimited': 'true' } });
  assert.equal((await request(port, { path: '/rl-retry/x' })).status, 200);
  assert.equal(a.seen.length, 2);
});

test('x-envoy-retry-on and x-envoy-max-retries request headers turn retries on for a route without a policy', async () => {
  reset();
  a.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
  const r = await request(port, { path: '/plain', headers: { 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '2' } });
  assert.equal(r.status, 200);
  assert.equal(a.seen.length, 3);
  reset();
  a.script({ kind: 'status', status: 503 });
  assert.equal((await request(port, { path: '/plain' })).status, 503, 'no policy, no header: no retry');
  assert.equal(a.seen.length, 1);
});

test('connect-failure with previous_hosts: a refused host is not tried twice, every request succeeds', async () => {
  b.seen.length = 0;
  for (let i = 0; i < 6; i++) {
    const r = await request(port, { path: `/connect/${i}` });
    assert.equal(r.status, 200, `request ${i}`);
    assert.equal(r.headers['x-upstream'], 'b');
  }
  assert.equal(b.seen.length, 6);
});

test('per_try_timeout: a hanging attempt is abandoned and retried; the stat counts it', async () => {
  reset();
  a.script({ kind: 'hang' });
  const before = await stat('cluster.a.upstream_rq_per_try_timeout');
  const r = await request(port, { path: '/pertry/x' });
  assert.equal(r.status, 200);
  assert.equal(a.seen.length, 2);
  assert.equal(await stat('cluster.a.upstream_rq_per_try_timeout') - before, 1);
  reset();
  a.setDefault({ kind: 'hang' });
  const r2 = await request(port, { path: '/pertry/always' });
  assert.equal(r2.status, 504);
  assert.equal(await logLine('/pertry/always'), '/pertry/always 504 UT,URX 2');
  reset();
});

test('max_retries 0: a retry overflows the breaker; the failure goes downstream with flag UO', async () => {
  reset();
  a.script({ kind: 'status', status: 503 });
  const r = await request(port, { path: '/overflow/x' });
  assert.equal(r.status, 503);
  assert.equal(a.seen.length, 1);
  assert.equal(await stat('cluster.nobudget.upstream_rq_retry_overflow'), 1);
  assert.equal(await logLine('/overflow/x'), '/overflow/x 503 UO 1');
});

test('a request body is replayed on retry while it fits the buffer limit, and not beyond it', async () => {
  reset();
  a.script({ kind: 'status', status: 503 });
  const body = 'x'.repeat(4000);
  const r = await request(port, { path: '/bigbody/post', method: 'POST', body });
  assert.equal(r.status, 200);
  assert.deepEqual(a.seen.map((s) => s.body.length), [4000, 4000]);
  reset();
  a.script({ kind: 'status', status: 503 });
  const r2 = await request(port, { path: '/smallbuffer/post', method: 'POST', body });
  assert.equal(r2.status, 503, 'body over per_request_buffer_limit_bytes: no retry');
  assert.equal(a.seen.length, 1);
  assert.equal(a.seen[0]!.body.length, 4000, 'the one attempt still got the whole body');
  assert.ok(await stat('cluster.a.retry_or_shadow_abandoned') >= 1);
});

test('gRPC: a trailers-only UNAVAILABLE is retried under retry_on unavailable', async () => {
  grpcUp.seen.length = 0;
  grpcUp.script({ kind: 'grpc', grpcStatus: 14, message: 'down', trailersOnly: true });
  grpcUp.setDefault({ kind: 'grpc', grpcStatus: 0, trailersOnly: true });
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const res = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const s = client.request({ ':method': 'POST', ':path': '/grpc/pkg.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' });
      s.on('response', (h) => { s.resume(); s.on('end', () => resolve(h)); });
      s.on('error', reject);
      s.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    assert.equal(res['grpc-status'], '0');
    assert.equal(grpcUp.seen.length, 2);
  } finally {
    client.close();
  }
});
