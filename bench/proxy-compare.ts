/**
 * Issue 2's benchmark: the same small-response load through tsmesh, nginx and haproxy, and
 * straight to the upstream, alternated round by round on one machine. Prints Markdown tables
 * and writes them, with the machine and the exact commands, to BENCHMARKS.md.
 *
 *   node --import tsx bench/proxy-compare.ts [--quick] [--no-write] [--rounds 3] [--duration 5] ...
 *
 * (options: bench/lib/options.ts)
 * `npm run bench -- OPTIONS` runs it after building. It prints numbers, it never fails on them; it
 * exits non-zero only when the harness itself cannot run (tools missing, ports busy, the
 * upstream does not start). A proxy that fails to start or dies gets a "NAME: failed (reason)"
 * row and the others go on. Every child is killed on exit, error and SIGINT/SIGTERM.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { killAllNow, describeExit, lastLine, assertPortsFree, sleep, type ServerProcess } from './lib/processes.js';
import { nginxUpstreamConf, nginxProxyConf, haproxyConf, renderTemplate } from './lib/configs.js';
import { startNginx, startHaproxy, startTsmesh, checkServes } from './lib/servers.js';
import { runWrk, runH2loadThroughput, runH2loadRate, type LoadRun } from './lib/load.js';
import { treeCpuSeconds, treeRssBytes, pinTree, otherCpuWindow } from './lib/proc.js';
import { describeMachine } from './lib/machine.js';
import { parseOptions, type Options } from './lib/options.js';
import { QuietGate, DEFAULT_LIMITS } from './lib/quiet-gate.js';
import { keepSections } from './lib/sections.js';
import { renderReport, renderTables, type PhaseName, type TargetOutcome, type TargetName, type ReportInput, type Sample } from './lib/report.js';
import { log, repoRoot } from './lib/repo-root.js';

const BODY = 'hello world\n';

/** A target as the driver runs it: its ports and the process whose tree is sampled. */
interface Target extends TargetOutcome {
  h1Port: number;
  h2Port: number;
  server?: ServerProcess;
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function newTarget(name: TargetName, description: string, h1Port: number, h2Port: number): Target {
  return { name, description, h1Port, h2Port, phases: { h1: { samples: [] }, h1rate: { samples: [] }, h2: { samples: [] }, h2rate: { samples: [] } } };
}

function active(t: Target, phase: PhaseName): t is Target & { server: ServerProcess } {
  return t.server !== undefined && t.failure === undefined && t.phases[phase].failure === undefined;
}

/** True (and the target marked failed) when its process has exited. */
function died(t: Target, during: string): boolean {
  const ex = t.server?.exitInfo();
  if (!ex) return false;
  t.failure ??= `exited during ${during}: ${describeExit(ex)}${lastLine(t.server?.output() ?? '')}`;
  log(`${t.name}: failed (${t.failure})`);
  return true;
}

type Load = (t: Target) => Promise<LoadRun>;

/**
 * Runs `load` once against `t`, sampling around the run its process tree's CPU time and how
 * much CPU the rest of the machine took (everything outside this driver's process tree).
 */
async function measure(t: Target & { server: ServerProcess }, phase: PhaseName, load: Load, commands: Map<string, string>): Promise<Sample | undefined> {
  const other = otherCpuWindow(process.pid);
  const cpu0 = treeCpuSeconds(t.server.pid);
  let run: LoadRun;
  try {
    run = await load(t);
  } catch (e) {
    if (!died(t, phase)) t.phases[phase].failure = reason(e);
    return undefined;
  }
  const cpu1 = treeCpuSeconds(t.server.pid);
  const otherCpuPct = other();
  if (died(t, phase)) return undefined;
  if (!commands.has(`${phase} ${t.name}`)) commands.set(`${phase} ${t.name}`, `${run.command}  # ${phase}, ${t.name}`);
  if (run.requests === 0 || run.errors > 0.01 * run.requests) {
    t.phases[phase].failure = `${run.errors} of ${run.requests} requests failed or were not 2xx`;
    return undefined;
  }
  const cpuPer1k = ((cpu1 - cpu0) / run.requests) * 1000;
  const sample: Sample = { rps: run.requestsPerSecond, p50Ms: run.p50Ms, p90Ms: run.p90Ms, p99Ms: run.p99Ms, requests: run.requests, cpuPer1k, errors: run.errors, otherCpuPct };
  log(`  ${t.name.padEnd(8)} ${Math.round(run.requestsPerSecond).toString().padStart(7)} req/s  p50 ${run.p50Ms.toFixed(3)} ms  p99 ${run.p99Ms.toFixed(3)} ms  CPU ${cpuPer1k.toFixed(4)} s/1000 req  other ${otherCpuPct.toFixed(0)}% CPU`);
  return sample;
}

/** Warm-up (not measured) per target, then `rounds` rounds alternating the targets. */
async function runPhase(phase: PhaseName, targets: Target[], o: Options, load: Load, warm: Load | undefined, commands: Map<string, string>, quiet: QuietGate): Promise<void> {
  if (warm) {
    log(`${phase}: warm-up ${o.warmupSeconds} s per target`);
    for (const t of targets) {
      if (!active(t, phase)) continue;
      try { await warm(t); } catch (e) { if (!died(t, `${phase} warm-up`)) t.phases[phase].failure = `warm-up: ${reason(e)}`; }
    }
  }
  for (let r = 1; r <= o.rounds; r++) {
    log(`${phase}: round ${r}/${o.rounds}`);
    for (const t of targets) {
      if (!active(t, phase)) continue;
      // A run disturbed by other work is repeated once; the repeat counts whatever happens.
      for (let attempt = 1; attempt <= 2; attempt++) {
        await quiet.wait();
        const sample = await measure(t, phase, load, commands);
        if (!sample) break;
        if (attempt === 1 && quiet.shouldRepeat(`${phase} round ${r} ${t.name}`, sample.otherCpuPct)) {
          log(`  ${t.name.padEnd(8)} discarded: other work took ${sample.otherCpuPct.toFixed(0)}% CPU; repeating`);
          continue;
        }
        t.phases[phase].samples.push(sample);
        break;
      }
    }
  }
}

/** Starts one proxy and checks that it forwards both protocols; records failures on `t`. */
async function startProxy(t: Target, start: () => Promise<ServerProcess>, cpus: string | undefined): Promise<void> {
  try {
    t.server = await start();
    if (cpus !== undefined) pinTree(t.server.pid, cpus);
  } catch (e) {
    t.failure = `did not start: ${reason(e)}`;
    log(`${t.name}: failed (${t.failure})`);
    return;
  }
  try {
    await checkServes(t.h1Port, 'h1', BODY);
  } catch (e) {
    t.failure = died(t, 'the first request') ? t.failure : reason(e);
    log(`${t.name}: failed (${t.failure})`);
    return;
  }
  try {
    await checkServes(t.h2Port, 'h2', BODY);
  } catch (e) {
    if (died(t, 'the first h2c request')) return;
    t.phases.h2.failure = t.phases.h2rate.failure = reason(e);
    log(`${t.name}: HTTP/2 failed (${reason(e)})`);
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const root = repoRoot();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-'));
  process.on('exit', () => {
    killAllNow();
    if (!o.keepTemp) rmSync(dir, { recursive: true, force: true });
  });
  const phases: PhaseName[] = o.skipH2 ? ['h1', 'h1rate'] : ['h1', 'h1rate', 'h2', 'h2rate'];
  const perProtocol = 4 * o.warmupSeconds + o.rounds * 4 * (o.durationSeconds + o.rateDurationSeconds);
  const repeatSeconds = DEFAULT_LIMITS.maxRepeats * Math.max(o.durationSeconds, o.rateDurationSeconds);
  const expected = perProtocol * (o.skipH2 ? 1 : 2) + repeatSeconds;
  const quietBudgetSeconds = DEFAULT_LIMITS.totalWaitMs / 1000;
  log(`bench: about ${Math.ceil(expected / 60)} min of load; temp dir ${dir}`);
  // A last resort against any wait that slipped its own deadline: the bench never hangs.
  setTimeout(() => { log('bench: exceeded its time budget, aborting'); process.exit(1); }, (expected * 2 + quietBudgetSeconds + 120) * 1000).unref();

  const p = o.basePort;
  const ports = { upH1: p, upH2: p + 1, nginxH1: p + 2, nginxH2: p + 3, haproxyH1: p + 4, haproxyH2: p + 5, tsmesh: p + 6, tsmeshAdmin: p + 7 };
  await assertPortsFree(Object.values(ports));

  const machine = await describeMachine();
  const version = (label: string): string => machine.find(([k]) => k === label)?.[1] ?? label;
  const runAsRoot = process.getuid?.() === 0;
  const upstreamConf = nginxUpstreamConf({ dir, runAsRoot, h1Port: ports.upH1, h2Port: ports.upH2, body: BODY });
  const nginxConf = nginxProxyConf({ dir, runAsRoot, h1Port: ports.nginxH1, h2Port: ports.nginxH2, upstreamPort: ports.upH1, keepalive: o.nginxKeepalive });
  const haConf = haproxyConf({ h1Port: ports.haproxyH1, h2Port: ports.haproxyH2, upstreamPort: ports.upH1 });
  const template = readFileSync(join(root, 'bench/tsmesh-bootstrap.yaml'), 'utf8');
  const bootstrap = renderTemplate(template, { LISTEN_PORT: ports.tsmesh, ADMIN_PORT: ports.tsmeshAdmin, UPSTREAM_PORT: ports.upH1 });

  const direct = newTarget('direct', `upstream itself: ${version('nginx')}, 1 worker`, ports.upH1, ports.upH2);
  const tsmesh = newTarget('tsmesh', `tsmesh proxy --concurrency ${o.tsmeshConcurrency} (Node ${process.version})`, ports.tsmesh, ports.tsmesh);
  const nginx = newTarget('nginx', `${version('nginx')}, 1 worker, upstream keepalive ${o.nginxKeepalive}`, ports.nginxH1, ports.nginxH2);
  const haproxy = newTarget('haproxy', `${version('haproxy')}, nbthread 1, http-reuse always`, ports.haproxyH1, ports.haproxyH2);
  const targets = [direct, tsmesh, nginx, haproxy];

  log('starting upstream, nginx, haproxy, tsmesh');
  const serverCpus = o.pinning?.servers;
  direct.server = await startNginx('upstream', dir, upstreamConf, [ports.upH1, ports.upH2]);
  if (serverCpus !== undefined) pinTree(direct.server.pid, serverCpus);
  await checkServes(ports.upH1, 'h1', BODY);
  await checkServes(ports.upH2, 'h2', BODY);
  await startProxy(nginx, () => startNginx('proxy', dir, nginxConf, [ports.nginxH1, ports.nginxH2]), serverCpus);
  await startProxy(haproxy, () => startHaproxy(dir, haConf, [ports.haproxyH1, ports.haproxyH2]), serverCpus);
  await startProxy(tsmesh, () => startTsmesh({ bin: resolve(o.tsmeshBin ?? join(root, 'bin/tsmesh.js')), dir, bootstrap, adminPort: ports.tsmeshAdmin, concurrency: o.tsmeshConcurrency }), serverCpus);

  await sleep(1000);
  for (const t of targets) if (t.server && !t.failure) t.idleRssBytes = treeRssBytes(t.server.pid);

  const commands = new Map<string, string>();
  const logFile = join(dir, 'h2load.log');
  const h1Url = (t: Target): string => `http://127.0.0.1:${t.h1Port}/`;
  const h2Url = (t: Target): string => `http://127.0.0.1:${t.h2Port}/`;
  const cpus = o.pinning?.load;
  const wrk = (seconds: number): Load => (t) => runWrk(h1Url(t), { threads: 1, connections: o.connections, durationSeconds: seconds, cpus });
  const h2 = (seconds: number): Load => (t) => runH2loadThroughput(h2Url(t), { clients: o.connections, streams: o.h2Streams, durationSeconds: seconds, logFile, cpus });
  const rate = (h1: boolean): Load => (t) => runH2loadRate(h1 ? h1Url(t) : h2Url(t), { h1, rate: o.rate, connections: o.rateConnections, durationSeconds: o.rateDurationSeconds, logFile, cpus });
  const loads: Record<PhaseName, [Load, Load | undefined]> = {
    h1: [wrk(o.durationSeconds), wrk(o.warmupSeconds)],
    h1rate: [rate(true), undefined],
    h2: [h2(o.durationSeconds), h2(o.warmupSeconds)],
    h2rate: [rate(false), undefined],
  };
  const quiet = new QuietGate();
  for (const ph of phases) await runPhase(ph, targets, o, loads[ph][0], loads[ph][1], commands, quiet);

  for (const t of targets) if (t.server && !t.failure && !died(t, 'the end')) t.afterRssBytes = treeRssBytes(t.server.pid);
  await Promise.all(targets.map((t) => t.server?.stop()));

  const argv = process.argv.slice(2).join(' ');
  const input: ReportInput = {
    date: new Date().toISOString(),
    elapsedSeconds: (Date.now() - started) / 1000,
    machine,
    settings: o,
    phasesRun: phases,
    targets,
    noise: { limits: quiet.limits, discarded: quiet.discarded },
    commands: [
      '# npm run bench = bash scripts/bench.sh, which runs:',
      'bash scripts/ensure-system-deps.sh',
      'npx tsc -p tsconfig.json',
      `node --import tsx bench/proxy-compare.ts${argv ? ` ${argv}` : ''}`,
      '# servers (configuration files below)',
      ...targets.flatMap((t) => (t.server ? [t.server.command] : [])),
      '# load, per phase and target (first measured round; the other rounds are the same)',
      ...[...commands.values()],
    ],
    configs: [
      { title: 'upstream nginx', language: 'nginx', text: upstreamConf },
      { title: 'nginx proxy', language: 'nginx', text: nginxConf },
      { title: 'haproxy', language: 'haproxy', text: haConf },
      { title: `tsmesh bootstrap (bench/tsmesh-bootstrap.yaml with ports filled in)`, language: 'yaml', text: bootstrap },
    ],
  };
  process.stdout.write(`\n${renderTables(input)}`);
  if (o.write) {
    const file = o.out !== undefined ? resolve(o.out) : join(root, 'BENCHMARKS.md');
    // Sections that other bench scripts own (bench/filters.ts) survive the rewrite.
    writeFileSync(file, keepSections(renderReport(input), existsSync(file) ? readFileSync(file, 'utf8') : undefined));
    log(`bench: wrote ${relative(process.cwd(), file) || file}`);
  }
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(sig, () => { log(`\nbench: ${sig}, stopping every child process`); process.exit(code); });
}
main().then(
  () => process.exit(0),
  (e: unknown) => { log(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); },
);
