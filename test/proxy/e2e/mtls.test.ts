import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import { freePort, httpUpstream, rawUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { makeCa, type TestCa } from '../../support/certs.js';
import { ADMIN, cluster, downstreamTls, hcm, HCM_XFCC, listener, staticSecrets, tcpProxy, upstreamTls } from '../../support/mtls.js';

// Two sidecars talking mTLS as Istio sets them up: client proxy -> TLS (SPIFFE identities from
// one CA) -> server proxy -> plaintext app, for HTTP/1.1, HTTP/2 and TCP; and what the server
// sidecar refuses. The server sidecar serves on two worker threads.
const SERVER = 'spiffe://cluster.local/ns/default/sa/server';
const CLIENT = 'spiffe://cluster.local/ns/default/sa/client';
let ca: TestCa, otherCa: TestCa;
let app: Upstream;
let echo: { port: number; close(): Promise<void> };
let server: RunningProxy, client: RunningProxy;
const port = { strict: 0, permissive: 0, tcpIn: 0, h1: 0, h2: 0, tcpOut: 0, wrongSan: 0 };

before(async () => {
  ca = makeCa();
  otherCa = makeCa('other-ca');
  const serverId = { ...ca.issue({ uri: [SERVER] }), caPem: ca.certPem };
  const clientId = { ...ca.issue({ cn: 'client', uri: [CLIENT], dns: ['client.default.svc'] }), caPem: ca.certPem };
  app = await httpUpstream((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ xfcc: req.headers['x-forwarded-client-cert'] ?? null, proto: req.headers['x-forwarded-proto'] ?? null, version: req.httpVersion }));
  });
  echo = await rawUpstream((s) => s.pipe(s));
  for (const k of Object.keys(port) as (keyof typeof port)[]) port[k] = await freePort();
  const nsDefault = '{ prefix: "spiffe://cluster.local/ns/default/" }';
  server = await startProxy(`
${ADMIN}
static_resources:${staticSecrets(serverId)}
  listeners:${listener('strict', port.strict, `
    - filter_chain_match: { transport_protocol: tls }${downstreamTls(nsDefault)}
      filters: [ ${hcm('inbound', 'app', HCM_XFCC)} ]`, true)}${listener('permissive', port.permissive, `
    - filter_chain_match: { transport_protocol: tls }${downstreamTls(nsDefault)}
      filters: [ ${hcm('inbound_tls', 'app', HCM_XFCC)} ]
    - filter_chain_match: { transport_protocol: raw_buffer }
      filters: [ ${hcm('inbound_plain', 'app', HCM_XFCC)} ]`, true)}${listener('tcp_in', port.tcpIn, `
    - filter_chain_match: { transport_protocol: tls }${downstreamTls(nsDefault)}
      filters: [ ${tcpProxy('tcp_in', 'echo')} ]`, true)}
  clusters:${cluster('app', app.port)}${cluster('echo', echo.port)}
`, { concurrency: 2 });
  const sni = 'outbound_.80_._.server.default.svc.cluster.local';
  client = await startProxy(`
${ADMIN}
static_resources:${staticSecrets(clientId)}
  listeners:${listener('h1', port.h1, `
    - filters: [ ${hcm('out_h1', 'outbound|80||server')} ]`)}${listener('h2', port.h2, `
    - filters: [ ${hcm('out_h2', 'outbound|80|h2|server')} ]`)}${listener('tcp_out', port.tcpOut, `
    - filters: [ ${tcpProxy('tcp_out', 'outbound|9000||server')} ]`)}${listener('wrong_san', port.wrongSan, `
    - filters: [ ${hcm('out_wrong', 'wrong-san')} ]`)}
  clusters:${cluster('outbound|80||server', port.strict, { tls: upstreamTls(SERVER, sni) })}${cluster('outbound|80|h2|server', port.strict, { tls: upstreamTls(SERVER, sni, ['istio-peer-exchange', 'istio', 'h2']), http2: true })}${cluster('outbound|9000||server', port.tcpIn, { tls: upstreamTls(SERVER, sni) })}${cluster('wrong-san', port.strict, { tls: upstreamTls('spiffe://cluster.local/ns/default/sa/someone-else', sni) })}${cluster('checked', port.strict, { tls: upstreamTls(SERVER, sni) }).replace('connect_timeout: 2s', `connect_timeout: 2s
    health_checks: [ { timeout: 2s, interval: 0.5s, no_traffic_interval: 0.5s, unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: /healthz } } ]`)}
`);
});

after(async () => {
  await Promise.all([server?.stop(), client?.stop()]);
  await Promise.all([app?.close(), echo?.close()]);
  ca?.cleanup();
  otherCa?.cleanup();
});

async function stat(p: RunningProxy, name: string): Promise<number> {
  const body = (await p.admin(`/stats?filter=${encodeURIComponent(`^${name.replace(/[.|]/g, '\\$&')}$`)}`)).body;
  const m = /: (\d+)/.exec(body);
  return m ? Number(m[1]) : 0;
}

const XFCC = new RegExp(`^By=${SERVER};Hash=[0-9a-f]{64};Subject="CN=client,O=tsmesh test";URI=${CLIENT};DNS=client\\.default\\.svc$`);

test('HTTP/1.1 through the sidecar pair: the app sees the client identity in x-forwarded-client-cert', async () => {
  const r = await request(port.h1, { path: '/hello' });
  assert.equal(r.status, 200, r.body);
  const seen = JSON.parse(r.body) as { xfcc: string; proto: string };
  assert.match(seen.xfcc, XFCC);
  // The client sidecar set x-forwarded-proto (its client spoke plaintext); the inner hop keeps it.
  assert.equal(seen.proto, 'http');
  assert.ok(await stat(client, 'cluster.outbound|80||server.ssl.handshake') >= 1);
  assert.ok(await stat(server, 'listener.127.0.0.1_' + port.strict + '.ssl.handshake') >= 1);
});

test('HTTP/2 between the sidecars (ALPN h2 over mTLS)', async () => {
  const before = await stat(server, 'http.inbound.downstream_rq_http2_total');
  const r = await request(port.h2, { path: '/h2' });
  assert.equal(r.status, 200, r.body);
  assert.match((JSON.parse(r.body) as { xfcc: string }).xfcc, XFCC);
  assert.equal(await stat(server, 'http.inbound.downstream_rq_http2_total'), before + 1);
});

test('TCP through the sidecar pair', async () => {
  const s = net.connect(port.tcpOut, '127.0.0.1');
  s.write('ping over mTLS');
  const got = await new Promise<string>((resolve, reject) => {
    let text = '';
    s.on('data', (d) => { text += d; if (text.length >= 14) { s.destroy(); resolve(text); } });
    s.on('error', reject);
    s.on('close', () => resolve(text));
  });
  assert.equal(got, 'ping over mTLS');
});

test('a server certificate whose SAN is not the expected one is a connect failure (503 UF)', async () => {
  const r = await request(port.wrongSan, { path: '/' });
  assert.equal(r.status, 503);
  assert.ok(await stat(client, 'cluster.wrong-san.ssl.fail_verify_san') >= 1);
  assert.ok(await stat(client, 'cluster.wrong-san.upstream_cx_connect_fail') >= 1);
});

/** One HTTP/1.1 GET over TLS straight to a server-sidecar listener; '' when the connection is refused. */
function tlsGet(p: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: p, ca: ca.certPem, checkServerIdentity: () => undefined, ...opts }, () => {
      s.write('GET /direct HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n');
    });
    let text = '';
    const t = setTimeout(() => s.destroy(), 10_000);
    s.on('data', (d) => { text += d; });
    s.on('error', () => { /* close follows */ });
    s.on('close', () => { clearTimeout(t); resolve(text); });
  });
}

test('a client certificate from the mesh CA is served; other CA, expired, wrong SPIFFE ID and none are refused', async () => {
  const good = ca.issue({ uri: [CLIENT] });
  assert.match(await tlsGet(port.strict, { cert: good.certPem, key: good.keyPem }), /^HTTP\/1\.1 200/);
  const listenerStat = (s: string) => stat(server, `listener.127.0.0.1_${port.strict}.ssl.${s}`);
  const verifyErrors = await listenerStat('fail_verify_error');
  const foreign = otherCa.issue({ uri: [CLIENT] });
  assert.equal(await tlsGet(port.strict, { cert: foreign.certPem, key: foreign.keyPem }), '');
  const expired = ca.issue({ uri: [CLIENT], days: -1 });
  assert.equal(await tlsGet(port.strict, { cert: expired.certPem, key: expired.keyPem }), '');
  assert.equal(await listenerStat('fail_verify_error'), verifyErrors + 2);
  const stranger = ca.issue({ uri: ['spiffe://cluster.local/ns/other/sa/client'] });
  assert.equal(await tlsGet(port.strict, { cert: stranger.certPem, key: stranger.keyPem }), '');
  assert.equal(await listenerStat('fail_verify_san'), 1);
  assert.equal(await tlsGet(port.strict, {}), '');
  assert.equal(await listenerStat('fail_verify_no_cert'), 1);
  assert.equal(app.seen.filter((s) => s.url === '/direct').length, 1, 'only the good client reached the app');
});

test('plaintext to an mTLS-only (STRICT) listener is refused', async () => {
  const r = await new Promise<string>((resolve) => {
    const s = net.connect(port.strict, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: app\r\n\r\n'));
    let text = '';
    s.on('data', (d) => { text += d; });
    s.on('error', () => {});
    s.on('close', () => resolve(text));
  });
  assert.equal(r, '');
  assert.ok(await stat(server, `listener.127.0.0.1_${port.strict}.no_filter_chain_match`) >= 1);
});

test('a PERMISSIVE listener (tls + raw_buffer chains) serves plaintext and mTLS clients', async () => {
  const plain = await request(port.permissive, { path: '/plain', headers: { 'x-forwarded-client-cert': 'By=forged' } });
  assert.equal(plain.status, 200);
  assert.equal((JSON.parse(plain.body) as { xfcc: string | null }).xfcc, null, 'a forged XFCC from a plaintext client is removed');
  const good = ca.issue({ cn: 'client', uri: [CLIENT] });
  const text = await tlsGet(port.permissive, { cert: good.certPem, key: good.keyPem });
  assert.match(text, /^HTTP\/1\.1 200/);
  assert.match(text, /"proto":"https"/, 'a request over TLS has scheme https');
  assert.match(text, /"xfcc":"By=spiffe:\/\/cluster.local\/ns\/default\/sa\/server;Hash=[0-9a-f]{64};Subject=\\"CN=client,O=tsmesh test\\";URI=spiffe:\/\/cluster.local\/ns\/default\/sa\/client"/);
  // Closed TLS connections leave the listener's books (the raw socket closes with the TLS one).
  assert.ok(await stat(server, `listener.127.0.0.1_${port.permissive}.downstream_cx_total`) >= 2);
  const deadline = Date.now() + 10_000;
  while (await stat(server, `listener.127.0.0.1_${port.permissive}.downstream_cx_active`) !== 0) {
    assert.ok(Date.now() < deadline, 'downstream_cx_active never went back to 0');
    await new Promise((r) => setTimeout(r, 50));
  }
});

test('/certs lists the TLS contexts\' CA and chain; /config_dump shows the secrets with private keys redacted', async () => {
  const certs = JSON.parse((await server.admin('/certs')).body) as { certificates: { ca_cert: Record<string, unknown>[]; cert_chain: Record<string, unknown>[] }[] };
  assert.equal(certs.certificates.length, 1, 'every chain uses the same secrets: shown once');
  const [entry] = certs.certificates;
  const caSerial = new X509Certificate(ca.certPem).serialNumber.toLowerCase();
  assert.equal(entry!.ca_cert[0]!.serial_number, caSerial);
  assert.equal(entry!.ca_cert[0]!.path, '<inline>');
  const leaf = entry!.cert_chain[0]!;
  assert.deepEqual(leaf.subject_alt_names, [{ uri: SERVER }]);
  assert.match(String(leaf.days_until_expiration), /^[01]$/);
  assert.match(String(leaf.valid_from), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Date.parse(String(leaf.expiration_time)) > Date.now());

  const dumpText = (await server.admin('/config_dump')).body;
  assert.doesNotMatch(dumpText, /PRIVATE KEY/, 'no private key in the dump');
  const dump = JSON.parse(dumpText) as { configs: { '@type': string; staticSecrets?: { name: string; secret: { tlsCertificate?: { privateKey: { inlineString: string } } } }[] }[] };
  const secrets = dump.configs.find((c) => c['@type'].endsWith('SecretsConfigDump'));
  assert.deepEqual(secrets?.staticSecrets?.map((s) => s.name).sort(), ['ROOTCA', 'default']);
  assert.equal(secrets?.staticSecrets?.find((s) => s.name === 'default')?.secret.tlsCertificate?.privateKey.inlineString, '[redacted]');
});

test('active health checks ride the cluster\'s mTLS transport socket', async () => {
  assert.ok(await stat(client, 'cluster.checked.health_check.success') >= 1);
  const check = app.seen.find((r) => r.url === '/healthz');
  assert.match(String(check?.headers['x-forwarded-client-cert']), XFCC, 'the check arrived over mTLS with the client sidecar\'s certificate');
});
