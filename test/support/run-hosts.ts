import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startControlProcess, tsmesh, type RunningControl } from './control.js';
import { freePort } from './net.js';
import { repoRoot } from './proxy.js';
import { runIn } from '../../src/capture/iptables.js';

/** Small programs the workloads run; they know nothing of the mesh. */
export const APPS: Readonly<Record<string, string>> = {
  // HTTP: answers who it is, the Host it was called with and the path.
  'server.mjs': `import http from 'node:http';
const [port, who] = [Number(process.argv[2]), process.argv[3]];
http.createServer((req, res) => res.end(who + ' host=' + req.headers.host + ' path=' + req.url + (req.headers['x-forwarded-client-cert'] ? ' xfcc=' + req.headers['x-forwarded-client-cert'] : '') + '\\n')).listen(port, '0.0.0.0');`,
  // HTTP GET through HTTP_PROXY when set (as curl would), until 200 (or --once); prints status and body.
  'client.mjs': `import http from 'node:http';
const url = new URL(process.argv[2]);
const once = process.argv[3] === '--once';
const proxy = process.env.HTTP_PROXY ? new URL(process.env.HTTP_PROXY) : undefined;
const get = () => new Promise((resolve) => {
  const req = http.get(proxy ? { host: proxy.hostname, port: proxy.port, path: url.href, headers: { host: url.host } } : url, (res) => {
    let body = ''; res.on('data', (d) => body += d); res.on('end', () => resolve({ status: res.statusCode, body }));
  });
  req.on('error', (e) => resolve({ status: 0, body: e.code }));
  req.setTimeout(3000, () => req.destroy());
});
const deadline = Date.now() + 40000;
for (let i = 0; once ? i < 1 : Date.now() < deadline; i++) {
  const r = await get();
  if (r.status === 200 || once) { process.stdout.write('status ' + r.status + ' ' + r.body + '\\n'); process.exit(r.status === 200 ? 0 : 4); }
  await new Promise((r) => setTimeout(r, 250));
}
process.exit(3);`,
  // A server-first protocol: a banner as soon as a client connects, before it says anything.
  'banner.mjs': `import net from 'node:net';
const [port, who] = [Number(process.argv[2]), process.argv[3]];
net.createServer((c) => { c.end('220 ' + who + ' ready\\r\\n'); }).listen(port, '0.0.0.0');`,
  // Connects and prints what the server says first, sending nothing.
  'banner-client.mjs': `import net from 'node:net';
const [host, port] = [process.argv[2], Number(process.argv[3])];
for (let i = 0; i < 60; i++) {
  const got = await new Promise((resolve) => {
    const c = net.connect(port, host); let data = '';
    c.on('data', (d) => data += d); c.on('end', () => resolve(data)); c.on('error', () => resolve(''));
    c.setTimeout(5000, () => c.destroy());
  });
  if (got) { process.stdout.write(got); process.exit(0); }
  await new Promise((r) => setTimeout(r, 250));
}
process.exit(3);`,
};

export interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** The exit code, or a failure with the run's output when it has not exited within `ms`. */
  exitWithin(ms: number): Promise<number | null>;
}

/**
 * A control plane and what `tsmesh run` needs to put workloads on hosts of this test's own: a
 * bridge named for the test, a /24 of 198.18.0.0/16, a state directory. close() removes all.
 */
export interface RunEnv {
  readonly dir: string;
  readonly control: RunningControl;
  readonly bridge: string;
  readonly gateway: string;
  /** `tsmesh run FLAGS -- COMMAND` (as nobody when asUser, for the local mode as root). */
  run(flags: string[], command: string[], asUser?: boolean): Run;
  /** `node DIR/APP args` */
  app(name: string, ...args: string[]): string[];
  hostsTable(): Promise<string>;
  /** `tsmesh ARGS --state-dir STATE` (hosts ls|rm of this environment). */
  tsmesh(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Whether `host:port` has an endpoint in the registry. */
  registered(host: string, port: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startRunEnv(): Promise<RunEnv> {
  const id = randomBytes(2).toString('hex');
  const bridge = `tsmt${id}`;
  const gateway = `198.18.${100 + (parseInt(id, 16) % 150)}.1/24`;
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-run-'));
  // The local-mode tests run their apps as nobody, who must read them.
  chmodSync(dir, 0o755);
  for (const [f, text] of Object.entries(APPS)) writeFileSync(join(dir, f), text);
  const stateDir = join(dir, 'state');
  const [xdsPort, xdsTlsPort] = [await freePort(), await freePort()];
  // The CA on its TLS port: every workload joins with a join token and gets a certificate.
  const control = await startControlProcess({ dataDir: join(dir, 'data'), extra: ['--xds-port', String(xdsPort), '--xds-tls-port', String(xdsTlsPort), '--registry-grace-s', '0'] });
  const running: ChildProcess[] = [];
  const run = (flags: string[], command: string[], asUser = false): Run => {
    const argv = [join(repoRoot(), 'bin/tsmesh.js'), 'run', '--control', control.url, '--xds', `127.0.0.1:${xdsPort}`, '--xds-tls', `127.0.0.1:${xdsTlsPort}`, '--state-dir', stateDir, '--bridge', bridge, '--gateway', gateway, '--drain-time-s', '1', ...flags, '--', ...command];
    const child = asUser
      ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const exitWithin = (ms: number): Promise<number | null> => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tsmesh run ${flags.join(' ')} did not exit within ${ms} ms:\n${out}`)), ms);
      void exited.then((c) => { clearTimeout(t); resolve(c); });
    });
    return { child, output: () => out, exited, exitWithin };
  };
  return {
    dir, control, bridge, gateway, run,
    app: (name, ...args) => [process.execPath, join(dir, name), ...args],
    hostsTable: async () => (await tsmesh(['hosts', 'ls', '--state-dir', stateDir])).stdout,
    tsmesh: (args) => tsmesh([...args, '--state-dir', stateDir]),
    registered: async (host, port) => {
      const r = (await (await fetch(`${control.url}/debug/registry`)).json()) as { endpoints: Record<string, unknown[]> };
      return (r.endpoints[`${host}:${port}`]?.length ?? 0) > 0;
    },
    close: async () => {
      // SIGTERM lets each run stop its sidecar and app and remove its host; SIGKILL if it hangs
      // (then `hosts rm` below kills what is left in its namespace).
      const alive = running.filter((c) => c.exitCode === null && c.signalCode === null);
      for (const c of alive) c.kill('SIGTERM');
      await Promise.all(alive.map((c) => new Promise<void>((r) => {
        const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
        c.once('exit', () => { clearTimeout(t); r(); });
      })));
      await control.stop();
      if (process.getuid?.() === 0) await tsmesh(['hosts', 'rm', '--all', '--state-dir', stateDir]);
      await runIn(undefined, ['ip', 'link', 'del', bridge]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function until(probe: () => Promise<boolean>, ms: number, why: () => string): Promise<void> {
  for (const deadline = Date.now() + ms; ;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${why()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
