import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, rawUpstream, request } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { statValue } from '../../support/stats.js';

// envoy.filters.network.local_ratelimit in front of tcp_proxy and the HTTP connection manager.
// Buckets refill once an hour: the counts are exact whatever the machine's speed.
const NLRL = 'type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit';
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

async function started(yaml: string, concurrency = 1): Promise<RunningProxy> {
  const p = await startProxy(yaml, { concurrency });
  cleanup.push(() => p.stop());
  return p;
}

/** Connects and waits for the upstream's greeting: 'served', or 'closed' if the proxy closes first. */
function outcome(port: number): Promise<'served' | 'closed'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d; if (got.includes('\n')) { s.destroy(); resolve('served'); } });
    s.on('error', () => { /* reset by the proxy: close follows */ });
    s.on('close', () => resolve(got.includes('\n') ? 'served' : 'closed'));
  });
}

function rateLimitFilter(prefix: string, maxTokens: number, shareKey = ''): string {
  return `
      - name: envoy.filters.network.local_ratelimit
        typed_config:
          "@type": ${NLRL}
          stat_prefix: ${prefix}
          token_bucket: { max_tokens: ${maxTokens}, tokens_per_fill: ${maxTokens}, fill_interval: 3600s }
          runtime_enabled: { default_value: true, runtime_key: rl_enabled }${shareKey ? `\n          share_key: ${shareKey}` : ''}`;
}

test('--concurrency 2 in front of tcp_proxy: a bucket of 5 lets exactly 5 connections through; the rest are closed at once', async () => {
  const up = await rawUpstream((s) => { s.write('hello\n'); s.on('data', () => { /* discard */ }); });
  cleanup.push(() => up.close());
  const port = await freePort();
  const proxy = await started(`
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:
  - name: tcp
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:${rateLimitFilter('tcp_rl', 5)}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: echo
  clusters:
  - name: echo
    type: STATIC
    load_assignment: { cluster_name: echo, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${up.port} } } } } ] } ] }
`, 2);
  const results = await Promise.all(Array.from({ length: 16 }, () => outcome(port)));
  assert.equal(results.filter((r) => r === 'served').length, 5);
  assert.equal(results.filter((r) => r === 'closed').length, 11);
  assert.equal(up.connections, 5, 'rejected connections never reach the upstream');
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'local_rate_limit.tcp_rl.rate_limited'), 11);
  assert.match((await proxy.admin('/stats/prometheus')).body, /^envoy_local_rate_limit_rate_limited\{envoy_local_network_ratelimit_prefix="tcp_rl"\} 11$/m);
});

test('in front of the HTTP connection manager, with share_key: listeners sharing a key share the bucket', async () => {
  const upstream = await rawUpstream((s) => s.on('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')));
  cleanup.push(() => upstream.close());
  const [a, b] = [await freePort(), await freePort()];
  const listener = (name: string, port: number) => `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:${rateLimitFilter('edge_rl', 3, 'edge')}
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${name}
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: app } } ] } ] }
          http_filters: [ { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ]`;
  const proxy = await started(`
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:${listener('a', a)}${listener('b', b)}
  clusters:
  - name: app
    type: STATIC
    load_assignment: { cluster_name: app, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstream.port} } } } } ] } ] }
`);
  const get = async (port: number): Promise<number | 'closed'> => {
    try { return (await request(port, { path: '/' })).status; } catch { return 'closed'; }
  };
  const seq: (number | 'closed')[] = [];
  for (const p of [a, b, a, b, a]) seq.push(await get(p));
  assert.deepEqual(seq, [200, 200, 200, 'closed', 'closed']);
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'local_rate_limit.edge_rl.rate_limited'), 2);
  assert.equal(statValue(stats, 'http.b.downstream_cx_total'), 1, 'the closed connections never reached the connection manager');
});
