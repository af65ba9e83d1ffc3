import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, httpListenerHead, ROUTER_FILTER, type RunningProxy } from '../../support/proxy.js';

// ORIGINAL_DST clusters (Istio's PassthroughCluster) over real sockets: hosts made on demand
// from x-envoy-original-dst-host, nothing for a connection made to the proxy itself (no loop),
// and unused hosts forgotten after cleanup_interval.
let proxy: RunningProxy;
let a: Upstream;
let b: Upstream;
let port: number;
let tcpPort: number;

before(async () => {
  [a, b] = await Promise.all([httpUpstream(), httpUpstream()]);
  port = await freePort();
  tcpPort = await freePort();
  proxy = await startProxy(`${httpListenerHead(port)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: PassthroughCluster }
${ROUTER_FILTER}
  - name: tcp
    address: { socket_address: { address: 127.0.0.1, port_value: ${tcpPort} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: passthrough
          cluster: PassthroughCluster
  clusters:
  - name: PassthroughCluster
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    connect_timeout: 1s
    cleanup_interval: 0.3s
    original_dst_lb_config: { use_http_header: true }
`);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([a?.close(), b?.close()]);
});

test('x-envoy-original-dst-host picks the upstream, one host per destination', async () => {
  const ra = await request(port, { path: '/one', headers: { 'x-envoy-original-dst-host': `127.0.0.1:${a.port}` } });
  const rb = await request(port, { path: '/two', headers: { 'x-envoy-original-dst-host': `127.0.0.1:${b.port}` } });
  assert.equal(ra.status, 200);
  assert.equal(rb.status, 200);
  assert.deepEqual(a.seen.map((r) => r.url), ['/one']);
  assert.deepEqual(b.seen.map((r) => r.url), ['/two']);
  const clusters = (await proxy.admin('/clusters')).body;
  assert.match(clusters, new RegExp(`PassthroughCluster::127\\.0\\.0\\.1:${a.port}::`));
  assert.match(clusters, new RegExp(`PassthroughCluster::127\\.0\\.0\\.1:${b.port}::`));
});

test('without a usable original destination nothing is forwarded (503, never a loop)', async () => {
  const before = a.seen.length + b.seen.length;
  const none = await request(port, { path: '/none' });
  assert.equal(none.status, 503);
  const name = await request(port, { path: '/name', headers: { 'x-envoy-original-dst-host': 'example.com:80' } });
  assert.equal(name.status, 503, 'a name is not an address: ORIGINAL_DST does no DNS');
  assert.equal(a.seen.length + b.seen.length, before);
});

test('a TCP connection made to the proxy itself is closed, not relayed to itself', async () => {
  const closed = await new Promise<boolean>((resolve) => {
    const s = net.connect(tcpPort, '127.0.0.1');
    const timer = setTimeout(() => { s.destroy(); resolve(false); }, 10_000);
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve(true); });
  });
  assert.ok(closed);
});

test('hosts nobody uses are forgotten after cleanup_interval', async () => {
  const deadline = Date.now() + 10_000;
  let text = '';
  while (Date.now() < deadline) {
    text = (await proxy.admin('/clusters')).body;
    if (!text.includes(`127.0.0.1:${a.port}`)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.doesNotMatch(text, new RegExp(`127\\.0\\.0\\.1:${a.port}`));
});
