import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { createHash, X509Certificate } from 'node:crypto';
import { freePort, httpUpstream, type Upstream } from '../../support/net.js';
import { makeCa, type TestCa } from '../../support/certs.js';
import { inProcessProxy } from '../../support/in-process-proxy.js';
import { cluster, downstreamTls, hcm, HCM_XFCC, listener, upstreamTls } from '../../support/mtls.js';

// The secrets come from the proxy's in-process SDS source (sds-grpc), set on instance.secrets as
// the proxy's agent does: a listener waits (warming) for them, and a rotation under load reaches
// new connections without failing a request or dropping an open connection.
const SERVER = 'spiffe://cluster.local/ns/default/sa/server';
const CLIENT = 'spiffe://cluster.local/ns/default/sa/client';
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const hashOf = (pem: string): string => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  });
}

/**
 * A CA, an app that answers with the XFCC header it got, and a server sidecar in front of it
 * that requires CLIENT's certificate (its secrets not set yet).
 */
async function xfccServer(): Promise<{ ca: TestCa; sPort: number; cPort: number; server: Awaited<ReturnType<typeof inProcessProxy>> }> {
  const ca: TestCa = makeCa();
  cleanups.push(() => ca.cleanup());
  const app: Upstream = await httpUpstream((req, res) => res.end(String(req.headers['x-forwarded-client-cert'] ?? '')));
  cleanups.push(() => app.close());
  const [sPort, cPort] = [await freePort(), await freePort()];
  const server = await inProcessProxy(`
static_resources:
  listeners:${listener('inbound', sPort, `
    - filter_chain_match: { transport_protocol: tls }${downstreamTls('{ exact: "' + CLIENT + '" }')}
      filters: [ ${hcm('inbound', 'app', HCM_XFCC)} ]`, true)}
  clusters:${cluster('app', app.port)}
`);
  cleanups.push(() => server.close());
  return { ca, sPort, cPort, server };
}

test('listeners warm until their secrets arrive; rotation under load fails no request and keeps open connections', async () => {
  const { ca, sPort, cPort, server } = await xfccServer();
  const clientCluster = cluster('outbound|80||server', sPort, { tls: upstreamTls(SERVER, 'outbound_.80_._.server') }).replace('connect_timeout: 2s', `connect_timeout: 2s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, common_http_protocol_options: { max_requests_per_connection: 10 }, explicit_http_config: { http_protocol_options: {} } }`);
  const client = await inProcessProxy(`
static_resources:
  listeners:${listener('outbound', cPort, `
    - filters: [ ${hcm('outbound', 'outbound|80||server')} ]`)}
  clusters:${clientCluster}
`);
  cleanups.push(() => client.close());

  // Warming: no secret yet, so the TLS listener does not accept.
  let bound = false;
  const listening = server.instance.listen().then((p) => { bound = true; return p; });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(bound, false);
  assert.equal(await refused(sPort), true, 'a listener warming on its secrets is not bound');
  const serverV1 = ca.issue({ uri: [SERVER] });
  const clientV1 = ca.issue({ uri: [CLIENT] });
  server.instance.secrets.setValidationContext('ROOTCA', { trustedCaPem: ca.certPem });
  server.instance.secrets.setTlsCertificate('default', { certificateChainPem: serverV1.certPem, privateKeyPem: serverV1.keyPem });
  await listening;
  client.instance.secrets.setValidationContext('ROOTCA', { trustedCaPem: ca.certPem });
  client.instance.secrets.setTlsCertificate('default', { certificateChainPem: clientV1.certPem, privateKeyPem: clientV1.keyPem });
  await client.instance.listen();

  // A connection opened before the rotation, kept open across it.
  const direct = tls.connect({ host: '127.0.0.1', port: sPort, ca: ca.certPem, cert: clientV1.certPem, key: clientV1.keyPem, checkServerIdentity: () => undefined });
  cleanups.push(() => { direct.destroy(); });
  await new Promise<void>((resolve, reject) => { direct.once('secureConnect', resolve); direct.once('error', reject); });
  const directGet = (): Promise<string> => new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d;
      const end = text.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(text);
      if (end >= 0 && len && text.length >= end + 4 + Number(len[1])) { direct.off('data', onData); resolve(text); }
    };
    direct.on('data', onData);
    direct.once('error', reject);
    direct.write('GET /direct HTTP/1.1\r\nhost: app\r\n\r\n');
  });
  assert.match(await directGet(), /^HTTP\/1\.1 200/);

  // Continuous load through the client sidecar; upstream connections cycle every 10 requests.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  cleanups.push(() => agent.destroy());
  const results: { rotated: boolean; status: number; xfcc: string }[] = [];
  let rotated = false, stop = false;
  const one = (): Promise<void> => new Promise((resolve) => {
    const phase = rotated;
    const req = http.get({ host: '127.0.0.1', port: cPort, path: '/load', agent }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { results.push({ rotated: phase, status: res.statusCode ?? 0, xfcc: body }); resolve(); });
    });
    req.on('error', (e) => { results.push({ rotated: phase, status: 0, xfcc: e.message }); resolve(); });
  });
  const loops = Array.from({ length: 8 }, async () => { while (!stop) await one(); });
  const until = async (cond: () => boolean): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!cond()) { if (Date.now() > deadline) throw new Error('load did not progress'); await new Promise((r) => setTimeout(r, 20)); }
  };
  await until(() => results.length >= 100);
  const serverV2 = ca.issue({ uri: [SERVER] });
  const clientV2 = ca.issue({ uri: [CLIENT] });
  server.instance.secrets.setTlsCertificate('default', { certificateChainPem: serverV2.certPem, privateKeyPem: serverV2.keyPem });
  client.instance.secrets.setTlsCertificate('default', { certificateChainPem: clientV2.certPem, privateKeyPem: clientV2.keyPem });
  rotated = true;
  const at = results.length;
  await until(() => results.length >= at + 200);
  stop = true;
  await Promise.all(loops);

  const failed = results.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], 'no request failed across the rotation');
  const after = new Set(results.filter((r) => r.rotated).map((r) => /Hash=([0-9a-f]+)/.exec(r.xfcc)?.[1]));
  assert.ok(after.has(hashOf(clientV2.certPem)), 'new upstream connections present the new client certificate');
  assert.ok(results.filter((r) => !r.rotated).every((r) => r.xfcc.includes(hashOf(clientV1.certPem))));
  // The connection opened before the rotation still works, and new handshakes get the new server cert.
  assert.match(await directGet(), /^HTTP\/1\.1 200/);
  const fresh = tls.connect({ host: '127.0.0.1', port: sPort, ca: ca.certPem, cert: clientV2.certPem, key: clientV2.keyPem, checkServerIdentity: () => undefined });
  await new Promise<void>((resolve, reject) => { fresh.once('secureConnect', resolve); fresh.once('error', reject); });
  assert.equal(fresh.getPeerX509Certificate()?.fingerprint256, new X509Certificate(serverV2.certPem).fingerprint256);
  fresh.destroy();
  assert.ok(server.stat(`listener.127.0.0.1_${sPort}.ssl.handshake`) >= 3);
});

for (const protocol of ['HTTP/1.1', 'HTTP/2'] as const) test(`an upstream ${protocol} connection takes no request past its certificate's expiry: the next one handshakes with the renewed certificate`, async () => {
  const { ca, sPort, cPort, server } = await xfccServer();
  const client = await inProcessProxy(`
static_resources:
  listeners:${listener('outbound', cPort, `
    - filters: [ ${hcm('outbound', 'outbound|80||server')} ]`)}
  clusters:${cluster('outbound|80||server', sPort, { tls: upstreamTls(SERVER, 'outbound_.80_._.server') }).replace('connect_timeout: 2s', `connect_timeout: 2s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: { ${protocol === 'HTTP/2' ? 'http2_protocol_options' : 'http_protocol_options'}: {} } }`)}
`);
  cleanups.push(() => client.close());
  const serverId = ca.issue({ uri: [SERVER] });
  server.instance.secrets.setValidationContext('ROOTCA', { trustedCaPem: ca.certPem });
  server.instance.secrets.setTlsCertificate('default', { certificateChainPem: serverId.certPem, privateKeyPem: serverId.keyPem });
  await server.instance.listen();
  const shortLived = ca.issueShortLived({ uri: [CLIENT], seconds: 3 });
  const expiresAt = Date.parse(new X509Certificate(shortLived.certPem).validTo);
  client.instance.secrets.setValidationContext('ROOTCA', { trustedCaPem: ca.certPem });
  client.instance.secrets.setTlsCertificate('default', { certificateChainPem: shortLived.certPem, privateKeyPem: shortLived.keyPem });
  await client.instance.listen();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  cleanups.push(() => agent.destroy());
  const get = (): Promise<string> => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: cPort, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}: ${body}`))));
    }).on('error', reject);
  });

  assert.match(await get(), new RegExp(`Hash=${hashOf(shortLived.certPem)}`));
  // The agent renews well before expiry; as in Envoy, the open connection keeps its certificate.
  const renewed = ca.issue({ uri: [CLIENT] });
  client.instance.secrets.setTlsCertificate('default', { certificateChainPem: renewed.certPem, privateKeyPem: renewed.keyPem });
  assert.match(await get(), new RegExp(`Hash=${hashOf(shortLived.certPem)}`));
  assert.equal(client.stat('cluster.outbound|80||server.upstream_cx_total'), 1);
  // Past the first certificate's notAfter, that connection takes no more requests.
  await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 100));
  assert.match(await get(), new RegExp(`Hash=${hashOf(renewed.certPem)}`));
  assert.equal(client.stat('cluster.outbound|80||server.upstream_cx_total'), 2);
  assert.equal(server.stat(`listener.127.0.0.1_${sPort}.ssl.handshake`), 2);
});

test('a listener update that needs a missing secret warms while the old version keeps serving', async () => {
  const ca: TestCa = makeCa();
  cleanups.push(() => ca.cleanup());
  const app: Upstream = await httpUpstream((_req, res) => res.end('app'));
  cleanups.push(() => app.close());
  const port = await freePort();
  const yaml = (chains: string): string => `
static_resources:
  listeners:${listener('inbound', port, chains, true)}
  clusters:${cluster('app', app.port)}
`;
  const proxy = await inProcessProxy(yaml(`
    - filters: [ ${hcm('plain', 'app')} ]`));
  cleanups.push(() => proxy.close());
  await proxy.instance.listen();
  const plainGet = (): Promise<number> => new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', () => resolve(0));
  });
  assert.equal(await plainGet(), 200);
  // The new version accepts mTLS only, on secrets nobody has set yet.
  const next = await inProcessProxy(yaml(`
    - filter_chain_match: { transport_protocol: tls }${downstreamTls(undefined)}
      filters: [ ${hcm('mtls', 'app')} ]`));
  cleanups.push(() => next.close());
  proxy.instance.updateListener(next.instance.spec.listeners[0]!);
  assert.equal(await plainGet(), 200, 'the old version serves while the new one warms');
  const id = ca.issue({ uri: [SERVER] });
  proxy.instance.secrets.setValidationContext('ROOTCA', { trustedCaPem: ca.certPem });
  proxy.instance.secrets.setTlsCertificate('default', { certificateChainPem: id.certPem, privateKeyPem: id.keyPem });
  assert.equal(await plainGet(), 0, 'once warm, the update applies: plaintext has no chain any more');
  const peer = ca.issue({ uri: [CLIENT] });
  const s = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: peer.certPem, key: peer.keyPem, checkServerIdentity: () => undefined });
  await new Promise<void>((resolve, reject) => { s.once('secureConnect', resolve); s.once('error', reject); });
  assert.equal(s.getPeerX509Certificate()?.fingerprint256, new X509Certificate(id.certPem).fingerprint256);
  s.destroy();
});

test('an unusable secret (key not matching the certificate) refuses handshakes without taking the proxy down; a good one fixes it', async () => {
  const ca: TestCa = makeCa();
  cleanups.push(() => ca.cleanup());
  const app: Upstream = await httpUpstream((_req, res) => res.end('app'));
  cleanups.push(() => app.close());
  const port = await freePort();
  const proxy = await inProcessProxy(`
static_resources:
  listeners:${listener('inbound', port, `
    - filter_chain_match: { transport_protocol: tls }${downstreamTls(undefined)}
      filters: [ ${hcm('mtls', 'app')} ]`, true)}
  clusters:${cluster('app', app.port)}
`);
  cleanups.push(() => proxy.close());
  const a = ca.issue({ uri: [SERVER] });
  const b = ca.issue({ uri: [SERVER] });
  proxy.instance.secrets.setValidationContext('ROOTCA', { trustedCaPem: ca.certPem });
  proxy.instance.secrets.setTlsCertificate('default', { certificateChainPem: a.certPem, privateKeyPem: b.keyPem });
  await proxy.instance.listen();
  const peer = ca.issue({ uri: [CLIENT] });
  const handshake = (): Promise<boolean> => new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: peer.certPem, key: peer.keyPem, checkServerIdentity: () => undefined });
    s.once('secureConnect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
  assert.equal(await handshake(), false);
  assert.ok(proxy.stat(`listener.127.0.0.1_${port}.ssl.connection_error`) >= 1);
  proxy.instance.secrets.setTlsCertificate('default', { certificateChainPem: a.certPem, privateKeyPem: a.keyPem });
  assert.equal(await handshake(), true);
});
