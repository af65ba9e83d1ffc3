import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startControl, type ControlHandle } from '../../../src/control/main.js';
import { createLogger } from '../../../src/control/log.js';
import { WorkloadAgent, CONTROL_PLANE_NAME } from '../../../src/proxy/agent/workload-agent.js';
import { createCertificate, credentialsFor, CaRequestError } from '../../../src/proxy/agent/ca-client.js';
import { fetchPinnedRoot, PinnedRootError } from '../../../src/proxy/agent/pinned-root.js';
import { SecretStore } from '../../../src/proxy/tls/secret-store.js';
import { buildCsr, toPem } from '../../../src/pki/x509.js';

// The CA over real gRPC on a real TLS port (loopback), with the proxy's own agent as the client.
const quiet = { info() {}, warn() {} };
let control: ControlHandle;
let other: ControlHandle;
const dirs: string[] = [];

const tempDir = (): string => { const d = mkdtempSync(join(tmpdir(), 'tsmesh-ca-')); dirs.push(d); return d; };

before(async () => {
  control = await startControl({ dataDir: tempDir(), xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('error') });
  other = await startControl({ dataDir: tempDir(), xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('error') });
});

after(async () => {
  await control?.close();
  await other?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function token(c: ControlHandle, namespace: string, serviceAccount: string, ttl = '1h'): Promise<{ token: string; jti: string }> {
  const r = await fetch(`http://127.0.0.1:${c.http.port}/ca/tokens`, { method: 'POST', body: JSON.stringify({ namespace, serviceAccount, ttl }) });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()) as { token: string; jti: string };
}

const target = (c: ControlHandle) => ({ host: '127.0.0.1', port: c.xdsTlsPort!, serverName: CONTROL_PLANE_NAME });

/** A CSR asking for `uri`, with a fresh P-256 key. */
function csrFor(uri: string): string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return toPem('CERTIFICATE REQUEST', buildCsr(privateKey, new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), {}, { uris: [uri] }));
}

async function refused(p: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof CaRequestError, `expected a CA refusal, got ${e.stack}`);
    assert.equal(e.code, code, `${grpc.status[e.code]}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

test('the CA\'s root key is created 0600 in a 0700 directory; a key readable by others stops the start-up', async () => {
  const dir = join(control.dataDir, 'ca');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, 'root-key.pem')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'token-key.pem')).mode & 0o777, 0o600);
  // A copy of the data dir with a loosened key mode: refused, naming the file and the fix.
  const copy = tempDir();
  const { cpSync, chmodSync } = await import('node:fs');
  cpSync(dir, join(copy, 'ca'), { recursive: true });
  chmodSync(join(copy, 'ca', 'root-key.pem'), 0o644);
  await assert.rejects(startControl({ dataDir: copy, xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('off') }),
    /CA: .*root-key\.pem: a private key must be readable by its owner only \(mode is 0644; run chmod 600/);
});

test('a proxy joins with a token: verifies the control plane by the pinned root, gets a P-256 SPIFFE certificate, serves default and ROOTCA', async () => {
  const t = await token(control, 'shop', 'cart');
  const agent = new WorkloadAgent({ ca: { host: '127.0.0.1', port: control.xdsTlsPort! }, token: t.token, log: quiet });
  const cert = await agent.join();
  agent.stop();
  const leaf = new X509Certificate(cert.certificateChainPem);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/cart');
  assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const root = new X509Certificate(cert.rootsPem);
  assert.ok(leaf.verify(root.publicKey) && leaf.checkIssued(root));
  const lifeH = (new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime()) / 3600_000;
  assert.ok(lifeH > 23.9 && lifeH < 24.1, `24 h by default (plus a minute back-dated), got ${lifeH} h`);
  const store = new SecretStore();
  agent.serveInto(store);
  assert.equal(store.getTlsCertificate('default')?.certificateChainPem, cert.certificateChainPem);
  assert.equal(store.getValidationContext('ROOTCA')?.trustedCaPem, cert.rootsPem);

  const metrics = await (await fetch(`http://127.0.0.1:${control.http.port}/metrics`)).text();
  assert.match(metrics, /^citadel_server_csr_count [1-9]\d*$/m);
  assert.match(metrics, /^citadel_server_success_cert_issuance_count [1-9]\d*$/m);
  const expiry = Number(/^citadel_server_root_cert_expiry_timestamp (\d+)$/m.exec(metrics)?.[1]);
  assert.equal(expiry, Math.floor(new Date(root.validTo).getTime() / 1000));
});

test('a token of another control plane: the joining proxy refuses that server (pinned root), and the CA refuses the token (signature)', async () => {
  const foreign = await token(other, 'shop', 'cart');
  await assert.rejects(fetchPinnedRoot('127.0.0.1', control.xdsTlsPort!, JSON.parse(Buffer.from(foreign.token.split('.')[1]!, 'base64url').toString()).rootHash, CONTROL_PLANE_NAME),
    (e: Error) => e instanceof PinnedRootError && /holds no root with the token's hash/.test(e.message));
  const root = await fetchPinnedRoot('127.0.0.1', control.xdsTlsPort!, control.ca!.authority.rootHash(), CONTROL_PLANE_NAME);
  await refused(createCertificate(target(control), credentialsFor(grpc, root), csrFor('spiffe://cluster.local/ns/shop/sa/cart'), 0, foreign.token),
    grpc.status.UNAUTHENTICATED, /join token refused \(bad-signature\)/);
});

test('forged, expired and revoked tokens get no certificate; neither does a CSR for another identity, nor a caller without credentials', async () => {
  const root = await fetchPinnedRoot('127.0.0.1', control.xdsTlsPort!, control.ca!.authority.rootHash(), CONTROL_PLANE_NAME);
  const creds = credentialsFor(grpc, root);
  const ask = (tok: string | undefined, uri = 'spiffe://cluster.local/ns/shop/sa/cart') => createCertificate(target(control), creds, csrFor(uri), 0, tok);

  // Forged: the payload edited to another service account, the signature kept.
  const good = await token(control, 'shop', 'cart');
  const [h, p, s] = good.token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, string>;
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sa: 'admin', sub: 'spiffe://cluster.local/ns/shop/sa/admin' })).toString('base64url')}.${s}`;
  await refused(ask(forged, 'spiffe://cluster.local/ns/shop/sa/admin'), grpc.status.UNAUTHENTICATED, /bad-signature/);
  await refused(ask('not-a-token'), grpc.status.UNAUTHENTICATED, /malformed/);

  // Expired: signed by this CA's token key two hours ago for one hour.
  const expired = control.ca!.tokens.create({ namespace: 'shop', serviceAccount: 'cart', ttlSeconds: 3600, trustDomain: 'cluster.local', rootHash: control.ca!.authority.rootHash(), now: new Date(Date.now() - 2 * 3600_000) });
  await refused(ask(expired.token), grpc.status.UNAUTHENTICATED, /\(expired\): the token expired at/);

  // Revoked through the API, and by a line added to the revocation file by hand (read live).
  const r = await fetch(`http://127.0.0.1:${control.http.port}/ca/tokens/${good.jti}/revoke`, { method: 'POST' });
  assert.equal(r.status, 200);
  await refused(ask(good.token), grpc.status.UNAUTHENTICATED, new RegExp(`\\(revoked\\): the token ${good.jti} was revoked`));
  const byHand = await token(control, 'shop', 'cart');
  await ask(byHand.token);
  appendFileSync(join(control.dataDir, 'ca', 'revoked-tokens.txt'), `${byHand.jti}\n`);
  await refused(ask(byHand.token), grpc.status.UNAUTHENTICATED, /revoked/);

  // A valid token for shop/cart asking for another identity, or for extra names.
  const valid = await token(control, 'shop', 'cart');
  await refused(ask(valid.token, 'spiffe://cluster.local/ns/shop/sa/admin'), grpc.status.PERMISSION_DENIED, /asks for spiffe:\/\/cluster\.local\/ns\/shop\/sa\/admin, but the caller is spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart/);
  await refused(ask(valid.token, 'spiffe://other.domain/ns/shop/sa/cart'), grpc.status.PERMISSION_DENIED, /only get a certificate for its own identity/);
  await refused(createCertificate(target(control), creds, 'garbage', 0, valid.token), grpc.status.INVALID_ARGUMENT, /no PEM CERTIFICATE REQUEST/);
  await refused(ask(undefined), grpc.status.UNAUTHENTICATED, /no credentials/);
  const ok = await ask(valid.token);
  assert.equal(new X509Certificate(ok[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/cart');

  const metrics = await (await fetch(`http://127.0.0.1:${control.http.port}/metrics`)).text();
  assert.match(metrics, /^tsmesh_ca_refused_total ([89]|[1-9]\d+)$/m);
});

test('renewal: at half life with jitter, over mutual TLS with the current certificate (the token is no longer needed)', async () => {
  const t = await token(control, 'shop', 'renew');
  const agent = new WorkloadAgent({ ca: { host: '127.0.0.1', port: control.xdsTlsPort! }, token: t.token, certTtlSeconds: 4, log: quiet });
  const store = new SecretStore();
  agent.serveInto(store);
  const changes: string[] = [];
  store.subscribe((c) => changes.push(c.name));
  try {
    const first = await agent.join();
    // The token goes: renewals must not depend on it.
    assert.equal((await fetch(`http://127.0.0.1:${control.http.port}/ca/tokens/${t.jti}/revoke`, { method: 'POST' })).status, 200);
    const deadline = Date.now() + 60_000;
    while (agent.issued < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(agent.issued >= 3, `two renewals expected, got ${agent.issued - 1}`);
    const now = agent.certificate!;
    assert.notEqual(now.certificateChainPem, first.certificateChainPem);
    assert.notEqual(now.privateKeyPem, first.privateKeyPem, 'a new key per certificate');
    assert.equal(new X509Certificate(now.certificateChainPem).subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/renew');
    assert.equal(store.getTlsCertificate('default')?.privateKeyPem, now.privateKeyPem);
    assert.deepEqual(changes.slice(0, 4), ['ROOTCA', 'default', 'ROOTCA', 'default']);
  } finally {
    agent.stop();
  }
});

test('ADS on the TLS port: a sidecar whose certificate is for another workload than its node claims is refused', async () => {
  const { create } = await import('@bufbuild/protobuf');
  const { DiscoveryRequestSchema } = await import('../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js');
  const { adsServiceDefinition, SOTW_PATH } = await import('../../../src/control/xds/grpc-service.js');
  const { nodeOf } = await import('../../../src/envoy/node-metadata.js');
  const t = await token(control, 'shop', 'cart');
  const agent = new WorkloadAgent({ ca: { host: '127.0.0.1', port: control.xdsTlsPort! }, token: t.token, log: quiet });
  await agent.join();
  agent.stop();
  const { credentials, options } = await agent.channelCredentials();
  const open = (namespace: string, serviceAccount: string): Promise<{ code: number; details: string } | 'response'> => {
    const client = new grpc.Client(`127.0.0.1:${control.xdsTlsPort}`, credentials, options);
    const def = adsServiceDefinition().StreamAggregatedResources;
    const call = client.makeBidiStreamRequest(SOTW_PATH, def.requestSerialize, def.responseDeserialize);
    return new Promise((resolve) => {
      call.on('data', () => { resolve('response'); call.cancel(); client.close(); });
      call.on('error', (e: grpc.ServiceError) => { resolve({ code: e.code, details: e.details }); client.close(); });
      call.write(create(DiscoveryRequestSchema, { node: nodeOf({ name: 'cart-1', namespace, labels: {}, serviceAccount, ips: ['127.0.0.1'], generator: 'sidecar', appPorts: [] }), typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }));
    });
  };
  assert.equal(await open('shop', 'cart'), 'response');
  const denied = await open('shop', 'admin');
  assert.notEqual(denied, 'response');
  assert.equal((denied as { code: number }).code, grpc.status.PERMISSION_DENIED);
  assert.match((denied as { details: string }).details, /the node says namespace shop, service account admin, but its certificate is for shop\/cart/);
});

test('a proxy started before its control plane keeps trying to join, and joins once it is up; a refusal is final', async () => {
  const { freePort } = await import('../../support/net.js');
  const dataDir = tempDir();
  const port = await freePort();
  let cp = await startControl({ dataDir, xdsPort: 0, httpPort: 0, xdsTlsPort: port, log: createLogger('error') });
  const t = await token(cp, 'shop', 'late');
  await cp.close();
  const warnings: string[] = [];
  const agent = new WorkloadAgent({ ca: { host: '127.0.0.1', port }, token: t.token, log: { info() {}, warn: (s) => warnings.push(s) } });
  const joined = agent.joinPatiently();
  const deadline = Date.now() + 30_000;
  while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(warnings[0]!, new RegExp(`agent: cannot reach the control plane at 127\\.0\\.0\\.1:${port} .*; retrying in \\d+ ms`));
  cp = await startControl({ dataDir, xdsPort: 0, httpPort: 0, xdsTlsPort: port, log: createLogger('error') });
  try {
    const cert = await joined;
    agent.stop();
    assert.equal(new X509Certificate(cert.certificateChainPem).subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/late');
    // Revoked: no retrying.
    assert.equal((await fetch(`http://127.0.0.1:${cp.http.port}/ca/tokens/${t.jti}/revoke`, { method: 'POST' })).status, 200);
    const again = new WorkloadAgent({ ca: { host: '127.0.0.1', port }, token: t.token, log: quiet });
    await refused(again.joinPatiently(), grpc.status.UNAUTHENTICATED, /revoked/);
  } finally {
    await cp.close();
  }
});
