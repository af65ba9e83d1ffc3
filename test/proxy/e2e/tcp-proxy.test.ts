import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, rawUpstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';

let proxy: RunningProxy;
let port: number;
const ups: { close(): Promise<void> }[] = [];

before(async () => {
  // A server-first protocol: the upstream speaks before the client does.
  const a = await rawUpstream((s) => { s.write('banner-a\n'); s.on('data', (d) => s.write(`a:${d}`)); });
  const b = await rawUpstream((s) => { s.write('banner-b\n'); s.on('data', (d) => s.write(`b:${d}`)); });
  ups.push(a, b);
  port = await freePort();
  proxy = await startProxy(`
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:
  - name: tcp
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          idle_timeout: 1s
          weighted_clusters: { clusters: [ { name: a, weight: 1 }, { name: b, weight: 1 } ] }
  clusters:
  - name: a
    type: STATIC
    load_assignment: { cluster_name: a, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${a.port} } } } } ] } ] }
  - name: b
    type: STATIC
    load_assignment: { cluster_name: b, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${b.port} } } } } ] } ] }
`);
});

after(async () => {
  await proxy.stop();
  await Promise.all(ups.map((u) => u.close()));
});

async function talk(): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => (got += d));
  await once(s, 'connect');
  for (let i = 0; i < 100 && !got.includes('\n'); i++) await new Promise((r) => setTimeout(r, 10));
  s.write('ping');
  for (let i = 0; i < 100 && !got.includes('ping'); i++) await new Promise((r) => setTimeout(r, 10));
  s.destroy();
  return got;
}

test('bytes flow both ways, server-first banner included, weighted across clusters', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const got = await talk();
    assert.match(got, /^banner-([ab])\n\1:ping$/);
    seen.add(got[7]!);
  }
  assert.deepEqual([...seen].sort(), ['a', 'b']);
});

test('an idle connection is closed after idle_timeout', async () => {
  const s = net.connect(port, '127.0.0.1');
  s.on('data', () => {});
  s.resume();
  const start = Date.now();
  await once(s, 'close');
  const took = Date.now() - start;
  assert.ok(took >= 900, `closed after ${took} ms`);
  const stats = (await proxy.admin('/stats?filter=^tcp\\.')).body;
  assert.match(stats, /tcp\.tcp\.idle_timeout: [1-9]/);
});
