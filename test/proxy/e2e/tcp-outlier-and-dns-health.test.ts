import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, rawUpstream, request } from '../../support/net.js';
import { startProxy, httpListenerHead, ROUTER_FILTER, type RunningProxy } from '../../support/proxy.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { eventually, healthFlags, statValue } from '../../support/mesh.js';

// tcp_proxy reports connect failures to outlier detection; a STRICT_DNS cluster's hosts,
// resolved in each thread, meet their health-check state by address.
let proxy: RunningProxy;
let tcpPort: number, httpPort: number;
let refused: number;
let echo: Awaited<ReturnType<typeof rawUpstream>>;
let dnsHost: FaultyUpstream;

before(async () => {
  echo = await rawUpstream((s) => s.on('data', (d) => s.write(d)));
  dnsHost = await faultyUpstream({ name: 'dns' });
  refused = await freePort();
  tcpPort = await freePort();
  httpPort = await freePort();
  const ep = (p: number) => `{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } } }`;
  proxy = await startProxy(`${httpListenerHead(httpPort)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: dns }
${ROUTER_FILTER}
  - name: tcp
    address: { socket_address: { address: 127.0.0.1, port_value: ${tcpPort} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: tcp, cluster: tcp }
  clusters:
  - name: tcp
    type: STATIC
    connect_timeout: 1s
    outlier_detection: { consecutive_5xx: 3, max_ejection_percent: 50, base_ejection_time: 600s }
    load_assignment: { cluster_name: tcp, endpoints: [ { lb_endpoints: [ ${ep(refused)}, ${ep(echo.port)} ] } ] }
  - name: dns
    type: STRICT_DNS
    dns_lookup_family: V4_ONLY
    connect_timeout: 1s
    health_checks: [ { timeout: 3s, interval: 0.1s, no_traffic_interval: 0.1s, unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: "/healthz" } } ]
    load_assignment: { cluster_name: dns, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: localhost, port_value: ${dnsHost.port} } } } } ] } ] }
`, { concurrency: 2 });
});

after(async () => {
  await proxy.stop();
  await echo.close();
  await dnsHost.close();
});

/** Connects through the tcp listener, sends `hi`; resolves with what came back ('' if cut off). */
async function talk(): Promise<string> {
  const s = net.connect(tcpPort, '127.0.0.1');
  let got = '';
  // The proxy may reset a connection to a refusing host before this side even saw 'connect'
  // (a loaded machine): that is a cut-off talk, not a test error.
  s.on('error', () => {});
  s.on('data', (d) => (got += d));
  // Not events.once: it rejects on 'error', and a reset (ECONNRESET) is an outcome here.
  const closed = new Promise<false>((r) => s.once('close', () => r(false)));
  const connected = await Promise.race([new Promise<true>((r) => s.once('connect', () => r(true))), closed]);
  if (!connected) return '';
  s.write('hi');
  await Promise.race([closed, new Promise((r) => setTimeout(r, 300))]);
  s.destroy();
  return got;
}

test('tcp_proxy: refused connections eject the host (local-origin failures as 503s)', async () => {
  await eventually('the refusing host to be ejected', async () => {
    await talk();
    return healthFlags((await proxy.admin('/clusters')).body, 'tcp', refused) === '/failed_outlier_check' ? true : undefined;
  });
  for (let i = 0; i < 10; i++) assert.equal(await talk(), 'hi');
  const s = (await proxy.admin('/stats')).body;
  assert.equal(statValue(s, 'cluster.tcp.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
  assert.equal(healthFlags((await proxy.admin('/clusters')).body, 'tcp', echo.port), 'healthy', 'connects reset the run');
});

test('STRICT_DNS hosts under active health checks: one state per address for every thread', async () => {
  const text = (await proxy.admin('/clusters')).body;
  assert.equal(healthFlags(text, 'dns', dnsHost.port), 'healthy');
  assert.match(text, new RegExp(`^dns::127\\.0\\.0\\.1:${dnsHost.port}::hostname::localhost$`, 'm'));
  assert.equal((await request(httpPort, { path: '/x' })).status, 200);
  dnsHost.setDefault({ kind: 'status', status: 503 });
  await eventually('the host to fail its check', async () => (healthFlags((await proxy.admin('/clusters')).body, 'dns', dnsHost.port) === '/failed_active_hc' ? true : undefined));
  // One host, failed, default panic threshold: the workers still route to it (panic), and count it.
  assert.equal((await request(httpPort, { path: '/y' })).status, 503);
  assert.ok((statValue((await proxy.admin('/stats')).body, 'cluster.dns.lb_healthy_panic') ?? 0) >= 1);
  dnsHost.setDefault({ kind: 'ok' });
});
