import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.js';

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}

export interface RunningProxy {
  adminPort: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  admin(path: string, method?: string): Promise<{ status: number; body: string }>;
  stop(): Promise<number | null>;
}

/** Runs the CLI with arguments; resolves with its exit code and output (for start-up errors). */
export function runCli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin/tsmesh.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, stdout: out, stderr: err }); });
  });
}

export function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-test-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/**
 * Starts `tsmesh proxy` on a bootstrap whose text may contain `ADMIN_PORT`, which is replaced
 * by a free port; waits until /ready answers LIVE (with `live: false`, until the admin answers at all).
 */
export async function startProxy(bootstrapYaml: string, opts: { concurrency?: number; live?: boolean; args?: readonly string[] } = {}): Promise<RunningProxy> {
  const adminPort = await freePort();
  const file = writeTemp('bootstrap.yaml', bootstrapYaml.replaceAll('ADMIN_PORT', String(adminPort)));
  const child = spawn(process.execPath, [join(repoRoot(), 'bin/tsmesh.js'), 'proxy', '-c', file, '--concurrency', String(opts.concurrency ?? 1), ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const admin = async (path: string, method = 'GET'): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}: ${err}`);
    try {
      const ready = await admin('/ready');
      if (ready.status === 200 || opts.live === false) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`proxy not ready: ${err}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    adminPort,
    child,
    stdout: () => out,
    stderr: () => err,
    admin,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/**
 * The start of a bootstrap: admin on ADMIN_PORT and one HTTP listener named `main` whose
 * connection manager (stat_prefix ingress) continues with what the caller appends at 10 spaces
 * of indentation (route_config, http_filters), then `clusters:`.
 */
export function httpListenerHead(listenPort: number, hcmExtra = ''): string {
  return `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } }
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
${indent(hcmExtra, 10)}`;
}

export const ROUTER_FILTER = `
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;

/** A minimal bootstrap: one HTTP listener routing everything to one STATIC cluster. */
export function httpBootstrap(o: { listenPort: number; upstreamPort: number; hcmExtra?: string; routeExtra?: string; clusterExtra?: string; vhostExtra?: string }): string {
  return `${httpListenerHead(o.listenPort, o.hcmExtra)}
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
${indent(o.vhostExtra ?? '', 14)}
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: app
${indent(o.routeExtra ?? '', 18)}${ROUTER_FILTER}
  clusters:
  - name: app
    connect_timeout: 1s
    type: STATIC
${indent(o.clusterExtra ?? '', 4)}
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.upstreamPort} } } }
`;
}

function indent(s: string, n: number): string {
  const pad = ' '.repeat(n);
  return s.split('\n').filter((l) => l.trim()).map((l) => pad + l.replace(/^\s*/, (m) => m)).join('\n');
}

/** A STATIC cluster entry (under `clusters:`) with one endpoint per port on 127.0.0.1. */
export function staticCluster(name: string, ports: readonly number[], extra = ''): string {
  return `
  - name: ${name}
    connect_timeout: 0.5s
    type: STATIC
${extra}
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:${ports.map((p) => `
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`).join('')}`;
}
