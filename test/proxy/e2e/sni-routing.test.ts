import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import net from 'node:net';
import { freePort, rawUpstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';

// TLS passthrough by SNI: tls_inspector reads the ClientHello, filter_chain_match picks the
// chain, tcp_proxy forwards the untouched bytes. Plaintext falls to the default chain.
let proxy: RunningProxy;
let port: number;
const got: Record<string, number> = { api: 0, wild: 0, plain: 0 };
const ups: { close(): Promise<void> }[] = [];

before(async () => {
  const mk = async (name: string) => {
    const u = await rawUpstream((s) => s.once('data', () => { got[name]!++; s.end(); }));
    ups.push(u);
    return u.port;
  };
  const [api, wild, plain] = [await mk('api'), await mk('wild'), await mk('plain')];
  port = await freePort();
  const chain = (match: string, cluster: string) => `
    - filter_chain_match: ${match}
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: ${cluster}, cluster: ${cluster} }`;
  const cluster = (name: string, p: number) => `
  - name: ${name}
    type: STATIC
    load_assignment: { cluster_name: ${name}, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } } } ] } ] }`;
  proxy = await startProxy(`
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:
  - name: sni
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
    filter_chains:${chain('{ server_names: [api.example.com], transport_protocol: tls }', 'api')}${chain('{ server_names: ["*.example.com"], transport_protocol: tls }', 'wild')}${chain('{ transport_protocol: raw_buffer }', 'plain')}
  clusters:${cluster('api', api)}${cluster('wild', wild)}${cluster('plain', plain)}
`);
});

after(async () => {
  await proxy.stop();
  await Promise.all(ups.map((u) => u.close()));
});

/** Resolves when the socket closes, whatever the reason (the handshakes here never finish). */
function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { s.destroy(); reject(new Error('the proxy kept the connection open')); }, 10_000);
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(t); resolve(); });
  });
}

async function tlsHello(servername: string): Promise<void> {
  const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  await closed(s);
}

test('exact SNI, wildcard SNI and plaintext each reach their own backend', async () => {
  await tlsHello('api.example.com');
  await tlsHello('shop.example.com');
  const p = net.connect(port, '127.0.0.1');
  p.write('hello plaintext');
  await closed(p);
  assert.deepEqual(got, { api: 1, wild: 1, plain: 1 });
});

test('an SNI that no chain names is closed without reaching any backend', async () => {
  const before = { ...got };
  await tlsHello('other.net');
  assert.deepEqual(got, before);
  assert.match((await proxy.admin('/stats?filter=no_filter_chain_match')).body, /no_filter_chain_match: 1/);
});
