import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startApp, type RunningApp } from './bookinfo.js';
import { startCaptured } from './captured.js';
import { renderProxyStatus, type SyncEntry } from '../cli/proxy-status.js';

/*
 * `tsmesh demo`: the control plane, a bookinfo-like application with a sidecar per workload,
 * and a walk through what a mesh does: a canary, an A/B route by header, a retry that hides a
 * flaky service, a timeout. Everything runs on loopback; Ctrl-C stops it all.
 */

export interface DemoOptions {
  /** Requests sent per scene (100 by default). */
  readonly requests: number;
  /**
   * Each workload on a host of its own with traffic capture and mutual TLS (tsmesh run; needs
   * root). Otherwise everything on loopback with HTTP_PROXY.
   */
  readonly capture: boolean;
  /** Keep running after the walk-through until Ctrl-C. */
  readonly stay: boolean;
  readonly out: (line: string) => void;
}

interface Workload { app: RunningApp; sidecar: ChildProcess; inboundPort: number; outboundPort: number; adminPort: number; output: string[] }

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'tsmesh.js');

export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = opts.out;
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-demo-'));
  const configDir = join(dir, 'config');
  // Services and destination rules come from the watched config dir; routing is applied through the API.
  mkdirSync(configDir, { recursive: true });
  for (const f of ['services.yaml', 'destination-rules.yaml']) cpSync(join(ROOT, 'examples', 'bookinfo', f), join(configDir, f));
  const children: ChildProcess[] = [];
  const apps: RunningApp[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await Promise.all(apps.map((a) => a.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  // Dying without stop() (a closed stdout, an exception) must not leave workloads running:
  // SIGTERM lets each tsmesh run remove its host.
  process.once('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM'); });
  const interrupted = new Promise<number>((resolve) => {
    process.once('SIGINT', () => { out('\nCtrl-C: stopping the mesh'); void stop().then(() => resolve(130)); });
  });

  /*
   * Free ports are found by binding port 0 and closing it; another process on the machine may
   * take one (as the source port of a connection) before the control plane binds it. Such a
   * start is tried again on new ports, twice at most.
   */
  const startControl = async (): Promise<{ xdsPort: number; xdsTlsPort: number; api: string }> => {
    for (let attempt = 1; ; attempt++) {
      const [xdsPort, httpPort, xdsTlsPort] = [await freePort(), await freePort(), await freePort()];
      out(`control plane: xDS on 127.0.0.1:${xdsPort}${opts.capture ? ` and with its CA on 127.0.0.1:${xdsTlsPort} (TLS)` : ''}, API on http://127.0.0.1:${httpPort} (config dir ${configDir})`);
      const control = spawnTsmesh(['control', '--config-dir', configDir, '--data-dir', join(dir, 'data'), '--xds-port', String(xdsPort), '--xds-tls-port', opts.capture ? String(xdsTlsPort) : '0', '--http-port', String(httpPort)], children, []);
      const api = `http://127.0.0.1:${httpPort}`;
      const portTaken = (): boolean => control.child.exitCode !== null && control.output.join('').includes('EADDRINUSE');
      await waitFor(async () => portTaken() || (await get(`${api}/healthz`)).status === 200, 20_000, () => `the control plane did not start:\n${control.output.join('')}`);
      if (!portTaken()) return { xdsPort, xdsTlsPort, api };
      if (attempt === 3) throw new Error(`the control plane did not start:\n${control.output.join('')}`);
      out('control plane: a port was taken meanwhile; trying others');
    }
  };

  const walk = async (): Promise<number> => {
    const { xdsPort, xdsTlsPort, api } = await startControl();
    if (opts.capture) {
      const c = await startCaptured({ api, xdsPort, xdsTlsPort, children, out });
      return walkScenes({ api, front: c.front, setFlaky: c.setFlaky, proof: c.proof, outputOf: c.outputOf });
    }

    const workloads = new Map<string, Workload>();
    for (const [name, version] of [['productpage', 'v1'], ['details', 'v1'], ['reviews', 'v1'], ['reviews', 'v2'], ['reviews', 'v3'], ['ratings', 'v1']] as const) {
      const [inboundPort, outboundPort, adminPort] = [await freePort(), await freePort(), await freePort()];
      const app = await startApp(name, version, 0, { proxyPort: outboundPort });
      apps.push(app);
      const p = spawnTsmesh(['proxy', '--xds', `127.0.0.1:${xdsPort}`, '--name', `${name}-${version}`, '--namespace', 'default',
        '--label', `app=${name}`, '--label', `version=${version}`, '--service-account', `bookinfo-${name}`,
        '--inbound-port', String(inboundPort), '--outbound-port', String(outboundPort), '--admin-port', String(adminPort),
        '--app-port', String(app.port), '--concurrency', '1'], children, []);
      workloads.set(`${name}-${version}`, { app, sidecar: p.child, inboundPort, outboundPort, adminPort, output: p.output });
      out(`  ${`${name}-${version}`.padEnd(14)} app :${app.port}  sidecar inbound :${inboundPort} outbound :${outboundPort} admin :${adminPort}`);
    }
    const page = workloads.get('productpage-v1')!;
    const ratingsApp = workloads.get('ratings-v1')!.app;
    return walkScenes({
      api, front: `http://127.0.0.1:${page.inboundPort}`,
      setFlaky: async (on) => { ratingsApp.options.flaky = on; },
      outputOf: () => page.output.join('').slice(-2000),
    });
  };

  /** The scenes, the same with and without capture: `front` is where productpage is reached. */
  const walkScenes = async (m: { api: string; front: string; setFlaky: (on: boolean) => Promise<void>; proof?: () => Promise<string[]>; outputOf: () => string }): Promise<number> => {
    const { api, front } = m;
    out('waiting for every sidecar to be programmed (productpage → details and reviews → ratings through the sidecars) ...');
    let last: unknown;
    await waitFor(async () => {
      const r = await get(`${front}/productpage`);
      last = r;
      return r.status === 200 && versionOf(r.body) !== undefined && !describe(r.body).includes('failed') && !JSON.stringify(r.body).includes('"error"');
    }, 90_000, () => `the mesh did not converge (last answer ${JSON.stringify(last)}); productpage said:\n${m.outputOf()}`);
    out(`ready: $ curl ${front}/productpage  →  ${JSON.stringify(last && (last as { body: unknown }).body)}\n`);
    if (m.proof) for (const line of await m.proof()) out(line);

    const apply = async (title: string, yaml: string, file?: string): Promise<void> => {
      if (file) out(`$ tsmesh apply -f ${file}  # ${title}`);
      else {
        out(`$ tsmesh apply -f - <<EOF  # ${title}`);
        for (const l of yaml.trim().split('\n')) out(`    ${l}`);
      }
      const r = await post(`${api}/api/v1/apply`, yaml);
      if (r.status >= 300) throw new Error(`apply failed (${r.status}): ${r.body}`);
    };
    const scene = async (title: string, headers: Record<string, string> = {}, n = opts.requests): Promise<Map<string, number>> => {
      const counts = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const r = await get(`${front}/productpage`, headers);
        const key = r.status !== 200 ? `HTTP ${r.status}` : describe(r.body);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      out(`  ${title}: ${[...counts].sort().map(([k, n]) => `${k} ×${n}`).join(', ')}`);
      return counts;
    };
    // Route changes reach the sidecars within a push; wait until the new routing is what we see
    // five times in a row (one match can be luck while the old routes still balance).
    const settle = async (want: (body: unknown) => boolean, headers: Record<string, string> = {}, times = 5): Promise<void> => {
      let streak = 0;
      await waitFor(async () => {
        streak = want((await get(`${front}/productpage`, headers)).body) ? streak + 1 : 0;
        return streak >= times;
      }, 20_000, () => `the change did not reach the sidecars:\n${syncStatus()}`);
    };
    let lastStatus = '';
    const syncStatus = (): string => lastStatus;
    const refreshStatus = async (): Promise<void> => {
      const r = await get(`${api}/debug/syncz`);
      if (r.status === 200) lastStatus = renderProxyStatus(r.body as SyncEntry[]);
    };
    const statusTimer = setInterval(() => void refreshStatus().catch(() => {}), 1000);
    statusTimer.unref();

    out('1. Everyone on reviews v1');
    await apply('all traffic to v1', readFileSync(join(ROOT, 'examples', 'bookinfo', 'virtual-services.yaml'), 'utf8'), 'examples/bookinfo/virtual-services.yaml');
    // Before this VirtualService a third of the answers are v1 by chance: a longer streak.
    await settle((b) => versionOf(b) === 'v1', {}, 12);
    await scene(`${opts.requests} requests`);

    out('\n2. Canary: 90% v1, 10% v3');
    await apply('canary 90/10', vs('reviews', [{ subset: 'v1', weight: 90 }, { subset: 'v3', weight: 10 }]));
    await waitFor(async () => versionOf((await get(`${front}/productpage`)).body) === 'v3', 20_000, () => `no v3 seen:\n${syncStatus()}`);
    await scene(`${opts.requests} requests`);

    out('\n3. A/B by header: end-user jason gets v2, everyone else v1');
    await apply('route by header', reviewsByHeader());
    await settle((b) => versionOf(b) === 'v2', { 'end-user': 'jason' });
    await scene('as jason', { 'end-user': 'jason' });
    await scene('anonymous');

    out('\n4. ratings turns flaky (every other request fails with 500); reviews v2 shows it');
    await m.setFlaky(true);
    await apply('ratings without retries', ratingsVs('retries: { attempts: 0 }'));
    // Half the answers fail now: one failure shown is the sign (Istio's default retries skip 500s too).
    await settle((b) => describe(b).includes('unavailable'), { 'end-user': 'jason' }, 1);
    await scene('as jason, no retries', { 'end-user': 'jason' });
    await apply('retry 5xx up to 3 times', ratingsVs('retries: { attempts: 3, retryOn: 5xx }'));
    await waitFor(async () => {
      for (let i = 0; i < 6; i++) if (describe((await get(`${front}/productpage`, { 'end-user': 'jason' })).body).includes('unavailable')) return false;
      return true;
    }, 15_000, () => 'retries did not take effect');
    await scene('as jason, with retries', { 'end-user': 'jason' });
    await m.setFlaky(false);

    out('\n5. ratings slows down by 2 s (fault injection); productpage gives up on reviews after 0.5 s');
    await apply('delay every ratings request by 2s', ratingsVs('fault: { delay: { fixedDelay: 2s, percentage: { value: 100 } } }'));
    await apply('time reviews out after 0.5s', reviewsByHeader('0.5s'));
    await settle((b) => describe(b).includes('reviews failed (504)'), { 'end-user': 'jason' });
    const t0 = Date.now();
    const n = Math.min(opts.requests, 10);
    await scene(`as jason, ${n} requests`, { 'end-user': 'jason' }, n);
    out(`  (${n} requests took ${((Date.now() - t0) / 1000).toFixed(1)} s: each gave up after 0.5 s instead of waiting 2 s; the page still renders its details)`);

    out('\nDone. The sidecars kept serving through every change; nothing was restarted.');
    if (opts.stay) {
      out(`Running until Ctrl-C. Try: tsmesh proxy-status --control ${api}   tsmesh proxy-config routes reviews-v2 --control ${api}   curl ${front}/productpage`);
      return await interrupted;
    }
    out('(tsmesh demo --stay keeps it running for tsmesh proxy-status, proxy-config and curl.)');
    return 0;
  };
  try {
    return await Promise.race([walk(), interrupted]);
  } catch (e) {
    out(`\ndemo failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await stop();
  }
}

function vs(host: string, routes: { subset: string; weight: number }[]): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host}, namespace: default }
spec:
  hosts: [${host}]
  http:
  - route:
${routes.map((r) => `    - destination: { host: ${host}, subset: ${r.subset} }\n      weight: ${r.weight}`).join('\n')}
`;
}

/** The A/B rule: end-user jason → v2 (with an optional timeout), everyone else → v1. */
function reviewsByHeader(timeout?: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - match: [ { headers: { end-user: { exact: jason } } } ]
    route: [ { destination: { host: reviews, subset: v2 } } ]${timeout ? `\n    timeout: ${timeout}` : ''}
  - route: [ { destination: { host: reviews, subset: v1 } } ]
`;
}

/** ratings' one route with a policy line (retries, fault, ...). */
function ratingsVs(policy: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings, namespace: default }
spec:
  hosts: [ratings]
  http:
  - route: [ { destination: { host: ratings } } ]
    ${policy}
`;
}

function versionOf(body: unknown): string | undefined {
  const r = (body as { reviews?: { version?: unknown } } | undefined)?.reviews;
  return typeof r?.version === 'string' ? r.version : undefined;
}

function describe(body: unknown): string {
  const r = (body as { reviews?: { version?: string; stars?: string; ratings?: unknown; error?: number } } | undefined)?.reviews;
  if (!r) return 'no reviews';
  if (r.error !== undefined) return `reviews failed (${r.error})`;
  if (r.version === 'v1') return 'reviews v1 (no stars)';
  return `reviews ${r.version} (${r.stars} stars${typeof r.ratings === 'string' ? `, ratings ${r.ratings}` : ''})`;
}

function spawnTsmesh(args: string[], children: ChildProcess[], output: string[]): { child: ChildProcess; output: string[] } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => { output.push(d.toString()); if (output.length > 200) output.shift(); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  children.push(child);
  return { child, output };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, why: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(why());
    await new Promise((r) => setTimeout(r, 100));
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return send('GET', url, headers);
}

function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return send('POST', url, { 'content-type': 'application/yaml' }, body).then((r) => ({ status: r.status, body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) }));
}

function send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

const handedOut = new Set<number>();

/**
 * A port free now and not handed out before in this process: the sidecars bind theirs only
 * when they start, so the same free port could otherwise be given to two of them.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const p = await anyFreePort();
    if (!handedOut.has(p)) { handedOut.add(p); return p; }
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}
