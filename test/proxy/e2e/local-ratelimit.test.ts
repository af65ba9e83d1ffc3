import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, request } from '../../support/net.js';
import { startProxy, httpListenerHead, type RunningProxy } from '../../support/proxy.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { accessLogFile, loggedFlags } from '../../support/access-log.js';
import { statValue } from '../../support/stats.js';
import { accessLogLine } from '../../support/mesh.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// envoy.filters.http.local_ratelimit over real sockets. Buckets refill once an hour, so within
// a test run the counts are exact whatever the machine's speed.
const LRL = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const ON = '{ default_value: { numerator: 100 } }';
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

function bootstrap(port: number, upstreamPort: number, hcmExtra: string, routes: string, filter: string): string {
  return `${httpListenerHead(port, hcmExtra)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
${routes}
          http_filters:
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": ${LRL}
${filter}
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: app
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: app
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } } } ] } ]
`;
}

async function started(yaml: string, concurrency = 1): Promise<RunningProxy> {
  const p = await startProxy(yaml, { concurrency });
  cleanup.push(() => p.stop());
  return p;
}

async function upstream(): Promise<FaultyUpstream> {
  const u = await faultyUpstream({ name: 'app' });
  cleanup.push(() => u.close());
  return u;
}

test('--concurrency 2: a bucket of 10 admits exactly 10 requests across both workers', async () => {
  const up = await upstream();
  const port = await freePort();
  const proxy = await started(bootstrap(port, up.port, '', `
              - match: { prefix: "/" }
                route: { cluster: app }`, `
              stat_prefix: shared_rl
              token_bucket: { max_tokens: 10, tokens_per_fill: 10, fill_interval: 3600s }
              filter_enabled: ${ON}
              filter_enforced: ${ON}`), 2);
  // Every request on its own connection: SO_REUSEPORT spreads connections over the workers.
  const statuses: number[] = [];
  for (let round = 0; round < 4; round++) {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => request(port, { path: `/r${round}-${i}`, headers: { connection: 'close' } })));
    for (const r of rs) {
      statuses.push(r.status);
      if (r.status === 429) {
        assert.equal(r.headers['x-envoy-ratelimited'], 'true');
        assert.equal(r.body, 'local_rate_limited');
      }
    }
  }
  assert.equal(statuses.filter((s) => s === 200).length, 10);
  assert.equal(statuses.filter((s) => s === 429).length, 30);
  assert.equal(up.seen.length, 10, 'only admitted requests reached the upstream');
  const stats = (await proxy.admin('/stats')).body;
  assert.deepEqual(['enabled', 'ok', 'rate_limited', 'enforced'].map((n) => statValue(stats, `shared_rl.http_local_rate_limit.${n}`)), [40, 10, 30, 30]);
  assert.match((await proxy.admin('/stats/prometheus')).body, /^envoy_http_local_rate_limit_enforced\{envoy_local_http_ratelimit_prefix="shared_rl"\} 30$/m);
});

test('descriptors from route rate_limits, a route with its own bucket, x-ratelimit headers, response headers and flag RL', async () => {
  const up = await upstream();
  const port = await freePort();
  const log = accessLogFile();
  const proxy = await started(bootstrap(port, up.port, log.hcmExtra, `
              - match: { prefix: "/own" }
                route: { cluster: app }
                typed_per_filter_config:
                  envoy.filters.http.local_ratelimit:
                    "@type": ${LRL}
                    stat_prefix: own_rl
                    token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: 3600s }
                    filter_enabled: ${ON}
                    filter_enforced: ${ON}
                    status: { code: ServiceUnavailable }
              - match: { prefix: "/" }
                route:
                  cluster: app
                  rate_limits:
                  - actions: [ { request_headers: { header_name: x-user, descriptor_key: user } } ]`, `
              stat_prefix: edge_rl
              token_bucket: { max_tokens: 100, tokens_per_fill: 100, fill_interval: 3600s }
              filter_enabled: ${ON}
              filter_enforced: ${ON}
              enable_x_ratelimit_headers: DRAFT_VERSION_03
              response_headers_to_add: [ { header: { key: x-local-rate-limit, value: "true" } } ]
              descriptors:
              - entries: [ { key: user, value: ann } ]
                token_bucket: { max_tokens: 2, tokens_per_fill: 2, fill_interval: 3600s }`));
  const ann = () => request(port, { path: '/ann', headers: { 'x-user': 'ann' } });
  const first = await ann();
  assert.equal(first.status, 200);
  assert.deepEqual([first.headers['x-ratelimit-limit'], first.headers['x-ratelimit-remaining'], first.headers['x-ratelimit-reset']], ['2', '1', '3600']);
  assert.equal(first.headers['x-local-rate-limit'], undefined, 'response_headers_to_add only on limited responses');
  assert.equal((await ann()).status, 200);
  const limited = await ann();
  assert.equal(limited.status, 429);
  assert.equal(limited.headers['x-envoy-ratelimited'], 'true');
  assert.equal(limited.headers['x-local-rate-limit'], 'true');
  assert.equal(limited.headers['x-ratelimit-remaining'], '0');
  assert.equal(await loggedFlags(log.path, '/ann'), 'RL');
  const bob = await request(port, { path: '/bob', headers: { 'x-user': 'bob' } });
  assert.equal(bob.status, 200, 'another user only takes from the default bucket');
  assert.equal(bob.headers['x-ratelimit-limit'], '100');

  assert.equal((await request(port, { path: '/own' })).status, 200);
  const own = await request(port, { path: '/own' });
  assert.equal(own.status, 503, "the route's own bucket of 1 and its status");
  assert.equal(own.headers['x-envoy-ratelimited'], 'true');
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'own_rl.http_local_rate_limit.enforced'), 1);
  assert.equal(statValue(stats, 'edge_rl.http_local_rate_limit.enforced'), 1);
  assert.equal(statValue(stats, 'edge_rl.http_local_rate_limit.ok'), 3);
});

test('local_rate_limit_per_downstream_connection: each connection has its own bucket', async () => {
  const up = await upstream();
  const port = await freePort();
  await started(bootstrap(port, up.port, '', `
              - match: { prefix: "/" }
                route: { cluster: app }`, `
              stat_prefix: conn_rl
              token_bucket: { max_tokens: 2, tokens_per_fill: 2, fill_interval: 3600s }
              filter_enabled: ${ON}
              filter_enforced: ${ON}
              local_rate_limit_per_downstream_connection: true`));
  const onOneConnection = async (): Promise<number[]> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await request(port, { path: '/', agent })).status);
      return out;
    } finally {
      agent.destroy();
    }
  };
  assert.deepEqual(await onOneConnection(), [200, 200, 429]);
  assert.deepEqual(await onOneConnection(), [200, 200, 429]);
});

test('remote_address descriptors use the client address the connection manager trusts (use_remote_address, xff_num_trusted_hops: 1)', async () => {
  const up = await upstream();
  const port = await freePort();
  const logPath = join(mkdtempSync(join(tmpdir(), 'tsmesh-log-')), 'access.log');
  await started(bootstrap(port, up.port, `
use_remote_address: true
xff_num_trusted_hops: 1
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
    path: ${logPath}
    log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%\\n" } }`, `
              - match: { prefix: "/" }
                route:
                  cluster: app
                  rate_limits:
                  - actions: [ { remote_address: {} } ]`, `
              stat_prefix: addr_rl
              token_bucket: { max_tokens: 100, tokens_per_fill: 100, fill_interval: 3600s }
              filter_enabled: ${ON}
              filter_enforced: ${ON}
              descriptors:
              - entries: [ { key: remote_address, value: 203.0.113.7 } ]
                token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: 3600s }`));
  // One trusted proxy in front: the client is the last x-forwarded-for entry, not the socket peer.
  const from = (xff: string | undefined, path: string) => request(port, { path, headers: xff ? { 'x-forwarded-for': xff } : {} });
  assert.equal((await from('203.0.113.7', '/a1')).status, 200);
  assert.equal((await from('203.0.113.7', '/a2')).status, 429, "that client's bucket of 1 is used up");
  assert.equal((await from('198.51.100.1, 203.0.113.7', '/a3')).status, 429, 'the entry the trusted hop vouches for is the last one');
  assert.equal((await from('198.51.100.9', '/b')).status, 200, 'another client has its own descriptor');
  assert.equal((await from(undefined, '/peer')).status, 200, 'without x-forwarded-for the client is the peer (127.0.0.1)');
  assert.equal(await accessLogLine(logPath, '/a1 '), '/a1 203.0.113.7:0 127.0.0.1');
  assert.match(await accessLogLine(logPath, '/peer '), /^\/peer 127\.0\.0\.1:\d+ 127\.0\.0\.1$/);
});
