/**
 * Two builds of `tsmesh proxy --concurrency 1` side by side on the HTTP/1.1 path of
 * bench/proxy-compare.ts (same bootstrap, nginx upstream, wrk keep-alive), runs alternating
 * between them, so that a change's effect on CPU per request survives a noisy machine: the
 * proxy's own CPU time from /proc divided by the requests it answered, plus the ratio B/A.
 * Optionally the open-loop latency at a fixed rate (h2load --rps over HTTP/1.1). With
 * --fixed-rate N the CPU rounds themselves run at N req/s (h2load --h1, open loop) instead of
 * wrk's closed loop: on a busy machine a closed loop's rate, and with it how many requests share
 * an event-loop turn, follows the noise, while at a fixed rate both builds see the same load.
 *
 *   npm run build && node dist/bench/proxy-ab.js --a /path/to/other/checkout [--b .]
 *       [--rounds 6 --duration 5 --connections 32 --fixed-rate 0 --rate-seconds 0 --rate 1000 --base-port 18480 --telemetry --pin]
 *
 * A checkout is a directory with bin/tsmesh.js and a built dist/ (a copy made before a change
 * is enough). With --telemetry both run bench:tracing's configuration (bench/lib/tracing-bootstrap.ts)
 * and the load goes to its `on` listener: Istio's metrics, 1% tracing to a collector here and an
 * access log (each build its own file), to measure a change to telemetry's cost.
 * --pin puts both proxies on CPU 1 (only the one under load runs) and wrk, nginx and the collector
 * on CPU 0, as bench:tracing --pin does. It prints numbers and never fails on them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllNow, assertPortsFree, type ServerProcess } from './lib/processes.js';
import { nginxUpstreamConf, renderTemplate } from './lib/configs.js';
import { startNginx, startTsmesh, checkServes } from './lib/servers.js';
import { runWrk, runH2loadRate } from './lib/load.js';
import { pinTree, treeCpuSeconds, treeRssBytes } from './lib/proc.js';
import { QuietGate } from './lib/quiet-gate.js';
import { median } from './lib/stats.js';
import { intOption, pinningFor } from './lib/options.js';
import { alternatingRounds } from './lib/alternating-rounds.js';
import { repoRoot, log } from './lib/repo-root.js';
import { tracingBenchBootstrap } from './lib/tracing-bootstrap.js';
import { acceptReport } from './lib/telemetry-diag.js';

const BODY = 'hello world\n';

interface Options { a: string; b: string; rounds: number; duration: number; connections: number; fixedRate: number; rateSeconds: number; rate: number; basePort: number; telemetry: boolean; pinning: { load: string; servers: string } | undefined }

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      a: { type: 'string' }, b: { type: 'string' }, rounds: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' },
      'rate-seconds': { type: 'string' }, rate: { type: 'string' }, 'base-port': { type: 'string' }, 'fixed-rate': { type: 'string' },
      telemetry: { type: 'boolean' }, pin: { type: 'boolean' },
    },
  });
  if (values.a === undefined) throw new Error('--a CHECKOUT is required (a directory with bin/tsmesh.js and dist/)');
  return {
    a: resolve(values.a),
    b: resolve(values.b ?? repoRoot()),
    rounds: intOption('rounds', values.rounds, 6, 1, 50),
    duration: intOption('duration', values.duration, 5, 1, 60),
    connections: intOption('connections', values.connections, 32, 1, 1000),
    fixedRate: intOption('fixed-rate', values['fixed-rate'], 0, 0, 1_000_000),
    rateSeconds: intOption('rate-seconds', values['rate-seconds'], 0, 0, 120),
    rate: intOption('rate', values.rate, 1000, 1, 100_000),
    basePort: intOption('base-port', values['base-port'], 18480, 1024, 65000),
    telemetry: values.telemetry ?? false,
    pinning: values.pin === true ? pinningFor(availableParallelism()) : undefined,
  };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-ab-'));
  process.on('exit', () => { killAllNow(); rmSync(dir, { recursive: true, force: true }); });
  const p = o.basePort;
  const ports = { up: p, upH2: p + 1, a: p + 2, aAdmin: p + 3, b: p + 4, bAdmin: p + 5, aOff: p + 6, bOff: p + 7, collector: p + 8 };
  await assertPortsFree(Object.values(ports));
  const template = readFileSync(join(repoRoot(), 'bench/tsmesh-bootstrap.yaml'), 'utf8');
  if (o.telemetry) {
    const collector = http.createServer(acceptReport);
    await new Promise<void>((r) => collector.listen(ports.collector, '127.0.0.1', () => r()));
    collector.unref();
  }
  const nginx = await startNginx('upstream', dir, nginxUpstreamConf({ dir, runAsRoot: process.getuid?.() === 0, h1Port: ports.up, h2Port: ports.upH2, body: BODY }), [ports.up, ports.upH2]);
  const start = async (name: 'a' | 'b', checkout: string, port: number, admin: number): Promise<ServerProcess> => {
    const sub = mkdtempSync(join(dir, `${name}-`));
    const bootstrap = o.telemetry
      ? tracingBenchBootstrap({ off: name === 'a' ? ports.aOff : ports.bOff, on: port, admin, upstream: ports.up, collector: ports.collector }, join(sub, 'access.log'), undefined)
      : renderTemplate(template, { LISTEN_PORT: port, ADMIN_PORT: admin, UPSTREAM_PORT: ports.up });
    const s = await startTsmesh({ bin: join(checkout, 'bin/tsmesh.js'), dir: sub, bootstrap, adminPort: admin, concurrency: 1 });
    await checkServes(port, 'h1', BODY);
    return s;
  };
  const servers = { a: await start('a', o.a, ports.a, ports.aAdmin), b: await start('b', o.b, ports.b, ports.bAdmin) };
  log(`A ${o.a} (pid ${servers.a.pid})\nB ${o.b} (pid ${servers.b.pid})`);
  const rss = { a: treeRssBytes(servers.a.pid), b: treeRssBytes(servers.b.pid) };
  const pin = o.pinning;
  if (pin) {
    pinTree(process.pid, pin.load);
    pinTree(nginx.pid, pin.load);
    pinTree(servers.a.pid, pin.servers);
    pinTree(servers.b.pid, pin.servers);
  }
  const wrk = (port: number, seconds: number) => runWrk(`http://127.0.0.1:${port}/`, { threads: 1, connections: o.connections, durationSeconds: seconds, cpus: pin?.load });
  for (const port of [ports.a, ports.b]) await wrk(port, 2); // warm-up: JIT, pools
  const quiet = new QuietGate();
  const { samples, command } = await alternatingRounds({
    rounds: o.rounds,
    targets: [['a', ports.a], ['b', ports.b]] as const,
    load: (port) => (o.fixedRate > 0
      ? runH2loadRate(`http://127.0.0.1:${port}/`, { h1: true, rate: o.fixedRate, connections: o.connections, durationSeconds: o.duration, logFile: join(dir, 'fixed-rate.log'), cpus: pin?.load })
      : wrk(port, o.duration)),
    // Both proxies' CPU: the one not under load takes next to none.
    cpuSeconds: () => treeCpuSeconds(servers.a.pid) + treeCpuSeconds(servers.b.pid),
    quiet,
    log,
    nameWidth: 1,
  });
  const cpu = { a: median(samples.a.map((s) => s.cpuUsPerRequest)), b: median(samples.b.map((s) => s.cpuUsPerRequest)) };
  const rps = { a: median(samples.a.map((s) => s.rps)), b: median(samples.b.map((s) => s.rps)) };
  const ratios = samples.a.map((s, i) => (samples.b[i] ? samples.b[i]!.cpuUsPerRequest / s.cpuUsPerRequest : Number.NaN)).filter((x) => !Number.isNaN(x));
  console.log(`load: ${command}${o.telemetry ? ` (bench:tracing's telemetry-on listener)` : ''}`);
  console.log(`| build | median req/s | median µs CPU/request | idle RSS MiB |`);
  console.log(`|---|---:|---:|---:|`);
  for (const k of ['a', 'b'] as const) console.log(`| ${k.toUpperCase()} ${k === 'a' ? o.a : o.b} | ${Math.round(rps[k])} | ${cpu[k].toFixed(1)} | ${(rss[k] / 2 ** 20).toFixed(1)} |`);
  console.log(`B/A CPU per request: median of per-round ratios ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(3)).join(', ')})`);
  if (o.rateSeconds > 0) {
    for (let r = 0; r < 2; r++) {
      for (const k of ['a', 'b'] as const) {
        await quiet.wait();
        const run = await runH2loadRate(`http://127.0.0.1:${k === 'a' ? ports.a : ports.b}/`, { h1: true, rate: o.rate, connections: 10, durationSeconds: o.rateSeconds, logFile: join(dir, `rate-${k}.log`), cpus: pin?.load });
        console.log(`${k.toUpperCase()} at ${o.rate} req/s: p50 ${run.p50Ms.toFixed(3)} ms  p90 ${run.p90Ms.toFixed(3)} ms  p99 ${run.p99Ms.toFixed(3)} ms  (${run.requests} requests, ${run.errors} errors)`);
      }
    }
  }
  process.exit(0);
}

main().catch((e: unknown) => { log(`proxy-ab: ${e instanceof Error ? e.message : String(e)}`); process.exit(1); });
