/**
 * A whole mesh on loopback for end-to-end tests: `tsmesh control` and `tsmesh proxy` sidecars as
 * child processes, each sidecar in front of a small HTTP app (a real node:http server in the
 * test process). Tests call services by name the way an HTTP_PROXY-aware application does:
 * absolute-form requests to a sidecar's outbound port. Every process is stopped by close(),
 * and killed if the test process exits without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import { repoRoot } from './proxy.js';

const BIN = join(repoRoot(), 'bin/tsmesh.js');
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });

/** What a test app answers: who it is and what it saw. */
export interface AppAnswer { name: string; app: string; version: string; path: string; host: string; xfcc?: string }

export interface TestApp {
  readonly port: number;
  /** 'ok' answers 200 with an AppAnswer; 'fail' answers 503 (a broken instance). */
  mode: 'ok' | 'fail';
  /** Requests this app has answered. */
  served: number;
  close(): Promise<void>;
}

/** A node:http app on 127.0.0.1 answering JSON AppAnswers (header x-served-by: name). */
export async function startTestApp(name: string, labels: Readonly<Record<string, string>>): Promise<TestApp> {
  const state = { mode: 'ok' as 'ok' | 'fail', served: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.served++;
      if (state.mode === 'fail') { res.writeHead(503, { 'x-served-by': name }); res.end('broken instance'); return; }
      const xfcc = req.headers['x-forwarded-client-cert'];
      const answer: AppAnswer = { name, app: labels['app'] ?? name, version: labels['version'] ?? '', path: req.url ?? '', host: req.headers.host ?? '', ...(typeof xfcc === 'string' ? { xfcc } : {}) };
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name });
      res.end(JSON.stringify(answer));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  });
}

interface Spawned { child: ChildProcess; output(): string; exited: Promise<void> }

function spawnTsmesh(args: readonly string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-20_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => { live.delete(child); r(); }));
  return { child, output: () => out, exited };
}

async function stopChild(s: Spawned, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  const t = setTimeout(() => s.child.kill('SIGKILL'), 5000);
  await s.exited;
  clearTimeout(t);
}

export interface WorkloadSpec {
  /** The sidecar's --name (a pod name). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly xdsApi?: 'sotw' | 'delta';
  /** No app behind the sidecar (a pure client). */
  readonly noApp?: boolean;
  /** In a mesh started with `secure`: the service account its join token is for (default: the app label or name). */
  readonly serviceAccount?: string;
  /** In a mesh started with `secure`: the workload certificate's lifetime (--workload-cert-ttl). */
  readonly certTtl?: string;
  /** In a mesh started with `secure`: join over plaintext xDS without a token (a sidecar without a certificate). */
  readonly noJoin?: boolean;
}

export interface Workload {
  readonly spec: WorkloadSpec;
  readonly app: TestApp | undefined;
  readonly inboundPort: number;
  readonly outboundPort: number;
  readonly adminPort: number;
  /** The sidecar's --prometheus-port (Istio's 15090): /stats/prometheus. */
  readonly prometheusPort: number;
  output(): string;
  /** Stops the sidecar (SIGTERM drains; SIGKILL is a crash) and its app. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface SyncEntry { id: string; identity: { name: string; namespace: string }; stream: string; types: Record<string, { state: string }> }

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string; json: AppAnswer | undefined }

export interface Mesh {
  readonly url: string;
  readonly xdsPort: number;
  readonly dataDir: string;
  readonly configDir: string;
  readonly workloads: Map<string, Workload>;
  controlOutput(): string;
  addWorkload(spec: WorkloadSpec): Promise<Workload>;
  /** POST /api/v1/apply; throws with the answer unless 2xx. */
  apply(yaml: string): Promise<void>;
  syncz(): Promise<SyncEntry[]>;
  /** Waits until every named proxy is connected and SYNCED for CDS, LDS, EDS and RDS. */
  waitSynced(names: readonly string[], timeoutMs?: number): Promise<void>;
  stopControl(): Promise<void>;
  /** Starts the control plane again on the same ports and data dir. */
  startControl(): Promise<void>;
  close(): Promise<void>;
}

const SYNC_TYPES = ['Cluster', 'Listener', 'ClusterLoadAssignment', 'RouteConfiguration'];

/** Starts `tsmesh control` (fixed free ports, temp data and config dirs) and the workloads, in order. */
/**
 * `secure`: the control plane runs its CA on a TLS port and every sidecar joins with a join
 * token (tsmesh token create) through it, so it has a workload certificate and auto mTLS applies.
 */
export async function startMesh(opts: { workloads?: readonly WorkloadSpec[]; graceS?: number; configFiles?: Readonly<Record<string, string>>; secure?: boolean } = {}): Promise<Mesh> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsmesh-e2e-mesh-'));
  const configDir = join(dataDir, 'config');
  mkdirSync(configDir);
  for (const [f, text] of Object.entries(opts.configFiles ?? {})) writeFileSync(join(configDir, f), text);
  const [xdsPort, httpPort, xdsTlsPort] = [await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${httpPort}`;
  const workloads = new Map<string, Workload>();
  let control: Spawned | undefined;
  let controlLog = '';

  const startControl = async (): Promise<void> => {
    control = spawnTsmesh(['control', '--data-dir', dataDir, '--config-dir', configDir, '--xds-port', String(xdsPort), '--xds-tls-port', opts.secure ? String(xdsTlsPort) : '0', '--http-port', String(httpPort), '--registry-grace-s', String(opts.graceS ?? 10), '--dashboard-scrape-s', '1']);
    const c = control;
    await until(async () => {
      if (c.child.exitCode !== null) throw new Error(`tsmesh control exited with ${c.child.exitCode}:\n${c.output()}`);
      return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok || undefined;
    }, 30_000, () => `tsmesh control did not start:\n${c.output()}`);
  };
  const joinArgs = async (spec: WorkloadSpec): Promise<string[]> => {
    const serviceAccount = spec.serviceAccount ?? spec.labels['app'] ?? spec.name;
    const r = await fetch(`${url}/ca/tokens`, { method: 'POST', body: JSON.stringify({ namespace: 'default', serviceAccount, ttl: '1h' }), signal: AbortSignal.timeout(10_000) });
    if (!r.ok) throw new Error(`token for ${spec.name}: ${r.status} ${await r.text()}`);
    const file = join(dataDir, `${spec.name}.token`);
    writeFileSync(file, ((await r.json()) as { token: string }).token, { mode: 0o600 });
    return ['--xds', `127.0.0.1:${xdsTlsPort}`, '--token-file', file, '--service-account', serviceAccount, ...(spec.certTtl ? ['--workload-cert-ttl', spec.certTtl] : [])];
  };
  const syncz = async (): Promise<SyncEntry[]> => (await fetch(`${url}/debug/syncz`, { signal: AbortSignal.timeout(5000) })).json() as Promise<SyncEntry[]>;

  const mesh: Mesh = {
    url, xdsPort, dataDir, configDir, workloads,
    controlOutput: () => controlLog + (control?.output() ?? ''),
    async addWorkload(spec) {
      const [inboundPort, outboundPort, adminPort, prometheusPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const app = spec.noApp ? undefined : await startTestApp(spec.name, spec.labels);
      const join = opts.secure && !spec.noJoin ? await joinArgs(spec) : ['--xds', `127.0.0.1:${xdsPort}`];
      const args = ['proxy', ...join, '--xds-api', spec.xdsApi ?? 'sotw', '--name', spec.name, '--namespace', 'default',
        ...Object.entries(spec.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        '--inbound-port', String(inboundPort), '--outbound-port', String(outboundPort), '--admin-port', String(adminPort),
        '--prometheus-port', String(prometheusPort),
        ...(app ? ['--app-port', String(app.port)] : []), '--concurrency', '1', '--drain-time-s', '1'];
      const s = spawnTsmesh(args);
      // LIVE once the first listeners and clusters (and what they need) have arrived.
      await until(async () => {
        if (s.child.exitCode !== null) throw new Error(`sidecar ${spec.name} exited with ${s.child.exitCode}:\n${s.output()}`);
        return (await fetch(`http://127.0.0.1:${adminPort}/ready`, { signal: AbortSignal.timeout(2000) })).status === 200 || undefined;
      }, 30_000, () => `sidecar ${spec.name} not ready:\n${s.output()}`);
      const w: Workload = {
        spec, app, inboundPort, outboundPort, adminPort, prometheusPort,
        output: s.output,
        stop: async (signal) => { await stopChild(s, signal); await app?.close(); },
      };
      workloads.set(spec.name, w);
      return w;
    },
    async apply(yaml) {
      const r = await fetch(`${url}/api/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml, signal: AbortSignal.timeout(10_000) });
      if (!r.ok) throw new Error(`apply: ${r.status} ${await r.text()}`);
    },
    syncz,
    async waitSynced(names, timeoutMs = 30_000) {
      let last: SyncEntry[] = [];
      await until(async () => {
        last = await syncz();
        return names.every((n) => {
          const e = last.find((x) => x.identity.name === n);
          return e !== undefined && SYNC_TYPES.every((t) => e.types[`type.googleapis.com/${typeUrlPackage(t)}.${t}`]?.state === 'SYNCED');
        }) || undefined;
      }, timeoutMs, () => `not every proxy of ${names.join(', ')} SYNCED: ${JSON.stringify(last)}`);
    },
    async stopControl() {
      if (!control) return;
      await stopChild(control);
      controlLog += control.output();
      control = undefined;
    },
    startControl,
    async close() {
      for (const a of agents.splice(0)) a.destroy();
      await Promise.all([...workloads.values()].map((w) => w.stop()));
      if (control) await stopChild(control);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await startControl();
    for (const spec of opts.workloads ?? []) await mesh.addWorkload(spec);
  } catch (e) {
    await mesh.close();
    throw e;
  }
  return mesh;
}

function typeUrlPackage(type: string): string {
  return ({ Cluster: 'envoy.config.cluster.v3', Listener: 'envoy.config.listener.v3', ClusterLoadAssignment: 'envoy.config.endpoint.v3', RouteConfiguration: 'envoy.config.route.v3' } as Record<string, string>)[type]!;
}

const agents: http.Agent[] = [];

/** A keep-alive agent (one connection unless told), destroyed by the mesh's close(). */
export function keepAliveAgent(maxSockets = 1): http.Agent {
  const a = new http.Agent({ keepAlive: true, maxSockets });
  agents.push(a);
  return a;
}

/**
 * GET `http://host:port/path` through a sidecar's outbound port as an HTTP_PROXY-aware client
 * sends it (absolute-form request target, Host = the target's authority).
 */
export function viaProxy(outboundPort: number, target: string, o: { headers?: Record<string, string>; agent?: http.Agent; method?: string; timeoutMs?: number } = {}): Promise<Reply> {
  const u = new URL(target);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: outboundPort, method: o.method ?? 'GET', path: target, headers: { host: u.host, ...o.headers }, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        let json: AppAnswer | undefined;
        if (String(res.headers['content-type']).startsWith('application/json')) try { json = JSON.parse(body) as AppAnswer; } catch { /* not an app answer */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.setTimeout(o.timeoutMs ?? 15_000, () => req.destroy(new Error(`${target} via :${outboundPort}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `probe` until it returns a value (not undefined), at most `timeoutMs`; errors count as "not yet". */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, why: () => string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof Error && /exited with/.test(e.message)) throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${why()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `n` requests through `outboundPort`; the count of each `key(reply)` (default: the answering workload, else "HTTP <status>"). */
export async function tally(outboundPort: number, target: string, n: number, o: { headers?: Record<string, string>; agent?: http.Agent } = {}, key = (r: Reply): string => r.json?.name ?? `HTTP ${r.status}`): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) { const k = key(await viaProxy(outboundPort, target, o)); counts[k] = (counts[k] ?? 0) + 1; }
  return counts;
}

/** The reviews service of the e2e meshes: its URL for HTTP_PROXY calls, and its ServiceEntry. */
export const REVIEWS_URL = 'http://reviews.default.svc.cluster.local:9080';
export const REVIEWS_SERVICE_ENTRY = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: reviews } }
`;
