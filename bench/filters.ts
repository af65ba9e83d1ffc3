/**
 * What the fault and local rate limit filters cost per request: HTTP/1.1 throughput through one
 * tsmesh proxy on two listeners with the same route, one bare (router only) and one with
 * envoy.filters.http.fault (delay and abort at 0%: evaluated, never firing) and
 * envoy.filters.http.local_ratelimit (enabled and enforced, a bucket too big to run out) before
 * the router; runs alternate between them. Also times the two filters' own work in process
 * (bench/lib/filter-loop.ts), which the machine's noise hardly moves. Prints the numbers and writes them to the
 * `filters` section of BENCHMARKS.md (which bench/proxy-compare.ts keeps when it rewrites the file).
 *
 *   npm run bench:filters [-- --rounds 5 --duration 5 --warmup 2 --connections 32
 *                            --tsmesh-concurrency 1 --base-port 18380 --no-write --quick]
 *
 * It runs from dist/ (compiled by tsc), not through tsx, whose transform makes `#private`
 * fields slow and would distort the in-process numbers. It prints numbers and never fails on
 * them; it exits non-zero only when it cannot run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { killAllNow, assertPortsFree } from './lib/processes.js';
import { benchHcmYaml, benchStaticClusterYaml, nginxUpstreamConf } from './lib/configs.js';
import { startNginx, startTsmesh, checkServes } from './lib/servers.js';
import { runWrk, type LoadRun } from './lib/load.js';
import { treeCpuSeconds } from './lib/proc.js';
import { describeMachine } from './lib/machine.js';
import { QuietGate } from './lib/quiet-gate.js';
import { median } from './lib/stats.js';
import { setSection } from './lib/sections.js';
import { filterLoopNs } from './lib/filter-loop.js';
import { parseAlternatingOptions, type AlternatingOptions } from './lib/options.js';
import { alternatingRounds, type Sample } from './lib/alternating-rounds.js';
import { repoRoot, log } from './lib/repo-root.js';

const BODY = 'hello world\n';

type Options = AlternatingOptions;

function options(argv: string[]): Options {
  return parseAlternatingOptions(argv, { basePort: 18380, withConcurrency: true }).options;
}

/** Two listeners, one route each to the same upstream; `filters` runs fault + local_ratelimit first. */
function bootstrap(p: { bare: number; filters: number; admin: number; upstream: number }): string {
  const hcm = (prefix: string, filters: string): string => benchHcmYaml({ statPrefix: prefix, cluster: 'upstream', httpFilters: filters });
  return `admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${p.admin} } } }
static_resources:
  listeners:
  - name: bare
    address: { socket_address: { address: 127.0.0.1, port_value: ${p.bare} } }
    filter_chains:
    - filters:${hcm('bare', '')}
  - name: filters
    address: { socket_address: { address: 127.0.0.1, port_value: ${p.filters} } }
    filter_chains:
    - filters:${hcm('filters', `
          - name: envoy.filters.http.fault
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
              delay: { fixed_delay: 1s, percentage: { numerator: 0 } }
              abort: { http_status: 503, percentage: { numerator: 0 } }
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              stat_prefix: bench_rl
              token_bucket: { max_tokens: 4000000000, tokens_per_fill: 4000000000, fill_interval: 1s }
              filter_enabled: { default_value: { numerator: 100 } }
              filter_enforced: { default_value: { numerator: 100 } }`)}
  clusters:${benchStaticClusterYaml('upstream', p.upstream)}
`;
}

/** The two filters of the `filters` listener, as http_filters entries (for the in-process loop). */
const FAULT_0 = { name: 'envoy.filters.http.fault', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', delay: { fixedDelay: '1s', percentage: { numerator: 0 } }, abort: { httpStatus: 503, percentage: { numerator: 0 } } } };
const BIG_BUCKET = { name: 'envoy.filters.http.local_ratelimit', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', statPrefix: 'bench_rl', tokenBucket: { maxTokens: 4000000000, tokensPerFill: 4000000000, fillInterval: '1s' }, filterEnabled: { defaultValue: { numerator: 100 } }, filterEnforced: { defaultValue: { numerator: 100 } } } };

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-filters-'));
  process.on('exit', () => { killAllNow(); rmSync(dir, { recursive: true, force: true }); });
  const b = o.basePort;
  const ports = { upstream: b, upstreamH2: b + 1, bare: b + 2, filters: b + 3, admin: b + 4 };
  await assertPortsFree(Object.values(ports));
  const runAsRoot = process.getuid?.() === 0;
  await startNginx('upstream', dir, nginxUpstreamConf({ dir, runAsRoot, h1Port: ports.upstream, h2Port: ports.upstreamH2, body: BODY }), [ports.upstream, ports.upstreamH2]);
  const yaml = bootstrap(ports);
  const proxy = await startTsmesh({ bin: resolve(join(root, 'bin/tsmesh.js')), dir, bootstrap: yaml, adminPort: ports.admin, concurrency: o.concurrency });
  await checkServes(ports.bare, 'h1', BODY);
  await checkServes(ports.filters, 'h1', BODY);

  const targets = [['bare', ports.bare], ['filters', ports.filters]] as const;
  const wrk = (port: number, seconds: number): Promise<LoadRun> => runWrk(`http://127.0.0.1:${port}/`, { threads: 1, connections: o.connections, durationSeconds: seconds });
  log(`warm-up ${o.warmup} s per listener`);
  for (const [, port] of targets) await wrk(port, o.warmup);
  const quiet = new QuietGate();
  const { samples, command } = await alternatingRounds({ rounds: o.rounds, targets, load: (port) => wrk(port, o.duration), cpuSeconds: () => treeCpuSeconds(proxy.pid), quiet, log, nameWidth: 7 });
  const loop = { fault: filterLoopNs([FAULT_0]), ratelimit: filterLoopNs([BIG_BUCKET]), both: filterLoopNs([FAULT_0, BIG_BUCKET]) };
  const stats = await (await fetch(`http://127.0.0.1:${ports.admin}/stats?filter=${encodeURIComponent('bench_rl|\\.fault\\.')}`)).text();
  await proxy.stop();

  const m = (name: 'bare' | 'filters', k: keyof Sample): number => median(samples[name].map((s) => s[k]));
  const ratio = m('filters', 'rps') / m('bare', 'rps');
  const paired = <T>(f: (bare: Sample, filters: Sample) => T): T[] => samples.bare.flatMap((s, i) => (samples.filters[i] ? [f(s, samples.filters[i]!)] : []));
  const perRound = paired((a, b) => b.rps / a.rps);
  const cpuPerRound = paired((a, b) => b.cpuUsPerRequest - a.cpuUsPerRequest);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  const machine = await describeMachine();
  const table = [
    `### HTTP filter cost: fault (0%) + local_ratelimit vs a bare route (wrk -t1 -c${o.connections} -d${o.duration}s, median of ${o.rounds})`,
    '',
    `Run ${new Date().toISOString()} by \`npm run bench:filters\` (bench/filters.ts), tsmesh --concurrency ${o.concurrency}, Node ${process.version}, ${machine.find(([k]) => k === 'CPUs (nproc)')?.[1] ?? '?'} CPUs shared with the load generator and the upstream (nginx).`,
    'Both listeners are in one proxy process; runs alternate bare / filters. The filters listener runs',
    'envoy.filters.http.fault (delay and abort at 0%: matched and drawn, never injected) and',
    'envoy.filters.http.local_ratelimit (enabled and enforced: every request takes a token from the',
    'instance-wide bucket under its lock) before the router.',
    '',
    '| route | req/s | CPU µs / request | errors | other CPU % |',
    '| --- | --- | --- | --- | --- |',
    ...(['bare', 'filters'] as const).map((n) => `| ${n} | ${fmt(m(n, 'rps'))} | ${m(n, 'cpuUsPerRequest').toFixed(1)} | ${samples[n].reduce((a, s) => a + s.errors, 0)} | ${m(n, 'otherCpuPct').toFixed(0)} |`),
    '',
    `Throughput with the filters: ${(ratio * 100).toFixed(1)}% of the bare route (per round: ${perRound.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')});`,
    `CPU per request, filters − bare: ${signed(m('filters', 'cpuUsPerRequest') - m('bare', 'cpuUsPerRequest'))} µs (difference of the medians; per round: ${cpuPerRound.map(signed).join(', ')} µs).`,
    '',
    `In process (bench/lib/filter-loop.ts: a new filter instance per request, decodeHeaders, onDestroy; median of 5 × 200,000): fault ${loop.fault.toFixed(0)} ns, local_ratelimit ${loop.ratelimit.toFixed(0)} ns, both ${loop.both.toFixed(0)} ns per request.`,
    quiet.discarded.length ? `Runs discarded for other work on the machine: ${quiet.discarded.join(', ')}.` : '',
    '',
    `Load: \`${command}\` (port of the listener under test).`,
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
  process.stdout.write(`\n${table}\n\nproxy stats after the runs:\n${stats}`);
  if (o.write) {
    const file = join(root, 'BENCHMARKS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    writeFileSync(file, setSection(text, 'filters', `## HTTP filters\n\n${table}`));
    log('bench: wrote the filters section of BENCHMARKS.md');
  }
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.on(sig, () => process.exit(code));
main().then(() => process.exit(0), (e: unknown) => { log(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}`); process.exit(1); });
