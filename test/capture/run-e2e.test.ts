import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startControlProcess, tsmesh, type RunningControl } from '../support/control.js';
import { freePort } from '../support/net.js';
import { repoRoot } from '../support/proxy.js';
import { runIn } from '../../src/capture/iptables.js';

/*
 * `tsmesh run` end to end. As root (CI): each workload on a host of its own (network namespace
 * on a bridge of this test's own, addresses in 198.18.N.0/24), iptables capture, the sidecar as
 * uid 1337; apps that know nothing of the mesh call each other by name. Not as root: the local
 * mode (sidecar on 127.0.0.1, HTTP_PROXY). Everything created is removed, also on failure.
 */
const root = process.getuid?.() === 0;
const id = randomBytes(2).toString('hex');
const bridge = `tsmt${id}`;
const gateway = `198.18.${100 + (parseInt(id, 16) % 150)}.1/24`;
let dir: string;
let stateDir: string;
let control: RunningControl;
let xdsPort: number;
const running: ChildProcess[] = [];

const SERVER = `import http from 'node:http';
const [port, who] = [Number(process.argv[2]), process.argv[3]];
http.createServer((req, res) => res.end(who + ' host=' + req.headers.host + ' path=' + req.url + '\\n')).listen(port, '0.0.0.0');`;
// Knows nothing of the mesh: fetches a URL (through HTTP_PROXY when one is set, as curl would)
// until it answers 200, prints the body.
const CLIENT = `import http from 'node:http';
const url = new URL(process.argv[2]);
const proxy = process.env.HTTP_PROXY ? new URL(process.env.HTTP_PROXY) : undefined;
const get = () => new Promise((resolve) => {
  const req = http.get(proxy ? { host: proxy.hostname, port: proxy.port, path: url.href, headers: { host: url.host } } : url, (res) => {
    let body = ''; res.on('data', (d) => body += d); res.on('end', () => resolve({ status: res.statusCode, body }));
  });
  req.on('error', (e) => resolve({ status: 0, body: e.code }));
  req.setTimeout(5000, () => req.destroy());
});
for (let i = 0; i < 60; i++) {
  const r = await get();
  if (r.status === 200) { process.stdout.write(r.body); process.exit(0); }
  await new Promise((r) => setTimeout(r, 250));
}
process.exit(3);`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsmesh-run-e2e-'));
  // The local-mode test runs its apps as nobody, who must read them.
  chmodSync(dir, 0o755);
  stateDir = join(dir, 'state');
  writeFileSync(join(dir, 'server.mjs'), SERVER);
  writeFileSync(join(dir, 'client.mjs'), CLIENT);
  xdsPort = await freePort();
  control = await startControlProcess({ dataDir: join(dir, 'data'), extra: ['--xds-port', String(xdsPort), '--registry-grace-s', '0'] });
});

after(async () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await control?.stop();
  if (root) await tsmesh(['hosts', 'rm', '--all', '--state-dir', stateDir]);
  await runIn(undefined, ['ip', 'link', 'del', bridge]);
  rmSync(dir, { recursive: true, force: true });
});

interface Run { child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** `tsmesh run` as a child process (as nobody when `asUser`, to test the local mode as root). */
function run(args: string[], command: string[], asUser = false): Run {
  const argv = [join(repoRoot(), 'bin/tsmesh.js'), 'run', '--control', control.url, '--xds', `127.0.0.1:${xdsPort}`, '--state-dir', stateDir, '--bridge', bridge, '--gateway', gateway, '--drain-time-s', '1', ...args, '--', ...command];
  const child = asUser
    ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function until(probe: () => Promise<boolean>, ms: number, why: () => string): Promise<void> {
  for (const deadline = Date.now() + ms; ;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${why()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function hostsTable(): Promise<string> {
  return (await tsmesh(['hosts', 'ls', '--state-dir', stateDir])).stdout;
}

async function registered(host: string): Promise<boolean> {
  const r = (await (await fetch(`${control.url}/debug/registry`)).json()) as { endpoints: Record<string, unknown[]> };
  return (r.endpoints[`${host}:9080`]?.length ?? 0) > 0;
}

test('an app reaches another by name through both sidecars; a job\'s exit stops its sidecar; SIGTERM drains and removes the host', { skip: !root && 'covered by the local-mode test below when not root' }, async () => {
  const reviews = run(['--name', 'reviews', '--label', 'version=v2', '--port', '9080'], [process.execPath, join(dir, 'server.mjs'), '9080', 'reviews-v2']);
  await until(() => registered('reviews.default.svc.cluster.local'), 60_000, () => `reviews never registered:\n${reviews.output()}`);
  assert.match(reviews.output(), /mode capture \(running as root\)/);
  assert.match(await hostsTable(), /tsmesh-reviews-\w+\s+reviews\s+198\.18\.\d+\.2\s+/);

  // productpage is a job: it calls reviews by its short name and exits.
  const job = run(['--name', 'productpage', '--port', '9080'], [process.execPath, join(dir, 'client.mjs'), 'http://reviews:9080/reviews/1']);
  const code = await job.exited;
  assert.equal(code, 0, job.output());
  assert.match(job.output(), /reviews-v2 host=reviews:9080 path=\/reviews\/1/);
  assert.match(job.output(), /exited with 0; draining the sidecar/);
  // Through reviews' sidecar: its inbound connection manager counted the request.
  const ns = /tsmesh-reviews-\w+/.exec(await hostsTable())![0];
  const stats = await runIn(ns, ['curl', '-s', 'http://127.0.0.1:15000/stats?filter=inbound_0.0.0.0_9080.downstream_rq_total']);
  assert.match(stats.stdout, /http\.inbound_0\.0\.0\.0_9080\.downstream_rq_total: [1-9]/, stats.stdout);
  // The job's host is gone with it.
  assert.doesNotMatch(await hostsTable(), /productpage/);

  // A job's exit code is tsmesh run's.
  const failing = run(['--name', 'batch', '--port', '8080'], ['sh', '-c', 'exit 7']);
  assert.equal(await failing.exited, 7, failing.output());

  reviews.child.kill('SIGTERM');
  assert.notEqual(await reviews.exited, null);
  assert.match(reviews.output(), /SIGTERM: stopping the app and the sidecar/);
  assert.equal((await hostsTable()).trim().split('\n').length, 1, 'only the header is left');
  assert.notEqual((await runIn(undefined, ['ip', 'link', 'show', 'dev', bridge])).code, 0, 'the bridge is gone with the last host');
  assert.doesNotMatch((await runIn(undefined, ['ip', 'netns', 'list'])).stdout, /tsmesh-(reviews|productpage|batch)-/);
});

test('a workload whose sidecar never becomes ready gets no traffic, and its app never starts', { skip: !root && 'needs root (namespaces)' }, async () => {
  const marker = join(dir, 'started');
  // Its xDS address answers nothing: the sidecar stays not ready.
  const dead = await freePort();
  const argv = [join(repoRoot(), 'bin/tsmesh.js'), 'run', '--control', control.url, '--xds', `127.0.0.1:${dead}`, '--state-dir', stateDir, '--bridge', bridge, '--gateway', gateway, '--name', 'ratings', '--port', '9080', '--', 'touch', marker];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  await until(async () => /mode capture/.test(out), 30_000, () => out);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await registered('ratings.default.svc.cluster.local'), false, 'not an endpoint while its sidecar is not ready');
  assert.equal(existsSync(marker), false, 'the app waits for its sidecar');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  assert.equal(existsSync(marker), false);
  assert.doesNotMatch(await hostsTable(), /ratings/);
});

test('without root: the local mode says so, and an app reaches another by name through HTTP_PROXY and both sidecars', async () => {
  const asUser = root;
  const port = await freePort();
  const details = run(['--name', 'details', '--port', String(port)], [process.execPath, join(dir, 'server.mjs'), String(port), 'details-v1'], asUser);
  await until(async () => {
    const r = (await (await fetch(`${control.url}/debug/registry`)).json()) as { endpoints: Record<string, unknown[]> };
    return (r.endpoints[`details.default.svc.cluster.local:${port}`]?.length ?? 0) > 0;
  }, 60_000, () => details.output());
  assert.match(details.output(), /mode local \(not root: no network namespace, no iptables\)/);
  const job = run(['--name', 'frontend', '--port', String(await freePort())], [process.execPath, join(dir, 'client.mjs'), `http://details:${port}/d`], asUser);
  assert.equal(await job.exited, 0, job.output());
  assert.match(job.output(), new RegExp(`details-v1 host=details:${port} path=/d`));
  details.child.kill('SIGTERM');
  await details.exited;
});
