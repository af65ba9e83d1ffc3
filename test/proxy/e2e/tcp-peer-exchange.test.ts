/**
 * Istio's TCP metadata exchange end to end: a client sidecar (outbound tcp_proxy to clusters
 * with istio.metadata_exchange in their filters) and a server sidecar (inbound mTLS chain with
 * istio.metadata_exchange before istio.stats and tcp_proxy) as two real `tsmesh proxy`
 * processes with SPIFFE certificates from one CA, raw TCP apps behind the server. The apps must
 * see exactly their own bytes; both sidecars must report the same TCP edge with the other's
 * workload labels and principals; a TLS peer that does not speak the exchange is passed
 * through, and a broken frame closes only its own connection.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { freePort, httpUpstream, rawUpstream, request, type Upstream } from '../../support/net.js';
import { runCli, startProxy, writeTemp, type RunningProxy } from '../../support/proxy.js';
import { makeCa, type TestCa } from '../../support/certs.js';
import { ADMIN, cluster, downstreamTls, staticSecrets, TLS_INSPECTOR, upstreamTls } from '../../support/mtls.js';
import { parsePrometheus, select, total, type Sample } from '../../support/prometheus-text.js';

const SERVER = 'spiffe://cluster.local/ns/default/sa/server';
const CLIENT = 'spiffe://cluster.local/ns/default/sa/client';
const ECHO = 'echo.default.svc.cluster.local';
const GREETER = 'greeter.default.svc.cluster.local';
const WEB = 'web.default.svc.cluster.local';
const MAGIC = Buffer.from([0x3d, 0x23, 0x04, 0x67]);

const MX = `{ name: istio.metadata_exchange, typed_config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, value: { protocol: istio-peer-exchange } } }`;
const STATS = `{ name: istio.stats, typed_config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: type.googleapis.com/stats.PluginConfig, value: { tcp_reporting_duration: 1s } } }`;
const HTTP_STATS = `{ name: istio.stats, typed_config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: type.googleapis.com/stats.PluginConfig, value: {} } }`;
const hcm = (prefix: string, c: string) => `{ name: envoy.filters.network.http_connection_manager, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, stat_prefix: ${prefix}, route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: "${c}" } } ] } ] }, http_filters: [ ${HTTP_STATS}, { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ] } }`;
const tcpProxy = (prefix: string, c: string) => `{ name: envoy.filters.network.tcp_proxy, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: ${prefix}, cluster: "${c}" } }`;

function node(name: string, app: string): string {
  return `
node:
  id: sidecar~127.0.0.1~${name}.default~default.svc.cluster.local
  cluster: ${app}.default
  metadata: { NAME: ${name}, NAMESPACE: default, SERVICE_ACCOUNT: ${app}, WORKLOAD_NAME: ${name}, LABELS: { app: ${app}, version: v1 } }`;
}

function listener(name: string, port: number, direction: string, chains: string, inspector = false): string {
  return `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    traffic_direction: ${direction}${inspector ? TLS_INSPECTOR : ''}
    filter_chains:${chains}`;
}

/** The inbound chain Istio generates for a TCP port under mTLS: exchange, stats, tcp_proxy. */
function inboundChain(prefix: string, c: string): string {
  const tlsCtx = downstreamTls('{ prefix: "spiffe://cluster.local/ns/default/" }').replace('alpn_protocols: [h2, http/1.1]', 'alpn_protocols: [h2, http/1.1, istio-peer-exchange]');
  return `
    - filter_chain_match: { transport_protocol: tls }${tlsCtx}
      filters: [ ${MX}, ${STATS}, ${tcpProxy(prefix, c)} ]`;
}

/** A cluster of the client sidecar with the exchange as upstream network filter. */
function mxCluster(name: string, port: number, tlsSocket?: string): string {
  return cluster(name, port, tlsSocket ? { tls: tlsSocket } : {}).replace('connect_timeout: 2s', `connect_timeout: 2s
    filters: [ ${MX} ]`);
}

interface Recorder { port: number; seen: Buffer[]; close(): Promise<void> }
let ca: TestCa;
let echo: Recorder, greeter: Recorder;
let web: Upstream;
let server: RunningProxy, client: RunningProxy;
const port = { echoIn: 0, greetIn: 0, echoOut: 0, greetOut: 0, plainOut: 0, webIn: 0, webOut: 0, webH2Out: 0 };

async function recorder(onConnection: (s: net.Socket, seen: Buffer[]) => void): Promise<Recorder> {
  const seen: Buffer[] = [];
  const u = await rawUpstream((s) => onConnection(s, seen));
  return { port: u.port, seen, close: () => u.close() };
}

before(async () => {
  ca = makeCa();
  const serverId = { ...ca.issue({ uri: [SERVER] }), caPem: ca.certPem };
  const clientId = { ...ca.issue({ uri: [CLIENT] }), caPem: ca.certPem };
  // The echo records every byte it gets, per connection order, and sends it back.
  echo = await recorder((s, seen) => s.on('data', (d: Buffer) => { seen.push(d); s.write(d); }).on('end', () => s.end()));
  // A server-first protocol: it speaks before the client says anything.
  greeter = await recorder((s, seen) => {
    s.write('220 greeter ready\r\n');
    s.on('data', (d: Buffer) => { seen.push(d); if (Buffer.concat(seen).toString().endsWith('QUIT\r\n')) s.end('221 bye\r\n'); });
  });
  web = await httpUpstream((_req, res) => res.end('web'));
  for (const k of Object.keys(port) as (keyof typeof port)[]) port[k] = await freePort();
  const webTls = downstreamTls('{ prefix: "spiffe://cluster.local/ns/default/" }');
  server = await startProxy(`${node('server-v1', 'server')}
${ADMIN}
static_resources:${staticSecrets(serverId)}
  listeners:${listener('echo_in', port.echoIn, 'INBOUND', inboundChain('echo_in', 'inbound|9000||'), true)}${listener('greet_in', port.greetIn, 'INBOUND', inboundChain('greet_in', 'inbound|9001||'), true)}${listener('web_in', port.webIn, 'INBOUND', `
    - filter_chain_match: { transport_protocol: tls }${webTls}
      filters: [ ${hcm('web_in', 'inbound|80||')} ]`, true)}
  clusters:${cluster('inbound|9000||', echo.port)}${cluster('inbound|9001||', greeter.port)}${cluster('inbound|80||', web.port)}
`, { concurrency: 2 });
  const sni = (p: number, host: string) => `outbound_.${p}_._.${host}`;
  const out = (name: string, p: number, c: string) => listener(name, p, 'OUTBOUND', `
    - filters: [ ${STATS}, ${tcpProxy(name, c)} ]`);
  client = await startProxy(`${node('client-v1', 'client')}
${ADMIN}
static_resources:${staticSecrets(clientId)}
  listeners:${out('echo_out', port.echoOut, `outbound|9000||${ECHO}`)}${out('greet_out', port.greetOut, `outbound|9001||${GREETER}`)}${out('plain_out', port.plainOut, 'outbound|9000||plain')}${listener('web_out', port.webOut, 'OUTBOUND', `
    - filters: [ ${hcm('web_out', `outbound|80||${WEB}`)} ]`)}${listener('web_h2_out', port.webH2Out, 'OUTBOUND', `
    - filters: [ ${hcm('web_h2_out', `outbound|80|h2|${WEB}`)} ]`)}
  clusters:${cluster(`outbound|80||${WEB}`, port.webIn, { tls: upstreamTls(SERVER, sni(80, WEB)) })}${cluster(`outbound|80|h2|${WEB}`, port.webIn, { tls: upstreamTls(SERVER, sni(80, WEB), ['istio-peer-exchange', 'istio', 'h2']), http2: true })}${mxCluster(`outbound|9000||${ECHO}`, port.echoIn, upstreamTls(SERVER, sni(9000, ECHO)))}${mxCluster(`outbound|9001||${GREETER}`, port.greetIn, upstreamTls(SERVER, sni(9001, GREETER)))}${mxCluster('outbound|9000||plain', echo.port)}
`);
});

after(async () => {
  await Promise.all([client?.stop(), server?.stop()]);
  await Promise.all([echo?.close(), greeter?.close(), web?.close()]);
  ca?.cleanup();
});

async function scrape(p: RunningProxy): Promise<Sample[]> {
  const r = await p.admin('/stats/prometheus');
  assert.equal(r.status, 200);
  return parsePrometheus(r.body);
}

async function stat(p: RunningProxy, name: string): Promise<number> {
  const body = (await p.admin(`/stats?filter=${encodeURIComponent(`^${name.replace(/[.|]/g, '\\$&')}$`)}`)).body;
  const m = /: (\d+)/.exec(body);
  return m ? Number(m[1]) : 0;
}

/** Polls until `probe` holds (reports land asynchronously, from worker threads). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads from `s` until `n` bytes have arrived (or it closes). */
async function readBytes(s: net.Socket, n: number, got: Buffer[] = []): Promise<Buffer> {
  const deadline = Date.now() + 15_000;
  while (Buffer.concat(got).length < n && !s.destroyed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return Buffer.concat(got);
}

test('a TCP stream through the sidecar pair: the app sees exactly its bytes, even ones that look like the exchange', async () => {
  const before = echo.seen.length;
  const sock = net.connect(port.echoOut, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  await once(sock, 'connect');
  // The client speaks first and at once: its bytes race the exchange on the upstream connection.
  const parts = [Buffer.concat([MAGIC, Buffer.from([0, 0, 0, 4]), Buffer.from('fake')]), Buffer.from('hello '), Buffer.alloc(70_000, 0x61), Buffer.from('\x00end')];
  for (const p of parts) sock.write(p);
  const sent = Buffer.concat(parts);
  const back = await readBytes(sock, sent.length, got);
  assert.equal(back.length, sent.length);
  assert.ok(back.equals(sent), 'the client gets its own bytes back, nothing added');
  assert.ok(Buffer.concat(echo.seen.slice(before)).equals(sent), 'the app saw exactly the client bytes');
  sock.end();
  await once(sock, 'close');

  const edge = { request_protocol: 'tcp', source_workload: 'client-v1', source_app: 'client', source_workload_namespace: 'default', destination_workload: 'server-v1', destination_app: 'server', destination_workload_namespace: 'default', destination_version: 'v1' };
  await until('both reporters', async () => total(await scrape(client), 'istio_tcp_connections_closed_total', { ...edge, reporter: 'source' }) === 1
    && total(await scrape(server), 'istio_tcp_connections_closed_total', { ...edge, reporter: 'destination' }) === 1);
  const src = select(await scrape(client), 'istio_tcp_connections_opened_total', { ...edge, reporter: 'source' });
  const dst = select(await scrape(server), 'istio_tcp_connections_opened_total', { ...edge, reporter: 'destination' });
  assert.equal(src.length, 1);
  assert.equal(dst.length, 1);
  // Client side: principals from the upstream mTLS certificates; Istio's source reporter says unknown for the policy.
  assert.deepEqual([src[0]!.labels['source_principal'], src[0]!.labels['destination_principal'], src[0]!.labels['connection_security_policy'], src[0]!.labels['destination_service']], [CLIENT, SERVER, 'unknown', ECHO]);
  assert.deepEqual([dst[0]!.labels['source_principal'], dst[0]!.labels['destination_principal'], dst[0]!.labels['connection_security_policy']], [CLIENT, SERVER, 'mutual_tls']);
  // The same edge from both ends.
  for (const k of Object.keys(edge)) assert.equal(src[0]!.labels[k], dst[0]!.labels[k], k);
  assert.equal(total(await scrape(client), 'istio_tcp_received_bytes_total', { ...edge, reporter: 'source' }), sent.length);
  assert.equal(total(await scrape(client), 'istio_tcp_sent_bytes_total', { ...edge, reporter: 'source' }), sent.length);
  assert.equal(total(await scrape(server), 'istio_tcp_received_bytes_total', { ...edge, reporter: 'destination' }), sent.length);
  assert.equal(total(await scrape(server), 'istio_tcp_sent_bytes_total', { ...edge, reporter: 'destination' }), sent.length);
  assert.ok(await stat(client, 'metadata_exchange.alpn_protocol_found') >= 1);
  assert.ok(await stat(server, 'metadata_exchange.alpn_protocol_found') >= 1);
  assert.ok(await stat(server, 'metadata_exchange.metadata_added') >= 1);
});

test('a server-first protocol: the greeting arrives without the client saying anything, and nothing else', async () => {
  const sock = net.connect(port.greetOut, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  await once(sock, 'connect');
  assert.equal((await readBytes(sock, 19, got)).toString(), '220 greeter ready\r\n');
  sock.write('QUIT\r\n');
  await once(sock, 'end');
  assert.equal(Buffer.concat(got).toString(), '220 greeter ready\r\n221 bye\r\n');
  sock.destroy();
  assert.equal(Buffer.concat(greeter.seen).toString(), 'QUIT\r\n');
  await until('the greeter edge', async () => total(await scrape(client), 'istio_tcp_connections_opened_total', { reporter: 'source', destination_workload: 'server-v1', destination_service: GREETER }) === 1);
});

test('no ALPN, no exchange: a plaintext cluster with the filter and a TLS client without the ALPN pass through untouched', async () => {
  const notFound = await stat(client, 'metadata_exchange.alpn_protocol_not_found');
  const sock = net.connect(port.plainOut, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  await once(sock, 'connect');
  sock.write('plain bytes');
  assert.equal((await readBytes(sock, 11, got)).toString(), 'plain bytes');
  sock.destroy();
  assert.equal(await stat(client, 'metadata_exchange.alpn_protocol_not_found'), notFound + 1);
  await until('the plaintext edge', async () => total(await scrape(client), 'istio_tcp_connections_opened_total', { reporter: 'source', destination_workload: 'unknown', destination_principal: 'unknown', source_principal: 'unknown' }) === 1);

  const clientId = ca.issue({ uri: [CLIENT] });
  const t = tls.connect({ host: '127.0.0.1', port: port.echoIn, ca: ca.certPem, cert: clientId.certPem, key: clientId.keyPem, ALPNProtocols: ['h2'], servername: 'x', checkServerIdentity: () => undefined });
  await once(t, 'secureConnect');
  assert.equal(t.alpnProtocol, 'h2');
  const tgot: Buffer[] = [];
  t.on('data', (d: Buffer) => tgot.push(d));
  t.write('no exchange here');
  assert.equal((await readBytes(t, 16, tgot)).toString(), 'no exchange here');
  t.destroy();
  await until('the destination edge without a peer', async () => total(await scrape(server), 'istio_tcp_connections_opened_total', { reporter: 'destination', source_workload: 'unknown', source_principal: CLIENT, connection_security_policy: 'mutual_tls' }) >= 1);
});

test('a TLS peer that negotiates the exchange but does not speak it gets the server frame and its bytes passed on; an oversize frame closes only its connection', async () => {
  const clientId = ca.issue({ uri: [CLIENT] });
  const dial = async () => {
    const t = tls.connect({ host: '127.0.0.1', port: port.echoIn, ca: ca.certPem, cert: clientId.certPem, key: clientId.keyPem, ALPNProtocols: ['istio-peer-exchange'], servername: 'x', checkServerIdentity: () => undefined });
    await once(t, 'secureConnect');
    assert.equal(t.alpnProtocol, 'istio-peer-exchange');
    const got: Buffer[] = [];
    t.on('data', (d: Buffer) => got.push(d));
    return { t, got };
  };
  const seenBefore = echo.seen.length;
  const a = await dial();
  a.t.write('GET / HTTP/1.1\r\n\r\n');
  // As Istio's server does, it sends its own frame first; the app's answer follows.
  await until('the frame and the echo', async () => Buffer.concat(a.got).toString('latin1').endsWith('GET / HTTP/1.1\r\n\r\n'));
  const back = Buffer.concat(a.got);
  assert.ok(back.subarray(0, 4).equals(MAGIC));
  assert.equal(back.length, 8 + back.readUInt32BE(4) + 18);
  a.t.destroy();
  assert.equal(Buffer.concat(echo.seen.slice(seenBefore)).toString(), 'GET / HTTP/1.1\r\n\r\n');
  assert.ok(await stat(server, 'metadata_exchange.initial_header_not_found') >= 1);

  const b = await dial();
  const header = Buffer.alloc(8);
  MAGIC.copy(header);
  header.writeUInt32BE(0x7fffffff, 4);
  b.t.write(header);
  b.t.write('never for the app');
  if (!b.t.closed) await once(b.t, 'close');
  assert.equal(Buffer.concat(echo.seen.slice(seenBefore)).toString(), 'GET / HTTP/1.1\r\n\r\n');
  // The proxy is fine: the next connection through the pair works.
  const sock = net.connect(port.echoOut, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  await once(sock, 'connect');
  sock.write('still here');
  assert.equal((await readBytes(sock, 10, got)).toString(), 'still here');
  sock.destroy();
});

test('HTTP/1.1 and HTTP/2 over mTLS: the client sidecar reports the principals of the upstream connection, as Istio does', async () => {
  for (const p of [port.webOut, port.webOut, port.webH2Out]) assert.equal((await request(p, { path: '/', headers: { host: WEB } })).status, 200);
  const want = { reporter: 'source', source_workload: 'client-v1', destination_workload: 'server-v1', destination_service: WEB, source_principal: CLIENT, destination_principal: SERVER, connection_security_policy: 'unknown', response_code: '200' };
  await until('client-side HTTP metrics with principals', async () => total(await scrape(client), 'istio_requests_total', want) === 3);
  await until('server-side HTTP metrics', async () => total(await scrape(server), 'istio_requests_total', { reporter: 'destination', source_workload: 'client-v1', source_principal: CLIENT, destination_principal: SERVER, connection_security_policy: 'mutual_tls' }) === 3);
});

test('a bootstrap with an exchange config tsmesh cannot honour is refused with the field path', async () => {
  const p = await freePort();
  const bad = (listenerValue: string, clusterValue: string) => writeTemp('mx-bad.yaml', `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: ${p} } }
    filter_chains:
    - filters:
      - { name: istio.metadata_exchange, typed_config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, value: ${listenerValue} } }
      - ${tcpProxy('l', 'c')}
  clusters:${cluster('c', echo.port).replace('connect_timeout: 2s', `connect_timeout: 2s
    filters: [ { name: istio.metadata_exchange, typed_config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, value: ${clusterValue} } } ]`)}
`);
  const ok = '{ protocol: istio-peer-exchange }';
  let r = await runCli(['proxy', '-c', bad('{ protocol: istio-peer-exchange, enable_discovery: true }', ok), '--validate']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /filter_chains\[0\]\.filters\[0\]\.typed_config\.value\.enable_discovery: workload discovery is not supported/);
  r = await runCli(['proxy', '-c', bad(ok, '{}'), '--validate']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /clusters\[0\]\.filters\[0\]\.typed_config\.value\.protocol: expected a non-empty ALPN/);
  r = await runCli(['proxy', '-c', bad(ok, ok), '--validate']);
  assert.equal(r.code, 0, r.stderr);
});

