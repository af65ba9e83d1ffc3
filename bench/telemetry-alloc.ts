/**
 * What telemetry allocates per request, and where: the proxy of bench:tracing run with V8's
 * sampling heap profiler (bench/lib/alloc-sampler.ts, young garbage included), wrk on the `off`
 * and then the `on` listener of one proxy, and the bytes allocated per request by each
 * allocating function (self) compared. Bytes are what the sampler estimates (one sample per
 * ~4 KiB); unlike CPU time they do not move with other load on the machine. Functions inlined
 * into another count as that one. With --cpu: self time per request from the CPU profiler
 * instead, over the measured runs only (telemetry-profile.ts profiles the whole process).
 * Leaves the profiles (Chrome DevTools opens them) in --out.
 *
 *   node dist/bench/telemetry-alloc.js [--cpu --duration 5 --connections 32 --top 30
 *                                       --base-port 18680 --out DIR --only tracing|log]
 *
 * A diagnostic: it prints numbers and never fails on them.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, basename } from 'node:path';
import { parseArgs } from 'node:util';
import http from 'node:http';
import { killAllNow, assertPortsFree } from './lib/processes.js';
import { nginxUpstreamConf } from './lib/configs.js';
import { startNginx, startTsmesh, checkServes } from './lib/servers.js';
import { runWrk } from './lib/load.js';
import { intOption } from './lib/options.js';
import { tracingBenchBootstrap, type TelemetryPart } from './lib/tracing-bootstrap.js';
import { repoRoot, log } from './lib/repo-root.js';

const BODY = 'hello world\n';

interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }
interface HeapProfile { head: HeapNode }
interface CpuNode { id: number; callFrame: HeapNode['callFrame'] }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }

const frameKey = (f: HeapNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();

/** Self time in ns by function of a CPU profile. */
function selfNs(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, frameKey(n.callFrame)]));
  const out = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const key = byId.get(profile.samples[i]!) ?? '?';
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) * 1000);
  }
  return out;
}

/** Bytes allocated by function (name, file, line), summed over the profile's tree. */
function selfBytes(profile: HeapProfile): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (n: HeapNode): void => {
    const key = frameKey(n.callFrame);
    if (n.selfSize > 0) out.set(key, (out.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  return out;
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > until) throw new Error(`${file} was not written within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The writer's single writeFileSync may still be filling it: wait until it parses.
  for (;;) {
    try { JSON.parse(readFileSync(file, 'utf8')); return; } catch {
      if (Date.now() > until) throw new Error(`${file} is not a profile`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: { cpu: { type: 'boolean' }, duration: { type: 'string' }, connections: { type: 'string' }, top: { type: 'string' }, 'base-port': { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } },
  });
  const duration = intOption('duration', values.duration, 5, 1, 120);
  const connections = intOption('connections', values.connections, 32, 1, 1000);
  const top = intOption('top', values.top, 30, 1, 1000);
  const b = intOption('base-port', values['base-port'], 18680, 1024, 65000);
  if (values.only !== undefined && values.only !== 'tracing' && values.only !== 'log') throw new Error(`--only must be tracing or log, got ${JSON.stringify(values.only)}`);
  const only = values.only as TelemetryPart;
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'tsmesh-telemetry-alloc-')));
  mkdirSync(out, { recursive: true });
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-alloc-'));
  process.on('exit', () => { killAllNow(); rmSync(dir, { recursive: true, force: true }); });
  const ports = { upstream: b, upstreamH2: b + 1, off: b + 2, on: b + 3, admin: b + 4, collector: b + 5 };
  await assertPortsFree(Object.values(ports));
  const collector = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end()); });
  await new Promise<void>((r) => collector.listen(ports.collector, '127.0.0.1', () => r()));
  await startNginx('upstream', dir, nginxUpstreamConf({ dir, runAsRoot: process.getuid?.() === 0, h1Port: ports.upstream, h2Port: ports.upstreamH2, body: BODY }), [ports.upstream, ports.upstreamH2]);
  const prefix = join(out, 'alloc');
  process.env['TSMESH_ALLOC_PROFILE'] = prefix;
  const cpu = values.cpu === true;
  if (cpu) process.env['TSMESH_PROFILE_KIND'] = 'cpu';
  const unit = cpu ? 'ns of CPU (self)' : 'bytes allocated';
  // The proxy's own memory flags (bin/tsmesh.js) given here, so that it does not re-execute itself.
  const sampler = resolve(join(root, 'dist/bench/lib/alloc-sampler.js'));
  const proxy = await startTsmesh({ bin: resolve(join(root, 'bin/tsmesh.js')), dir, bootstrap: tracingBenchBootstrap(ports, join(dir, 'access.log'), only), adminPort: ports.admin, concurrency: 1, nodeFlags: ['--max-semi-space-size=1', '--no-allocation-site-pretenuring', '--import', sampler] });
  for (const name of ['off', 'on'] as const) {
    await checkServes(ports[name], 'h1', BODY);
    await runWrk(`http://127.0.0.1:${ports[name]}/`, { threads: 1, connections, durationSeconds: 2 });
  }
  const perRequest = new Map<'off' | 'on', Map<string, number>>();
  let n = 0;
  for (const name of ['off', 'on'] as const) {
    process.kill(proxy.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 200));
    const run = await runWrk(`http://127.0.0.1:${ports[name]}/`, { threads: 1, connections, durationSeconds: duration });
    process.kill(proxy.pid, 'SIGUSR2');
    const file = `${prefix}.${++n}.${cpu ? 'cpuprofile' : 'heapprofile'}`;
    await waitForFile(file, 30_000);
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const bytes = cpu ? selfNs(parsed as CpuProfile) : selfBytes(parsed as HeapProfile);
    perRequest.set(name, new Map([...bytes].map(([k, v]) => [k, v / run.requests])));
    const total = [...bytes.values()].reduce((a, x) => a + x, 0);
    const idle = bytes.get('(idle)') ?? 0;
    log(`${name}: ${Math.round(run.requestsPerSecond)} req/s, ${run.requests} requests, ${(total / run.requests).toFixed(0)} ${unit} per request${cpu ? ` (${((total - idle) / run.requests).toFixed(0)} not idle)` : ''}, profile ${file}`);
  }
  await proxy.stop(10_000);
  collector.close();
  const off = perRequest.get('off')!;
  const on = perRequest.get('on')!;
  const keys = new Set([...off.keys(), ...on.keys()]);
  const rows = [...keys].map((k) => ({ k, off: off.get(k) ?? 0, on: on.get(k) ?? 0 })).sort((x, y) => (y.on - y.off) - (x.on - x.off));
  const num = (x: number): string => x.toFixed(0).padStart(7);
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, x) => a + x, 0);
  process.stdout.write(`${unit} per request by function (sampled), on − off, top ${top}:\n`);
  process.stdout.write(`${'off'.padStart(7)} ${'on'.padStart(7)} ${'diff'.padStart(7)}  function\n`);
  for (const r of rows.slice(0, top)) process.stdout.write(`${num(r.off)} ${num(r.on)} ${num(r.on - r.off)}  ${r.k}\n`);
  const busy = (m: Map<string, number>): number => sum(m) - (cpu ? m.get('(idle)') ?? 0 : 0);
  process.stdout.write(`total per request${cpu ? ' (not idle)' : ''}: off ${num(busy(off))}, on ${num(busy(on))}, on − off ${num(busy(on) - busy(off))} ${cpu ? 'ns' : 'B'} (wrk -t1 -c${connections} -d${duration}s${only ? `, --only ${only}` : ''})\n`);
  process.stdout.write(`profiles in ${out}\n`);
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`alloc: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
