import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlProcess, tsmesh, type RunningControl } from '../../support/control.js';
import { repoRoot } from '../../support/proxy.js';
import { freePort } from '../../support/net.js';

// The whole join as a user runs it: `tsmesh control` with only the TLS port, `tsmesh token
// create`, `tsmesh proxy --xds HOST:TLS --token-file`, all real processes on loopback.

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function spawnProxy(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin/tsmesh.js'), 'proxy', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', (c) => r(c))) };
}

test('a sidecar joins with a token over the TLS port only: certificate, ADS over mutual TLS, renewal without dropping the stream; a revoked token cannot join', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-join-'));
  const tlsPort = await freePort();
  let control: RunningControl | undefined;
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await control?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  control = await startControlProcess({ dataDir: join(dir, 'data'), extra: ['--xds-tls-port', String(tlsPort), '--no-xds-plaintext'] });
  // The banner follows the API coming up: wait for it.
  await eventually('the banner', () => /api: /.test(control!.stdout()));
  assert.match(control.stdout(), new RegExp(`xds\\+ca tls: grpcs://127\\.0\\.0\\.1:${tlsPort} \\(ADS and certificate signing; root sha256:[0-9a-f]{64}\\)`));
  assert.doesNotMatch(control.stdout(), /^ {2}xds: /m, 'plaintext xDS is off');

  const created = await tsmesh(['token', 'create', '--namespace', 'shop', '--service-account', 'cart', '--ttl', '10m', '--control', control.url]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stderr, /^token [0-9a-f]{24} for spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart, expires /);
  const roots = await tsmesh(['ca', 'roots', '--control', control.url]);
  assert.equal(roots.code, 0, roots.stderr);
  assert.equal((roots.stdout.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length, 1);
  const pinned = JSON.parse(Buffer.from(created.stdout.split('.')[1]!, 'base64url').toString()) as { rootHash: string };
  assert.equal(roots.stderr.trim(), `signing root ${pinned.rootHash}`, 'the token pins the signing root');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, created.stdout, { mode: 0o600 });

  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const proxy = spawnProxy(['--xds', `127.0.0.1:${tlsPort}`, '--token-file', tokenFile, '--name', 'cart-1', '--admin-port', String(ports[0]), '--inbound-port', String(ports[1]), '--outbound-port', String(ports[2]), '--concurrency', '1', '--workload-cert-ttl', '6s']);
  children.push(proxy.child);
  await eventually('the proxy joins', () => /agent: joined as spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart/.test(proxy.output()) || proxy.child.exitCode !== null);
  assert.equal(proxy.child.exitCode, null, proxy.output());
  await eventually('ADS over mutual TLS, identity checked', () => /xds: cart-1\.shop authenticated by its certificate as spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart/.test(control!.stderr()));
  await eventually('the proxy is ready (initial xDS fetch done)', async () => {
    try { return (await fetch(`http://127.0.0.1:${ports[0]}/ready`)).ok; } catch { return false; }
  });

  // Two renewals (6 s certificates, renewed at about 3 s) while the ADS stream stays up.
  await eventually('two renewals', () => (proxy.output().match(/agent: certificate renewed/g) ?? []).length >= 2);
  assert.doesNotMatch(control.stderr(), /cart-1\.shop disconnected/, 'renewal does not drop the xDS stream');
  assert.doesNotMatch(proxy.output(), /renewal failed/);
  const metrics = await (await fetch(`${control.url}/metrics`)).text();
  assert.ok(Number(/^citadel_server_success_cert_issuance_count (\d+)$/m.exec(metrics)?.[1]) >= 3, metrics);
  const status = (await tsmesh(['proxy-status', '--control', control.url])).stdout;
  assert.match(status, /cart-1\.shop/);

  // A revoked token: the next proxy is told why and exits.
  const jti = /^token ([0-9a-f]{24})/.exec(created.stderr)![1]!;
  assert.equal((await tsmesh(['token', 'revoke', jti, '--control', control.url])).code, 0);
  const late = spawnProxy(['--xds', `127.0.0.1:${tlsPort}`, '--token-file', tokenFile, '--name', 'cart-2', '--admin-port', String(await freePort()), '--inbound-port', String(await freePort()), '--outbound-port', String(await freePort()), '--concurrency', '1']);
  children.push(late.child);
  assert.equal(await late.exited, 1);
  assert.match(late.output(), new RegExp(`tsmesh proxy: cannot join the mesh as spiffe://cluster.local/ns/shop/sa/cart: join token refused \\(revoked\\): the token ${jti} was revoked`));

  // A token for another identity than the flags say is a usage error before anything is sent.
  const mismatch = spawnProxy(['--xds', `127.0.0.1:${tlsPort}`, '--token-file', tokenFile, '--name', 'x', '--namespace', 'other']);
  children.push(mismatch.child);
  assert.equal(await mismatch.exited, 2);
  assert.match(mismatch.output(), /--token-file: the token is for namespace shop, service account cart; --namespace\/--service-account say other\/cart/);
});
