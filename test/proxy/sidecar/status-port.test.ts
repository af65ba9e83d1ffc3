import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort } from '../../support/net.js';
import { repoRoot, runCli } from '../../support/proxy.js';
import { startControlProcess, type RunningControl } from '../../support/control.js';

/*
 * `tsmesh proxy --xds ... --status-port P`: the kubelet's readiness probe (GET /healthz/ready on
 * the pod's address, Istio's 15021) sees what admin /ready says: 503 until the first config has
 * come from the control plane, then 200 LIVE.
 */

async function get(port: number, path: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('/healthz/ready on the status port is 503 before the control plane answers, 200 LIVE after', async () => {
  const [xdsPort, statusPort, adminPort, outPort, inPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'tsmesh-status-'));
  const proxy = spawn(process.execPath, [join(repoRoot(), 'bin/tsmesh.js'), 'proxy', '--xds', `127.0.0.1:${xdsPort}`, '--name', 'web', '--concurrency', '1',
    '--status-port', String(statusPort), '--admin-port', String(adminPort), '--outbound-port', String(outPort), '--inbound-port', String(inPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proxy.stderr!.on('data', (d) => (err += d));
  const exited = new Promise((r) => proxy.on('exit', r));
  let control: RunningControl | undefined;
  try {
    // No control plane yet: the proxy waits for its first config (initial_fetch_timeout 15 s).
    const first = await until('the status port', () => get(statusPort, '/healthz/ready'));
    assert.equal(first.status, 503, `${first.body}\n${err}`);
    assert.equal((await get(adminPort, '/ready'))?.status, 503);
    assert.equal((await get(statusPort, '/other'))?.status, 404, 'only /healthz/ready is served');
    control = await startControlProcess({ dataDir, extra: ['--xds-port', String(xdsPort)] });
    const ready = await until('readiness', async () => {
      const r = await get(statusPort, '/healthz/ready');
      return r?.status === 200 ? r : undefined;
    });
    assert.equal(ready.body.trim(), 'LIVE');
  } finally {
    if (proxy.exitCode === null) proxy.kill('SIGKILL');
    await exited;
    await control?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('--status-port: in the printed bootstrap a listener on 0.0.0.0 routing to admin /ready; a clash is a usage error', async () => {
  const r = await runCli(['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--status-port', '15021', '--print-bootstrap']);
  assert.equal(r.code, 0, r.stderr);
  const b = parse(r.stdout) as { static_resources: { listeners: { name: string; address: { socket_address: { address: string; port_value: number } } }[]; clusters: { name: string }[] } };
  assert.deepEqual(b.static_resources.listeners.map((l) => [l.name, l.address.socket_address.address, l.address.socket_address.port_value]), [['0.0.0.0_15021', '0.0.0.0', 15021]]);
  assert.deepEqual(b.static_resources.clusters.map((c) => c.name), ['xds-grpc', 'tsmesh-admin']);
  const none = await runCli(['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--print-bootstrap']);
  assert.equal((parse(none.stdout) as { static_resources: { listeners?: unknown } }).static_resources.listeners, undefined, 'no status listener unless asked');
  const clash = await runCli(['proxy', '--xds', '127.0.0.1:15010', '--name', 'a', '--status-port', '15000']);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /--status-port 15000: the same port as --admin-port/);
});
