import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRunEnv, until, type Run, type RunEnv } from '../support/run-hosts.js';
import { tsmesh } from '../support/control.js';
import { runIn } from '../../src/capture/iptables.js';

/*
 * What capture does with each kind of destination, seen from an unmodified program on a host
 * of `tsmesh run` (root only: namespaces and iptables; CI runs as root): a destination no
 * service has passes through the sidecar (ALLOW_ANY) or is blocked (REGISTRY_ONLY); a port
 * declared TCP carries a server-first protocol (never sniffed); a workload calling itself
 * through its service goes out through its sidecar and back in.
 */
const root = process.getuid?.() === 0;
let env: RunEnv;
let shell: Run;
let shellNs: string;
let outside: http.Server | undefined;

before(async () => {
  if (!root) return;
  env = await startRunEnv();
  shell = env.run(['--name', 'shell', '--port', '9090'], ['sleep', '600']);
  await until(() => env.registered('shell.default.svc.cluster.local', 9090), 60_000, () => shell.output());
  shellNs = /tsmesh-shell-\w+/.exec(await env.hostsTable())![0];
});

after(async () => {
  outside?.close();
  await env?.close();
});

/** Runs an app inside the shell's host as an ordinary (captured) process. */
const inShell = (ns: string, cmd: string[]) => runIn(ns, cmd);
const stat = async (ns: string, name: string): Promise<number> => {
  const r = await runIn(ns, ['curl', '-s', `http://127.0.0.1:15000/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`]);
  return Number(/: (\d+)/.exec(r.stdout)?.[1] ?? 'NaN');
};

test('a destination no service has passes through the sidecar; with REGISTRY_ONLY it is blocked', { skip: !root && 'needs root (namespaces, iptables)' }, async () => {
  // A server outside the mesh, on the bridge's own address (nothing leaves the machine).
  const gw = env.gateway.split('/')[0]!;
  outside = http.createServer((_req, res) => res.end('outside\n'));
  await new Promise<void>((r) => outside!.listen(0, gw, r));
  const url = `http://${gw}:${(outside.address() as AddressInfo).port}/x`;
  const before = await stat(shellNs, 'cluster.PassthroughCluster.upstream_cx_total');
  const r = await inShell(shellNs, [...env.app('client.mjs', url, '--once')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /status 200 outside/);
  assert.ok(await stat(shellNs, 'cluster.PassthroughCluster.upstream_cx_total') > before, 'it went through the sidecar\'s PassthroughCluster');

  const applied = await tsmesh(['apply', '--control', env.control.url, '-f', '-'], 'apiVersion: tsmesh.io/v1\nkind: MeshConfig\nmetadata: { name: mesh, namespace: tsmesh-system }\nspec: { outboundTrafficPolicy: { mode: REGISTRY_ONLY } }\n');
  assert.equal(applied.code, 0, applied.stderr);
  await until(async () => (await inShell(shellNs, [...env.app('client.mjs', url, '--once')])).code !== 0, 30_000, () => 'REGISTRY_ONLY never blocked the call');
  const blocked = await inShell(shellNs, [...env.app('client.mjs', url, '--once')]);
  assert.doesNotMatch(blocked.stdout, /outside/);
  const back = await tsmesh(['delete', '--control', env.control.url, 'mc', 'mesh', '-n', 'tsmesh-system']);
  assert.equal(back.code, 0, back.stderr);
  await until(async () => (await inShell(shellNs, [...env.app('client.mjs', url, '--once')])).code === 0, 30_000, () => 'ALLOW_ANY never came back');
});

test('a port declared TCP carries a server-first protocol through both sidecars', { skip: !root && 'needs root (namespaces, iptables)' }, async () => {
  const smtp = env.run(['--name', 'smtp', '--port', '2525/TCP'], env.app('banner.mjs', '2525', 'smtp'));
  await until(() => env.registered('smtp.default.svc.cluster.local', 2525), 60_000, smtp.output);
  // The shell's hosts file learns the new name within a second or so.
  const r = await inShell(shellNs, [...env.app('banner-client.mjs', 'smtp', '2525')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '220 smtp ready\r\n');
  const smtpNs = /tsmesh-smtp-\w+/.exec(await env.hostsTable())![0];
  assert.ok(await stat(smtpNs, 'listener.0.0.0.0_15006.downstream_cx_total') >= 1, 'it came in through smtp\'s sidecar');
  smtp.child.kill('SIGTERM');
  await smtp.exitWithin(60_000);
});

test('a workload calling itself through its service goes out through its sidecar and back in', { skip: !root && 'needs root (namespaces, iptables)' }, async () => {
  const self = env.run(['--name', 'selfie', '--port', '9080'], env.app('server.mjs', '9080', 'selfie'));
  await until(() => env.registered('selfie.default.svc.cluster.local', 9080), 60_000, self.output);
  const ns = /tsmesh-selfie-\w+/.exec(await env.hostsTable())![0];
  const r = await inShell(ns, [...env.app('client.mjs', 'http://selfie:9080/me')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /selfie host=selfie:9080 path=\/me/);
  assert.ok(await stat(ns, 'http.outbound_0.0.0.0_9080.downstream_rq_total') >= 1, 'out through its own sidecar');
  assert.ok(await stat(ns, 'http.inbound_0.0.0.0_9080.downstream_rq_total') >= 1, 'and back in through it');
  self.child.kill('SIGTERM');
  await self.exitWithin(60_000);
});
