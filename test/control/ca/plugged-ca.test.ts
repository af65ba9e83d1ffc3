import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControl } from '../../../src/control/main.js';
import { createLogger } from '../../../src/control/log.js';
import { WorkloadAgent } from '../../../src/proxy/agent/workload-agent.js';

// A company CA (made here with openssl: an RSA root and an ECDSA intermediate for the mesh) in
// Istio's cacerts layout signs the workloads.

function companyCa(dir: string): void {
  const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root-key.pem', '-out', 'root-cert.pem', '-days', '30', '-subj', '/O=Acme/CN=Acme Root CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.csr', '-subj', '/O=Acme/CN=Acme mesh intermediate');
  writeFileSync(join(dir, 'ext.cnf'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  run('x509', '-req', '-in', 'ca.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-CAcreateserial', '-days', '10', '-out', 'ca-cert.pem', '-extfile', 'ext.cnf');
  writeFileSync(join(dir, 'cert-chain.pem'), readFileSync(join(dir, 'ca-cert.pem'), 'utf8') + readFileSync(join(dir, 'root-cert.pem'), 'utf8'));
  chmodSync(join(dir, 'ca-key.pem'), 0o600);
  unlinkSync(join(dir, 'root-key.pem')); // the company keeps its root key
}

test('a plugged-in CA (Istio cacerts layout) signs workload certificates that chain to the company root', async (t) => {
  const cacerts = mkdtempSync(join(tmpdir(), 'tsmesh-cacerts-'));
  const data = mkdtempSync(join(tmpdir(), 'tsmesh-plugged-'));
  companyCa(cacerts);
  const control = await startControl({ dataDir: data, caDir: cacerts, xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('error') });
  const agents: WorkloadAgent[] = [];
  t.after(async () => { for (const a of agents) a.stop(); await control.close(); rmSync(cacerts, { recursive: true, force: true }); rmSync(data, { recursive: true, force: true }); });

  const res = await fetch(`http://127.0.0.1:${control.http.port}/ca/tokens`, { method: 'POST', body: JSON.stringify({ namespace: 'payments', serviceAccount: 'api', ttl: '5m' }) });
  const { token } = (await res.json()) as { token: string };
  const agent = new WorkloadAgent({ ca: { host: '127.0.0.1', port: control.xdsTlsPort! }, token, log: { info() {}, warn() {} } });
  agents.push(agent);
  const cert = await agent.join();
  const [leaf, intermediate] = cert.certificateChainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g)!.map((p) => new X509Certificate(p));
  const root = new X509Certificate(cert.rootsPem);
  assert.equal(root.subject, 'O=Acme\nCN=Acme Root CA');
  assert.equal(intermediate!.subject, 'O=Acme\nCN=Acme mesh intermediate');
  assert.ok(leaf!.checkIssued(intermediate!) && leaf!.verify(intermediate!.publicKey));
  assert.equal(leaf!.subjectAltName, 'URI:spiffe://cluster.local/ns/payments/sa/api');
  // The intermediate expires in 10 days: no certificate outlives its issuer.
  assert.ok(new Date(leaf!.validTo) <= new Date(intermediate!.validTo));

  writeFileSync(join(cacerts, 'leaf.pem'), cert.certificateChainPem.slice(0, cert.certificateChainPem.indexOf('-----END CERTIFICATE-----') + 26));
  writeFileSync(join(cacerts, 'chain.pem'), intermediate!.toString());
  const out = execFileSync('openssl', ['verify', '-CAfile', 'root-cert.pem', '-untrusted', 'chain.pem', 'leaf.pem'], { cwd: cacerts, encoding: 'utf8' });
  assert.match(out, /leaf\.pem: OK/);

  const rotate = await fetch(`http://127.0.0.1:${control.http.port}/ca/rotate/prepare`, { method: 'POST' });
  assert.equal(rotate.status, 409);
  assert.match(((await rotate.json()) as { error: string }).error, /plugged in from .*: rotate it by replacing those files/);
});

test('a plugged-in CA that cannot work stops the start-up with the file and the reason', async (t) => {
  const cacerts = mkdtempSync(join(tmpdir(), 'tsmesh-cacerts-'));
  const other = mkdtempSync(join(tmpdir(), 'tsmesh-cacerts-'));
  const data = mkdtempSync(join(tmpdir(), 'tsmesh-plugged-'));
  t.after(() => { for (const d of [cacerts, other, data]) rmSync(d, { recursive: true, force: true }); });
  companyCa(cacerts);
  companyCa(other);
  const start = () => startControl({ dataDir: data, caDir: cacerts, xdsPort: 0, httpPort: 0, xdsTlsPort: 0, log: createLogger('off') });

  chmodSync(join(cacerts, 'ca-key.pem'), 0o640);
  await assert.rejects(start(), /ca-key\.pem: a private key must be readable by its owner only \(mode is 0640/);
  copyFileSync(join(other, 'ca-key.pem'), join(cacerts, 'ca-key.pem'));
  chmodSync(join(cacerts, 'ca-key.pem'), 0o600);
  await assert.rejects(start(), /ca-key\.pem: the key does not belong to the CA certificate/);
  copyFileSync(join(other, 'ca-key.pem'), join(cacerts, 'ca-key.pem'));
  copyFileSync(join(other, 'ca-cert.pem'), join(cacerts, 'ca-cert.pem'));
  // ca-cert.pem and its key from another company CA: they do not chain to this cert-chain.pem / root.
  await assert.rejects(start(), /cert-chain\.pem: the path ca-cert\.pem → cert-chain\.pem → root-cert\.pem breaks at certificate 1 of 3: O=Acme, CN=Acme mesh intermediate is not signed by the next one/);
  unlinkSync(join(cacerts, 'root-cert.pem'));
  await assert.rejects(start(), /root-cert\.pem: missing \(a plugged-in CA directory holds ca-cert\.pem, ca-key\.pem, cert-chain\.pem, root-cert\.pem\)/);
});
