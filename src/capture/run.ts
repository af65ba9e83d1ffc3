import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureRules, CAPTURE_DEFAULTS, type CaptureOptions } from './rules.js';
import { installCapture } from './iptables.js';
import { createHost, removeHost, removeStaleHosts, writeHostsFile, type HostRecord, type NetworkOptions } from './host-network.js';
import { runIn } from './iptables.js';

/** What `tsmesh run` puts in the mesh. */
export interface RunOptions {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** The workload's ports (its service's ports) with their protocol (HTTP, TCP, ...). */
  readonly ports: readonly { readonly number: number; readonly protocol: string }[];
  readonly command: readonly string[];
  /** The control plane: its API (hosts table) and its xDS address. */
  readonly control: string;
  readonly xds: { readonly host: string; readonly port: number };
  /**
   * Joining with a join token through the control plane's TLS port (its CA): the sidecar gets a
   * workload certificate and talks mutual TLS to other sidecars. Absent: plaintext xDS, no certificate.
   */
  readonly join?: { readonly token: string; readonly tls: { readonly host: string; readonly port: number } };
  readonly network: NetworkOptions;
  /** Capture rules; ports and uid here override the defaults. */
  readonly capture: CaptureOptions;
  readonly drainTimeS: number;
  /** Without root: the sidecar's ports on 127.0.0.1 (0 = pick a free one). */
  readonly localPorts: { readonly inbound: number; readonly outbound: number; readonly admin: number };
  /** Print a line (the mode, what is happening). */
  readonly log: (line: string) => void;
}

export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

function tsmeshArgv(): string[] {
  return [process.execPath, join(repoRoot(), 'bin/tsmesh.js')];
}

/** Resolves with the exit code; `signal` ends as the shell reports it (128 + number). */
function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) { resolve(child.exitCode); return; }
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15)));
  });
}

function sidecarFlags(o: RunOptions, name: string, ip: string, ports: { inbound: number; outbound: number; admin: number }, xds: string, capture: boolean, tokenFile: string | undefined): string[] {
  const f = ['proxy', '--xds', xds, ...(tokenFile ? ['--token-file', tokenFile] : []), '--name', name, '--namespace', o.namespace, '--service-account', o.serviceAccount, '--ip', ip,
    '--inbound-port', String(ports.inbound), '--outbound-port', String(ports.outbound), '--admin-port', String(ports.admin),
    '--concurrency', '1', '--drain-time-s', String(o.drainTimeS), '--service', o.name];
  for (const [k, v] of Object.entries(o.labels)) f.push('--label', `${k}=${v}`);
  for (const p of o.ports) f.push('--service-port', `${p.number}/${p.protocol}`, '--app-port', String(p.number));
  if (capture) f.push('--interception-mode', 'REDIRECT');
  return f;
}

/** Polls until `ready()` is true; false when the sidecar exits first or after `ms`. */
async function waitReady(sidecar: ChildProcess, ready: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (sidecar.exitCode !== null || sidecar.signalCode !== null) return false;
    if (await ready()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Relays the sidecar's xDS connection from the bridge address to the control plane, so a
 * control plane on 127.0.0.1 (its default) serves hosts in namespaces without listening on
 * any other address. close() also ends the relayed connections: one whose sidecar vanished with
 * its namespace never sees a FIN and would keep the process alive.
 */
async function xdsRelay(listenOn: string, target: { host: string; port: number }): Promise<{ port: number; close: () => void }> {
  const open = new Set<net.Socket>();
  const server = net.createServer((c) => {
    const up = net.connect(target.port, target.host);
    open.add(c);
    open.add(up);
    c.pipe(up).pipe(c);
    const close = (): void => { c.destroy(); up.destroy(); open.delete(c); open.delete(up); };
    c.on('error', close);
    up.on('error', close);
    c.on('close', close);
    up.on('close', close);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, listenOn, resolve); });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => { server.close(); for (const s of open) s.destroy(); open.clear(); },
  };
}

/**
 * Runs the command as a workload of the mesh and resolves with its exit code. As root: a host
 * of its own (network namespace on the bridge), the capture rules, the sidecar as the proxy uid,
 * then the command once the sidecar is ready. Otherwise: the sidecar on 127.0.0.1 and the command
 * with HTTP_PROXY. The sidecar drains and stops when the command exits; SIGTERM / SIGINT stop
 * both. The host is removed in every case.
 */
export async function runWorkload(o: RunOptions): Promise<number> {
  const root = process.getuid?.() === 0;
  const podName = `${o.name}-${Math.random().toString(36).slice(2, 7)}`;
  let host: HostRecord | undefined;
  let relay: { port: number; close: () => void } | undefined;
  let tokenDir: string | undefined;
  let sidecar: ChildProcess | undefined;
  let app: ChildProcess | undefined;
  let hostsTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    o.log(`tsmesh run: ${sig}: stopping ${app ? 'the app and ' : ''}the sidecar`);
    app?.kill('SIGTERM');
    sidecar?.kill('SIGTERM');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    let spawnSidecar: (flags: string[]) => ChildProcess;
    let spawnApp: (env: NodeJS.ProcessEnv) => ChildProcess;
    let ready: () => Promise<boolean>;
    let flags: string[];
    let appEnv: NodeJS.ProcessEnv = { ...process.env };
    let tokenFile: string | undefined;
    if (o.join) {
      tokenDir = mkdtempSync(join(tmpdir(), 'tsmesh-run-'));
      tokenFile = join(tokenDir, 'token');
      writeFileSync(tokenFile, o.join.token, { mode: 0o600 });
    }
    if (root) {
      const stale = await removeStaleHosts(o.network);
      if (stale.length > 0) o.log(`tsmesh run: removed ${stale.length} stale host(s) of runs that are gone: ${stale.map((h) => h.netns).join(', ')}`);
      host = await createHost(o.network, o.name);
      const gateway = o.network.gateway.split('/')[0]!;
      relay = await xdsRelay(gateway, o.join ? o.join.tls : o.xds);
      const capture: CaptureOptions = { ...o.capture, includeInboundPorts: o.capture.includeInboundPorts === '*' ? o.ports.map((p) => p.number) : o.capture.includeInboundPorts };
      await installCapture(captureRules(capture), host.netns);
      o.log(`tsmesh run: mode capture (running as root): host ${host.netns} at ${host.address} on bridge ${host.bridge}; iptables sends its TCP through the sidecar (uid ${capture.proxyUid})`);
      const ns = host.netns;
      // The sidecar runs as the proxy uid: the token is its to read, no one else's.
      if (tokenDir && tokenFile) { chownSync(tokenDir, capture.proxyUid, capture.proxyGid); chownSync(tokenFile, capture.proxyUid, capture.proxyGid); }
      flags = sidecarFlags(o, podName, host.address, { inbound: capture.inboundPort, outbound: capture.outboundPort, admin: 15000 }, `${gateway}:${relay.port}`, true, tokenFile);
      spawnSidecar = (f) => spawn('ip', ['netns', 'exec', ns, 'setpriv', `--reuid=${capture.proxyUid}`, `--regid=${capture.proxyGid}`, '--clear-groups', '--', ...tsmeshArgv(), ...f], { stdio: ['ignore', 'inherit', 'inherit'] });
      spawnApp = (env) => spawn('ip', ['netns', 'exec', ns, ...o.command], { stdio: 'inherit', env });
      ready = async () => (await runIn(ns, ['curl', '-sf', '-o', '/dev/null', '--max-time', '2', 'http://127.0.0.1:15000/ready'])).code === 0;
    } else {
      const ports = {
        inbound: o.localPorts.inbound || await freePort(),
        outbound: o.localPorts.outbound || await freePort(),
        admin: o.localPorts.admin || await freePort(),
      };
      o.log(`tsmesh run: mode local (not root: no network namespace, no iptables): sidecar on 127.0.0.1, inbound ${ports.inbound} -> app ${o.ports.map((p) => p.number).join(',')}, outbound through HTTP_PROXY=http://127.0.0.1:${ports.outbound}, admin ${ports.admin}`);
      const xds = o.join ? o.join.tls : o.xds;
      flags = sidecarFlags(o, podName, '127.0.0.1', ports, `${xds.host}:${xds.port}`, false, tokenFile);
      appEnv = { ...appEnv, HTTP_PROXY: `http://127.0.0.1:${ports.outbound}`, http_proxy: `http://127.0.0.1:${ports.outbound}`, NO_PROXY: '', no_proxy: '' };
      spawnSidecar = (f) => spawn(tsmeshArgv()[0]!, [...tsmeshArgv().slice(1), ...f], { stdio: ['ignore', 'inherit', 'inherit'] });
      spawnApp = (env) => spawn(o.command[0]!, o.command.slice(1), { stdio: 'inherit', env });
      ready = async () => {
        try {
          return (await fetch(`http://127.0.0.1:${ports.admin}/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
        } catch {
          return false;
        }
      };
    }
    sidecar = spawnSidecar(flags);
    const sidecarExit = exitOf(sidecar);
    // Istio's holdApplicationUntilProxyStarts: the app starts once its sidecar serves.
    if (!(await waitReady(sidecar, ready, 60_000)) || stopping) {
      sidecar.kill('SIGTERM');
      const code = await sidecarExit;
      if (stopping) return 143;
      o.log(`tsmesh run: the sidecar did not become ready (exit ${sidecar.exitCode ?? 'none'}); not starting ${o.command[0]}`);
      return code === 0 ? 1 : code;
    }
    if (host) {
      const h = host;
      const refresh = async (): Promise<void> => {
        try {
          const r = await fetch(`${o.control.replace(/\/$/, '')}/api/v1/hosts?namespace=${encodeURIComponent(o.namespace)}`, { signal: AbortSignal.timeout(2000) });
          if (r.ok) writeHostsFile(h, await r.text());
        } catch {
          // The control plane may be restarting: the last table stays.
        }
      };
      await refresh();
      const tick = (): void => { hostsTimer = setTimeout(() => { void refresh().then(tick); }, 1000); };
      tick();
    }
    o.log(`tsmesh run: sidecar ready; starting ${o.command.join(' ')}`);
    app = spawnApp(appEnv);
    const appStarted = new Promise<Error | undefined>((r) => { app!.once('spawn', () => r(undefined)); app!.once('error', (e) => r(e)); });
    const err = await appStarted;
    const code = err ? 127 : await exitOf(app);
    if (err) o.log(`tsmesh run: cannot start ${o.command[0]}: ${err.message}`);
    // The job is done (or failed): its sidecar drains and goes too.
    if (!stopping) o.log(`tsmesh run: ${o.command[0]} exited with ${code}; draining the sidecar`);
    if (sidecar.exitCode === null && sidecar.signalCode === null) sidecar.kill('SIGTERM');
    const killer = setTimeout(() => sidecar?.kill('SIGKILL'), (o.drainTimeS + 5) * 1000);
    await sidecarExit;
    clearTimeout(killer);
    return code;
  } finally {
    clearTimeout(hostsTimer);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    for (const c of [app, sidecar]) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    relay?.close();
    if (tokenDir) rmSync(tokenDir, { recursive: true, force: true });
    if (host) await removeHost(o.network, host);
  }
}

export { CAPTURE_DEFAULTS };
