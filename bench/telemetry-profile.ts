/**
 * Where telemetry's CPU goes: the proxy of bench:tracing run under `node --cpu-prof`, once with
 * wrk on the `off` listener and once on the `on` listener, and the functions' self time per
 * request compared. Prints the functions whose self time per request differs most (on − off)
 * and the total, and leaves the .cpuprofile files (open them in Chrome DevTools) in --out.
 *
 *   node dist/bench/telemetry-profile.js [--duration 8 --connections 32 --top 40 --base-port 18580
 *                                         --out DIR --only tracing|log|metrics]
 *
 * A diagnostic: it prints numbers and never fails on them.
 */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startTsmesh, checkServes } from './lib/servers.js';
import { runWrk } from './lib/load.js';
import { intOption } from './lib/options.js';
import { tracingBenchBootstrap } from './lib/tracing-bootstrap.js';
import { repoRoot, log } from './lib/repo-root.js';
import { DIAG_BODY, fixed7, onlyPart, printOnMinusOff, selfNs, startDiagPeers, type CpuProfile } from './lib/telemetry-diag.js';

// The proxy's own memory flags (bin/tsmesh.js) given here, so that it does not re-execute
// itself: a profiler running across execv can kill the new image with SIGPROF.
const PROFILE_FLAGS = (dir: string): string[] => ['--max-semi-space-size=1', '--no-allocation-site-pretenuring', '--cpu-prof', `--cpu-prof-dir=${dir}`];

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: { duration: { type: 'string' }, connections: { type: 'string' }, top: { type: 'string' }, 'base-port': { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } },
  });
  const duration = intOption('duration', values.duration, 8, 1, 120);
  const connections = intOption('connections', values.connections, 32, 1, 1000);
  const top = intOption('top', values.top, 40, 1, 1000);
  const b = intOption('base-port', values['base-port'], 18580, 1024, 65000);
  const only = onlyPart(values.only);
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'tsmesh-telemetry-profile-')));
  const root = repoRoot();
  const { ports, dir, close } = await startDiagPeers(b, 'profile');

  const perRequest = new Map<'off' | 'on', Map<string, number>>();
  for (const name of ['off', 'on'] as const) {
    const profDir = join(out, name);
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
    const proxy = await startTsmesh({ bin: resolve(join(root, 'bin/tsmesh.js')), dir, bootstrap: tracingBenchBootstrap(ports, join(dir, 'access.log'), only), adminPort: ports.admin, concurrency: 1, nodeFlags: PROFILE_FLAGS(profDir) });
    const port = ports[name];
    await checkServes(port, 'h1', DIAG_BODY);
    await runWrk(`http://127.0.0.1:${port}/`, { threads: 1, connections, durationSeconds: 2 });
    const run = await runWrk(`http://127.0.0.1:${port}/`, { threads: 1, connections, durationSeconds: duration });
    await proxy.stop(10_000);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile written in ${profDir}`);
    const self = selfNs(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile);
    // Requests of the warm-up and the check are in the profile too.
    const requests = run.requests * ((duration + 2) / duration);
    const norm = new Map([...self].map(([k, ns]) => [k, ns / requests]));
    perRequest.set(name, norm);
    log(`${name}: ${Math.round(run.requestsPerSecond)} req/s, profile ${join(profDir, file)}`);
  }
  close();
  const off = perRequest.get('off')!;
  const on = perRequest.get('on')!;
  printOnMinusOff('profile self time per request (ns; includes idle and GC)', off, on, top);
  const busy = (m: Map<string, number>): number => [...m.values()].reduce((a, x) => a + x, 0) - (m.get('(idle)') ?? 0);
  process.stdout.write(`busy (total − idle) per request: off ${fixed7(busy(off))} ns, on ${fixed7(busy(on))} ns\n`);
  process.stdout.write(`profiles in ${out}\n`);
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`profile: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
