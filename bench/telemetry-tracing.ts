/**
 * What a sidecar's full telemetry costs per request: HTTP/1.1 throughput through one tsmesh
 * proxy on two listeners with the same route, one with telemetry off and one with it on as a
 * mesh runs it: Istio's standard metrics (istio.stats), tracing (envoy.tracers.opentelemetry, 1%
 * random sampling, OTLP/HTTP to a receiver in this process that decodes nothing) and a file
 * access log in Istio's default text format. The proxy's Envoy stats count on both (they cannot
 * be turned off). Runs alternate off / on. Prints the numbers and writes the
 * `telemetry-tracing` section of BENCHMARKS.md (bench:telemetry measures metrics alone, on two sidecars).
 *
 *   npm run bench:tracing [-- --rounds 5 --duration 5 --warmup 2 --connections 32
 *                              --tsmesh-concurrency 1 --base-port 18480 --no-write --quick --pin
 *                              --log-dir DIR --log-to file|pipe --only tracing|log|metrics
 *                              --sampling PCT]
 *
 * --pin: the proxy alone on CPU 1 (1-N), wrk, nginx and the receiver on CPU 0, so that the
 * proxy's CPU, not the scheduler's sharing, decides throughput (much less noise between rounds).
 * --log-to pipe: the access log path is a FIFO that `wc -l` (on the load's CPU) reads, as a
 * sidecar's `/dev/stdout` (Istio's `accessLogFile`) is a pipe its container runtime reads; such
 * runs write the `telemetry-tracing-pipe` section instead.
 *
 * It prints numbers and never fails on them; it exits non-zero only when it cannot run.
 */
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { startTsmesh, checkServes } from './lib/servers.js';
import { runWrk, type LoadRun } from './lib/load.js';
import { pinTree, treeCpuSeconds } from './lib/proc.js';
import { describeMachine } from './lib/machine.js';
import { QuietGate } from './lib/quiet-gate.js';
import { median } from './lib/stats.js';
import { setSection } from './lib/sections.js';
import { telemetryLoopNs } from './lib/telemetry-loop.js';
import { tracingBenchBootstrap as bootstrap, type TelemetryPart } from './lib/tracing-bootstrap.js';
import { parseAlternatingOptions, type AlternatingOptions } from './lib/options.js';
import { alternatingRounds, type Sample } from './lib/alternating-rounds.js';
import { repoRoot, log } from './lib/repo-root.js';
import { DIAG_BODY as BODY, onlyPart, startDiagPeers } from './lib/telemetry-diag.js';

interface Options extends AlternatingOptions { only: TelemetryPart; logDir: string | undefined; logTo: 'file' | 'pipe'; samplingPercent: number }

function options(argv: string[]): Options {
  const { options: o, extra } = parseAlternatingOptions(argv, { basePort: 18480, withConcurrency: true, withPin: true, extra: ['only', 'log-dir', 'log-to', 'sampling'] });
  const only = onlyPart(extra.only);
  // --log-dir: where the access log file goes (default: the run's temp dir, on disk here).
  const logDir = extra['log-dir'];
  // --only tracing|log|metrics: one part of telemetry on the `on` listener, to tell their costs apart (not written).
  const logTo = extra['log-to'] ?? 'file';
  if (logTo !== 'file' && logTo !== 'pipe') throw new Error(`--log-to: expected file or pipe, got ${JSON.stringify(logTo)}`);
  // --sampling PCT: tracing's random_sampling instead of Istio's default 1%, to see what a sampled span costs (not written).
  const samplingPercent = extra.sampling === undefined ? 1 : Number(extra.sampling);
  if (!(samplingPercent >= 0 && samplingPercent <= 100)) throw new Error(`--sampling: expected a percentage 0-100, got ${JSON.stringify(extra.sampling)}`);
  return { ...o, write: o.write && only === undefined && samplingPercent === 1, only, logDir, logTo, samplingPercent };
}

/** Lines in `file` (0 if it is missing), read in pieces: a run logs hundreds of megabytes. */
function countLines(file: string): number {
  if (!existsSync(file)) return 0;
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
      for (let i = buf.indexOf(10, 0); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const root = repoRoot();
  // Before --pin narrows this process to one CPU (nproc would say 1).
  const machine = await describeMachine();
  // The OTLP receiver: takes each report, counts it, answers 200.
  let reports = 0;
  let reportBytes = 0;
  const { ports, dir, nginxPid, close } = await startDiagPeers(o.basePort, 'telemetry', (req, res) => { req.on('data', (c: Buffer) => { reportBytes += c.length; }); req.on('end', () => { reports++; res.end(); }); });
  const logFile = o.logDir === undefined ? join(dir, 'access.log') : join(mkdtempSync(join(o.logDir, 'tsmesh-bench-log-')), 'access.log');
  process.on('exit', () => rmSync(dirname(logFile), { recursive: true, force: true }));
  // --log-to pipe: `wc -l` holds the FIFO's read end; the proxy opens it at its first line.
  let reader: { pid: number; exited: Promise<void> } | undefined;
  if (o.logTo === 'pipe') {
    execFileSync('mkfifo', [logFile]);
    const child = spawn('sh', ['-c', 'exec wc -l < "$0" > "$0.count"', logFile], { stdio: 'ignore' });
    process.on('exit', () => child.kill('SIGKILL'));
    reader = { pid: child.pid ?? -1, exited: new Promise((r) => child.on('exit', () => r())) };
  }
  const proxy = await startTsmesh({ bin: resolve(join(root, 'bin/tsmesh.js')), dir, bootstrap: bootstrap(ports, logFile, o.only, o.samplingPercent), adminPort: ports.admin, concurrency: o.concurrency });
  await checkServes(ports.off, 'h1', BODY);
  await checkServes(ports.on, 'h1', BODY);
  const pin = o.pinning;
  if (pin) {
    // This process (the receiver) with its children first, then the proxy out of them.
    pinTree(process.pid, pin.load);
    pinTree(nginxPid, pin.load);
    pinTree(proxy.pid, pin.servers);
    if (reader) pinTree(reader.pid, pin.load);
  }

  const targets = [['off', ports.off], ['on', ports.on]] as const;
  const wrk = (port: number, seconds: number): Promise<LoadRun> => runWrk(`http://127.0.0.1:${port}/`, { threads: 1, connections: o.connections, durationSeconds: seconds, cpus: pin?.load });
  log(`warm-up ${o.warmup} s per listener`);
  for (const [, port] of targets) await wrk(port, o.warmup);
  const quiet = new QuietGate();
  const { samples, command } = await alternatingRounds({ rounds: o.rounds, targets, load: (port) => wrk(port, o.duration), cpuSeconds: () => treeCpuSeconds(proxy.pid), quiet, log, nameWidth: 3 });
  // Everything the `on` listener served, warm-up and discarded runs included, against what reached the receiver.
  const statsText = await (await fetch(`http://127.0.0.1:${ports.admin}/stats`)).text();
  const stat = (name: string): number => Number(new RegExp(`^${name.replaceAll('.', '\\.')}: (\\d+)$`, 'm').exec(statsText)?.[1] ?? 0);
  const onRequests = stat('http.on.downstream_rq_completed');
  await proxy.stop();
  close();
  const loop = await telemetryLoopNs();
  // The reader counts what came through the pipe once the proxy has closed it. A proxy that
  // logged nothing never opened it: a write end opened and closed here lets the reader finish.
  if (reader) {
    try { closeSync(openSync(logFile, constants.O_WRONLY | constants.O_NONBLOCK)); } catch { /* ENXIO: the reader is done */ }
    await reader.exited;
  }
  const logLines = reader ? Number(readFileSync(`${logFile}.count`, 'utf8').trim()) : countLines(logFile);

  const m = (name: 'off' | 'on', k: keyof Sample): number => median(samples[name].map((s) => s[k]));
  const ratio = m('on', 'rps') / m('off', 'rps');
  const paired = <T>(f: (off: Sample, on: Sample) => T): T[] => samples.off.flatMap((s, i) => (samples.on[i] ? [f(s, samples.on[i]!)] : []));
  const perRound = paired((a, b) => b.rps / a.rps);
  // Rounds are paired in time (off, then on): the median of their ratios is what other load on
  // the machine moves least; the ratio of the two medians pairs rounds that ran apart.
  const pairedRatio = median(perRound);
  const cpuPerRound = paired((a, b) => b.cpuUsPerRequest - a.cpuUsPerRequest);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  const sent = stat('tracing.opentelemetry.spans_sent');
  const table = [
    `### Telemetry cost: ${o.only === 'tracing' ? `${o.samplingPercent}% tracing (OTLP/HTTP) only` : o.only === 'log' ? 'file access log only' : o.only === 'metrics' ? 'Istio metrics (istio.stats) only' : `Istio metrics (istio.stats) + ${o.samplingPercent}% tracing (OTLP/HTTP) + ${o.logTo === 'pipe' ? 'access log to a pipe' : 'file access log'}`} vs off (wrk -t1 -c${o.connections} -d${o.duration}s, median of ${o.rounds})`,
    '',
    `Run ${new Date().toISOString()} by \`npm run bench:tracing${pin || o.logTo === 'pipe' ? ` --${pin ? ' --pin' : ''}${o.logTo === 'pipe' ? ' --log-to pipe' : ''}` : ''}\` (bench/telemetry-tracing.ts), tsmesh --concurrency ${o.concurrency}, Node ${process.version}, ${machine.find(([k]) => k === 'CPUs (nproc)')?.[1] ?? '?'} CPUs${pin ? `: the proxy alone on CPU ${pin.servers}, the load generator, the upstream (nginx) and the OTLP receiver on CPU ${pin.load}` : ' shared with the load generator, the upstream (nginx) and the OTLP receiver'}.`,
    'Both listeners are in one proxy process; runs alternate (off, on, then on, off). On: every request is given a',
    'trace decision (x-request-id nibble), trace context headers for the upstream, and a line in Istio\'s',
    `default text format, Istio's standard metrics (istio.stats); ${o.samplingPercent}% of them a server span, batched to the receiver.`,
    'Envoy stats count on both.',
    o.logTo === 'pipe'
      ? `The access log goes to a pipe (a FIFO in ${o.logDir ?? 'the run\'s temp dir'}) read by \`wc -l\`${pin ? ` on CPU ${pin.load}` : ''}, as a sidecar's \`/dev/stdout\` (Istio's \`accessLogFile\`) is a pipe its container runtime reads (\`--log-to pipe\`).`
      : `The access log file is in ${o.logDir ?? 'the run\'s temp dir'} (\`--log-dir\`).`,
    '',
    '| telemetry | req/s | p99 latency ms | CPU µs / request | errors | other CPU % |',
    '| --- | --- | --- | --- | --- | --- |',
    ...(['off', 'on'] as const).map((n) => `| ${n} | ${fmt(m(n, 'rps'))} | ${m(n, 'p99Ms').toFixed(2)} | ${m(n, 'cpuUsPerRequest').toFixed(1)} | ${samples[n].reduce((a, s) => a + s.errors, 0)} | ${m(n, 'otherCpuPct').toFixed(0)} |`),
    '',
    `Throughput with telemetry on: **${(pairedRatio * 100).toFixed(1)}% of off** (median of the rounds' on/off ratios; per round: ${perRound.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}; ratio of the medians ${(ratio * 100).toFixed(1)}%); the target is at least 90%. p99 latency (wrk --latency, median of the rounds): off ${m('off', 'p99Ms').toFixed(2)} ms, on ${m('on', 'p99Ms').toFixed(2)} ms.`,
    `CPU per request, on − off: ${signed(median(cpuPerRound))} µs (median of the rounds' differences; per round: ${cpuPerRound.map(signed).join(', ')} µs).`,
    `The on listener completed ${fmt(onRequests)} requests: ${fmt(logLines)} access-log lines, ${fmt(sent)} spans sent (${((sent / Math.max(1, onRequests)) * 100).toFixed(2)}%) in ${fmt(reports)} reports (${fmt(reportBytes)} bytes), ${fmt(stat('tracing.opentelemetry.spans_dropped'))} dropped.`,
    `In process (bench/lib/telemetry-loop.ts, CPU time, median of 5 × 200,000, minus a loop that only builds the request): tracing ${loop.tracingNs.toFixed(0)} ns, access log ${loop.accessLogNs.toFixed(0)} ns per request.`,
    quiet.discarded.length ? `Runs discarded for other work on the machine: ${quiet.discarded.join(', ')}.` : '',
    '',
    `Load: \`${command}\` (port of the listener under test).`,
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
  process.stdout.write(`\n${table}\n`);
  if (o.write) {
    const file = join(root, 'BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const section = o.logTo === 'pipe' ? 'telemetry-tracing-pipe' : 'telemetry-tracing';
    const heading = o.logTo === 'pipe' ? '## Telemetry: tracing and an access log to a pipe' : '## Telemetry: tracing and access logs';
    writeFileSync(file, setSection(text, section, `${heading}\n\n${table}`));
    log('bench: wrote the telemetry section of BENCHMARKS.md');
  }
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
