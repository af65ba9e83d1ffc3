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
 *                                       --base-port 18680 --out DIR --only tracing|log|metrics]
 *
 * A diagnostic: it prints numbers and never fails on them.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startTsmesh, checkServes } from './lib/servers.js';
import { sleep, waitUntil } from './lib/processes.js';
import { runWrk } from './lib/load.js';
import { intOption } from './lib/options.js';
import { tracingBenchBootstrap } from './lib/tracing-bootstrap.js';
import { repoRoot, log } from './lib/repo-root.js';
import { DIAG_BODY, fixed7, frameKey, onlyPart, printOnMinusOff, selfNs, startDiagPeers, type CallFrame, type CpuProfile } from './lib/telemetry-diag.js';

interface HeapNode { callFrame: CallFrame; selfSize: number; children: HeapNode[] }
interface HeapProfile { head: HeapNode }

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

/** The profile in `file`, once it is written whole (the writer's single writeFileSync may still be filling it). */
async function readProfileWhenWritten(file: string, timeoutMs: number): Promise<unknown> {
  let parsed: unknown;
  await waitUntil(`${file} written`, async () => {
    if (!existsSync(file)) return false;
    try { parsed = JSON.parse(readFileSync(file, 'utf8')); return true; } catch { return false; }
  }, timeoutMs);
  return parsed;
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
  const only = onlyPart(values.only);
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'tsmesh-telemetry-alloc-')));
  mkdirSync(out, { recursive: true });
  const root = repoRoot();
  const { ports, dir, close } = await startDiagPeers(b, 'alloc');
  const prefix = join(out, 'alloc');
  process.env['TSMESH_ALLOC_PROFILE'] = prefix;
  const cpu = values.cpu === true;
  if (cpu) process.env['TSMESH_PROFILE_KIND'] = 'cpu';
  const unit = cpu ? 'ns of CPU (self)' : 'bytes allocated';
  // The proxy's own memory flags (bin/tsmesh.js) given here, so that it does not re-execute itself.
  const sampler = resolve(join(root, 'dist/bench/lib/alloc-sampler.js'));
  const proxy = await startTsmesh({ bin: resolve(join(root, 'bin/tsmesh.js')), dir, bootstrap: tracingBenchBootstrap(ports, join(dir, 'access.log'), only), adminPort: ports.admin, concurrency: 1, nodeFlags: ['--max-semi-space-size=1', '--no-allocation-site-pretenuring', '--import', sampler] });
  for (const name of ['off', 'on'] as const) {
    await checkServes(ports[name], 'h1', DIAG_BODY);
    await runWrk(`http://127.0.0.1:${ports[name]}/`, { threads: 1, connections, durationSeconds: 2 });
  }
  const perRequest = new Map<'off' | 'on', Map<string, number>>();
  let n = 0;
  for (const name of ['off', 'on'] as const) {
    process.kill(proxy.pid, 'SIGUSR2');
    await sleep(200);
    const run = await runWrk(`http://127.0.0.1:${ports[name]}/`, { threads: 1, connections, durationSeconds: duration });
    process.kill(proxy.pid, 'SIGUSR2');
    const file = `${prefix}.${++n}.${cpu ? 'cpuprofile' : 'heapprofile'}`;
    const parsed = await readProfileWhenWritten(file, 30_000);
    const bytes = cpu ? selfNs(parsed as CpuProfile) : selfBytes(parsed as HeapProfile);
    perRequest.set(name, new Map([...bytes].map(([k, v]) => [k, v / run.requests])));
    const total = [...bytes.values()].reduce((a, x) => a + x, 0);
    const idle = bytes.get('(idle)') ?? 0;
    log(`${name}: ${Math.round(run.requestsPerSecond)} req/s, ${run.requests} requests, ${(total / run.requests).toFixed(0)} ${unit} per request${cpu ? ` (${((total - idle) / run.requests).toFixed(0)} not idle)` : ''}, profile ${file}`);
  }
  await proxy.stop(10_000);
  close();
  const off = perRequest.get('off')!;
  const on = perRequest.get('on')!;
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, x) => a + x, 0);
  printOnMinusOff(`${unit} per request by function (sampled)`, off, on, top);
  const busy = (m: Map<string, number>): number => sum(m) - (cpu ? m.get('(idle)') ?? 0 : 0);
  process.stdout.write(`total per request${cpu ? ' (not idle)' : ''}: off ${fixed7(busy(off))}, on ${fixed7(busy(on))}, on − off ${fixed7(busy(on) - busy(off))} ${cpu ? 'ns' : 'B'} (wrk -t1 -c${connections} -d${duration}s${only ? `, --only ${only}` : ''})\n`);
  process.stdout.write(`profiles in ${out}\n`);
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`alloc: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
