/**
 * What telemetry costs on the sidecar path: HTTP/1.1 throughput through two tsmesh proxies, a
 * client sidecar (outbound listener, OUTBOUND) and a server sidecar (inbound, INBOUND) in front of
 * nginx, for each configuration of bench/lib/telemetry-configs.ts ("off" first). Every
 * configuration has its own pair of listeners in the same two processes; runs alternate between
 * them. Prints the numbers and writes the `telemetry` section of BENCHMARKS.md.
 *
 *   npm run bench:telemetry [-- --rounds 5 --duration 5 --warmup 2 --connections 32 --base-port 18480 --no-write --quick]
 *
 * It prints numbers and never fails on them; it exits non-zero only when it cannot run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { killAllNow, assertPortsFree } from './lib/processes.js';
import { benchHcmYaml, nginxUpstreamConf } from './lib/configs.js';
import { startNginx, startTsmesh, checkServes } from './lib/servers.js';
import { runWrk, type LoadRun } from './lib/load.js';
import { treeCpuSeconds } from './lib/proc.js';
import { describeMachine } from './lib/machine.js';
import { QuietGate } from './lib/quiet-gate.js';
import { median } from './lib/stats.js';
import { setSection } from './lib/sections.js';
import { TELEMETRY_CONFIGS, type TelemetryConfig } from './lib/telemetry-configs.js';
import { filterLoopNs } from './lib/filter-loop.js';
import { HTTP_FILTER_JSON } from './lib/telemetry-configs.js';
import { parseAlternatingOptions, type AlternatingOptions } from './lib/options.js';
import { alternatingRounds, type Sample } from './lib/alternating-rounds.js';
import { repoRoot, log } from './lib/repo-root.js';

const BODY = 'hello world\n';

type Options = AlternatingOptions;

function options(argv: string[]): Options {
  return parseAlternatingOptions(argv, { basePort: 18480 }).options;
}

/** A sidecar's bootstrap: one listener per configuration, each to `clusterOf(config)`. */
function sidecarBootstrap(o: { node: string; app: string; direction: 'INBOUND' | 'OUTBOUND'; admin: number; listeners: readonly { config: TelemetryConfig; port: number; upstream: number }[] }): string {
  const listeners = o.listeners.map(({ config, port }) => `
  - name: ${config.name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    traffic_direction: ${o.direction}
    filter_chains:
    - filters:${benchHcmYaml({ statPrefix: config.name, hcmExtra: config.hcm, cluster: config.name, httpFilters: config.httpFilters })}`).join('');
  const clusters = o.listeners.map(({ config, upstream }) => `
  - name: "${config.name}"
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: "${config.name}"
      endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstream} } } } } ] } ]`).join('');
  return `node:
  id: sidecar~127.0.0.1~${o.node}.default~default.svc.cluster.local
  cluster: ${o.app}.default
  metadata: { NAME: ${o.node}, NAMESPACE: default, SERVICE_ACCOUNT: ${o.app}, LABELS: { app: ${o.app}, version: v1 } }
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.admin} } } }
static_resources:
  listeners:${listeners}
  clusters:${clusters}
`;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-telemetry-'));
  process.on('exit', () => { killAllNow(); rmSync(dir, { recursive: true, force: true }); });
  const b = o.basePort;
  const n = TELEMETRY_CONFIGS.length;
  const ports = { upstream: b, upstreamH2: b + 1, clientAdmin: b + 2, serverAdmin: b + 3 };
  const clientPort = (i: number): number => b + 10 + i;
  const serverPort = (i: number): number => b + 10 + n + i;
  const all = [...Object.values(ports), ...TELEMETRY_CONFIGS.flatMap((_, i) => [clientPort(i), serverPort(i)])];
  await assertPortsFree(all);
  const runAsRoot = process.getuid?.() === 0;
  await startNginx('upstream', dir, nginxUpstreamConf({ dir, runAsRoot, h1Port: ports.upstream, h2Port: ports.upstreamH2, body: BODY }), [ports.upstream, ports.upstreamH2]);
  const bin = resolve(join(root, 'bin/tsmesh.js'));
  const [serverDir, clientDir] = [join(dir, 'server'), join(dir, 'client')];
  mkdirSync(serverDir);
  mkdirSync(clientDir);
  const server = await startTsmesh({ bin, dir: serverDir, adminPort: ports.serverAdmin, concurrency: 1, bootstrap: sidecarBootstrap({
    node: 'server-v1', app: 'server', direction: 'INBOUND', admin: ports.serverAdmin,
    listeners: TELEMETRY_CONFIGS.map((config, i) => ({ config, port: serverPort(i), upstream: ports.upstream })),
  }) });
  const client = await startTsmesh({ bin, dir: clientDir, adminPort: ports.clientAdmin, concurrency: 1, bootstrap: sidecarBootstrap({
    node: 'client-v1', app: 'client', direction: 'OUTBOUND', admin: ports.clientAdmin,
    listeners: TELEMETRY_CONFIGS.map((config, i) => ({ config, port: clientPort(i), upstream: serverPort(i) })),
  }) });
  for (let i = 0; i < n; i++) await checkServes(clientPort(i), 'h1', BODY);

  const wrk = (port: number, seconds: number): Promise<LoadRun> => runWrk(`http://127.0.0.1:${port}/`, { threads: 1, connections: o.connections, durationSeconds: seconds });
  log(`warm-up ${o.warmup} s per configuration`);
  for (let i = 0; i < n; i++) await wrk(clientPort(i), o.warmup);
  const quiet = new QuietGate();
  const targets = TELEMETRY_CONFIGS.map((c, i) => [c.name, clientPort(i)] as const);
  const { samples, command } = await alternatingRounds({ rounds: o.rounds, targets, load: (port) => wrk(port, o.duration), cpuSeconds: () => treeCpuSeconds(client.pid) + treeCpuSeconds(server.pid), quiet, log, nameWidth: 10, cpuNote: ' (both sidecars)' });
  const istio = (await (await fetch(`http://127.0.0.1:${ports.serverAdmin}/stats/prometheus`)).text()).split('\n').filter((l) => l.startsWith('istio_requests_total')).join('\n');
  await client.stop();
  await server.stop();

  // The filters' own work in process (client side: headers added, one count), which the host's noise hardly moves.
  const loop = TELEMETRY_CONFIGS.map((c) => [c.name, filterLoopNs(HTTP_FILTER_JSON[c.name] ?? [])] as const);
  const m = (name: string, k: keyof Sample): number => median(samples[name]!.map((s) => s[k]));
  const busyHost = median(TELEMETRY_CONFIGS.map((c) => m(c.name, 'otherCpuPct'))) >= 50;
  const base = TELEMETRY_CONFIGS[0]!.name;
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  const perRound = (name: string): string => samples[name]!.map((s, i) => { const a = samples[base]![i]; return a ? `${((s.rps / a.rps) * 100).toFixed(0)}%` : '?'; }).join(', ');
  const machine = await describeMachine();
  const table = [
    `### Telemetry cost on the sidecar path (wrk -t1 -c${o.connections} -d${o.duration}s through client sidecar → server sidecar → nginx, median of ${o.rounds})`,
    '',
    `Run ${new Date().toISOString()} by \`npm run bench:telemetry\` (bench/telemetry.ts; configurations in bench/lib/telemetry-configs.ts), two tsmesh proxies --concurrency 1, Node ${process.version}, ${machine.find(([k]) => k === 'CPUs (nproc)')?.[1] ?? '?'} CPUs shared by wrk, both proxies and nginx. Runs alternate between the configurations; CPU is both sidecars'.`,
    '',
    '| configuration | req/s | % of off | CPU µs / request | vs off | errors | other CPU % |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...TELEMETRY_CONFIGS.map((c) => `| ${c.name}: ${c.description} | ${fmt(m(c.name, 'rps'))} | ${((m(c.name, 'rps') / m(base, 'rps')) * 100).toFixed(1)}% | ${m(c.name, 'cpuUsPerRequest').toFixed(1)} | ${signed(m(c.name, 'cpuUsPerRequest') - m(base, 'cpuUsPerRequest'))} | ${samples[c.name]!.reduce((a, s) => a + s.errors, 0)} | ${m(c.name, 'otherCpuPct').toFixed(0)} |`),
    '',
    ...TELEMETRY_CONFIGS.slice(1).map((c) => `${c.name} per round, % of off: ${perRound(c.name)}.`),
    busyHost ? '**The host was busy during these runs (median other CPU ≥ 50 %): the throughput and CPU columns measure the other work more than the configurations. Rerun on a quiet host.**' : '',
    '',
    `In process (bench/lib/filter-loop.ts, client side: a filter instance per request, decodeHeaders, onDestroy; median of 5 × 200,000): ${loop.map(([n, ns]) => `${n} ${ns.toFixed(0)} ns`).join(', ')} per request.`,
    quiet.discarded.length ? `Runs discarded for other work on the machine: ${quiet.discarded.join(', ')}.` : '',
    '',
    `Load: \`${command}\` (port of the client sidecar's listener of the configuration under test).`,
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
  process.stdout.write(`\n${table}\n\nserver sidecar istio_requests_total after the runs:\n${istio}\n`);
  if (o.write) {
    const file = join(root, 'BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    writeFileSync(file, setSection(text, 'telemetry', `## Telemetry\n\n${table}`));
    log('bench: wrote the telemetry section of BENCHMARKS.md');
  }
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
