import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startControl } from '../../../src/control/main.js';
import { createLogger } from '../../../src/control/log.js';
import { WorkloadAgent, type WorkloadCertificate } from '../../../src/proxy/agent/workload-agent.js';

const quiet = { info() {}, warn() {} };

/**
 * A mutual TLS handshake between two workloads, each with its own certificate and its own
 * ROOTCA: resolves with whether each side verified the other.
 */
async function mtls(server: WorkloadCertificate, client: WorkloadCertificate): Promise<{ serverOk: boolean; clientOk: boolean; clientError?: string | null }> {
  const srv = tls.createServer({ cert: server.certificateChainPem, key: server.privateKeyPem, ca: server.rootsPem, requestCert: true, rejectUnauthorized: false });
  const serverSide = new Promise<boolean>((r) => srv.once('secureConnection', (s) => { r(s.authorized); s.end(); }));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (srv.address() as { port: number }).port;
    const c = tls.connect({ host: '127.0.0.1', port, cert: client.certificateChainPem, key: client.privateKeyPem, ca: client.rootsPem, rejectUnauthorized: false, checkServerIdentity: () => undefined });
    c.on('error', () => {});
    const clientSide = await new Promise<{ ok: boolean; err: string | null }>((r) => c.once('secureConnect', () => r({ ok: c.authorized, err: c.authorizationError ? String(c.authorizationError) : null })));
    // TLS 1.3: the server sees the client's certificate after the client's Finished; end() (not destroy) lets it arrive.
    const serverOk = await serverSide;
    c.end();
    return { serverOk, clientOk: clientSide.ok, clientError: clientSide.err };
  } finally {
    srv.close();
  }
}

const issuerOf = (c: WorkloadCertificate): string => new X509Certificate(c.certificateChainPem).issuer;
const rootCount = (c: WorkloadCertificate): number => (c.rootsPem.match(/BEGIN CERTIFICATE/g) ?? []).length;

test('root rotation: the new root is trusted everywhere before it signs, so old and new workloads keep verifying each other', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-rotate-'));
  const control = await startControl({ dataDir: dir, xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('error') });
  const agents: WorkloadAgent[] = [];
  t.after(async () => { for (const a of agents) a.stop(); await control.close(); rmSync(dir, { recursive: true, force: true }); });
  const api = (method: string, path: string, body?: unknown) => fetch(`http://127.0.0.1:${control.http.port}${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
  const join_ = async (sa: string): Promise<WorkloadAgent> => {
    const { token } = (await (await api('POST', '/ca/tokens', { namespace: 'default', serviceAccount: sa })).json()) as { token: string };
    const a = new WorkloadAgent({ ca: { host: '127.0.0.1', port: control.xdsTlsPort! }, token, log: quiet });
    agents.push(a);
    await a.join();
    return a;
  };

  const old = await join_('old');
  const r1Subject = issuerOf(old.certificate!);
  const stuck = (await join_('stuck')).certificate!;
  assert.equal(rootCount(old.certificate!), 1);

  // prepare: the new root joins the bundle; the old one still signs.
  const prepared = (await (await api('POST', '/ca/rotate/prepare')).json()) as { trustedRoots: string[] };
  assert.equal(prepared.trustedRoots.length, 2);
  assert.equal((await api('POST', '/ca/rotate/prepare')).status, 409, 'a second prepare is refused');
  await old.renew(); // the old workload learns the new root at its renewal
  assert.equal(rootCount(old.certificate!), 2);
  assert.equal(issuerOf(old.certificate!), r1Subject, 'nothing is signed with the new root yet');

  // commit: the new root signs; the old root stays trusted.
  assert.equal((await api('POST', '/ca/rotate/commit')).status, 200);
  assert.equal(existsSync(join(dir, 'ca', 'previous-root-cert.pem')), true);
  const fresh = await join_('fresh');
  assert.notEqual(issuerOf(fresh.certificate!), r1Subject, 'new certificates come from the new root');
  assert.equal(rootCount(fresh.certificate!), 2);

  // Old-root and new-root workloads verify each other in both directions.
  assert.deepEqual(await mtls(old.certificate!, fresh.certificate!), { serverOk: true, clientOk: true, clientError: null });
  assert.deepEqual(await mtls(fresh.certificate!, old.certificate!), { serverOk: true, clientOk: true, clientError: null });

  // The old workload renews over mTLS with its old-root certificate and moves to the new root.
  await old.renew();
  assert.notEqual(issuerOf(old.certificate!), r1Subject);

  // finish: the old root is gone from every bundle (after renewal); an old-root certificate no longer authenticates.
  // A workload that never renewed since before the rotation still holds an old-root certificate.
  const r1Cert = stuck;
  assert.equal((await api('POST', '/ca/rotate/finish')).status, 200);
  await fresh.renew();
  assert.equal(rootCount(fresh.certificate!), 1);
  assert.equal(existsSync(join(dir, 'ca', 'previous-root-cert.pem')), false);
  const after = await mtls(fresh.certificate!, r1Cert);
  assert.equal(after.serverOk, false, 'after finish, an old-root certificate is no longer trusted');
  assert.equal((await api('POST', '/ca/rotate/commit')).status, 409, 'nothing prepared');
});

test('a rotation step that does not follow the last one is refused with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-rotate-'));
  const control = await startControl({ dataDir: dir, xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('error') });
  t.after(async () => { await control.close(); rmSync(dir, { recursive: true, force: true }); });
  const r = await fetch(`http://127.0.0.1:${control.http.port}/ca/rotate/finish`, { method: 'POST' });
  assert.equal(r.status, 409);
  assert.match(((await r.json()) as { error: string }).error, /no committed rotation to finish/);
  const bad = await fetch(`http://127.0.0.1:${control.http.port}/ca/rotate/now`, { method: 'POST' });
  assert.equal(bad.status, 400);
});
