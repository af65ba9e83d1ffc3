/**
 * The benchmark's results model and its Markdown rendering (stdout and BENCHMARKS.md). Pure:
 * results in, text out. Medians over rounds are taken here, field by field.
 */
import { median } from './stats.js';
import type { QuietGateLimits } from './quiet-gate.js';

export const TARGET_NAMES = ['direct', 'tsmesh', 'nginx', 'haproxy'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const PHASES = ['h1', 'h1rate', 'h2', 'h2rate'] as const;
export type PhaseName = (typeof PHASES)[number];

/** One measured run of one target. */
export interface Sample {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  /** CPU seconds (user + system, from /proc) the target's process tree used per 1000 requests. */
  cpuPer1k: number;
  errors: number;
  /** CPU used meanwhile by everything but the benchmark (other processes, steal), % of one CPU. */
  otherCpuPct: number;
}

export interface PhaseOutcome {
  samples: Sample[];
  /** Why this target has no (more) numbers in this phase. */
  failure?: string;
}

export interface TargetOutcome {
  name: TargetName;
  /** What ran, e.g. "nginx/1.22.1, 1 worker, upstream keepalive 64". */
  description: string;
  /** Set when the target did not start or died; then no phase has numbers after it. */
  failure?: string;
  idleRssBytes?: number;
  afterRssBytes?: number;
  phases: Record<PhaseName, PhaseOutcome>;
}

export interface Settings {
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  h2Streams: number;
  rate: number;
  rateConnections: number;
  rateDurationSeconds: number;
  tsmeshConcurrency: number;
  /** taskset CPU lists when load generators and servers are kept apart; undefined: not pinned. */
  pinning: { load: string; servers: string } | undefined;
}

export interface ReportInput {
  date: string;
  elapsedSeconds: number;
  machine: ReadonlyArray<readonly [string, string]>;
  settings: Settings;
  phasesRun: readonly PhaseName[];
  targets: readonly TargetOutcome[];
  /** How runs were protected from other work on the machine, and which runs were repeated. */
  noise: { limits: QuietGateLimits; discarded: readonly string[] };
  /** Server start commands and, per phase and target, the load command of its first run. */
  commands: readonly string[];
  configs: ReadonlyArray<{ title: string; language: string; text: string }>;
}

export interface Summary { rps: number; p50Ms: number; p90Ms: number; p99Ms: number; cpuPer1k: number; otherCpuPct: number; errors: number; rounds: number }

export function summarize(o: PhaseOutcome): Summary | undefined {
  if (o.samples.length === 0) return undefined;
  const m = (f: (s: Sample) => number): number => median(o.samples.map(f));
  return {
    rps: m((s) => s.rps),
    p50Ms: m((s) => s.p50Ms),
    p90Ms: m((s) => s.p90Ms),
    p99Ms: m((s) => s.p99Ms),
    cpuPer1k: m((s) => s.cpuPer1k),
    otherCpuPct: m((s) => s.otherCpuPct),
    errors: o.samples.reduce((a, s) => a + s.errors, 0),
    rounds: o.samples.length,
  };
}

// --- formatting -------------------------------------------------------------------------

const DASH = '–';
const ok = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);
const fmtRps = (x: number | undefined): string => (ok(x) ? Math.round(x).toLocaleString('en-US') : DASH);
const fmtMs = (x: number | undefined): string => (ok(x) ? x.toFixed(3) : DASH);
const fmtAdded = (x: number | undefined): string => (ok(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}` : DASH);
const fmtCpu = (x: number | undefined): string => (ok(x) ? x.toFixed(4) : DASH);
const fmtRatio = (x: number | undefined): string => (ok(x) ? `${x.toFixed(2)}×` : DASH);
const fmtPct = (x: number | undefined): string => (ok(x) ? x.toFixed(0) : DASH);
const fmtMiB = (b: number | undefined): string => (ok(b) ? (b / 1048576).toFixed(1) : DASH);
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function failureOf(t: TargetOutcome, p: PhaseName): string | undefined {
  return t.phases[p].failure ?? (t.phases[p].samples.length === 0 ? t.failure : undefined);
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A reason cut to fit a table cell; the full text is in the report's Failures list. */
const short = (reason: string): string => (reason.length > 140 ? `${reason.slice(0, 140)}…` : reason);

/** A row that says why there are no numbers, padded to the table's width. */
function failedRow(t: TargetOutcome, reason: string, width: number): string[] {
  return [cell(`${t.name}: failed (${short(reason)})`), ...Array.from({ length: width - 1 }, () => DASH)];
}

function get(targets: readonly TargetOutcome[], name: TargetName): TargetOutcome | undefined {
  return targets.find((t) => t.name === name);
}

function throughputTable(input: ReportInput, phase: 'h1' | 'h2'): string {
  const nginx = summarize(get(input.targets, 'nginx')?.phases[phase] ?? { samples: [] });
  const header = ['target', 'req/s', '× nginx', 'p50 ms', 'p99 ms', 'CPU s / 1000 req', 'errors', 'rounds', 'other CPU %'];
  const rows = input.targets.map((t) => {
    const s = summarize(t.phases[phase]);
    const why = failureOf(t, phase);
    if (!s) return failedRow(t, why ?? 'not run', header.length);
    const cpu = `${fmtCpu(s.cpuPer1k)}${t.name === 'direct' ? ' (upstream)' : ''}`;
    const name = why ? cell(`${t.name} (then failed: ${short(why)})`) : t.name;
    return [name, fmtRps(s.rps), fmtRatio(nginx ? s.rps / nginx.rps : undefined), fmtMs(s.p50Ms), fmtMs(s.p99Ms), cpu, String(s.errors), String(s.rounds), fmtPct(s.otherCpuPct)];
  });
  return table(header, rows);
}

function latencyTable(input: ReportInput, phase: 'h1rate' | 'h2rate'): string {
  const direct = summarize(get(input.targets, 'direct')?.phases[phase] ?? { samples: [] });
  const header = ['target', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50', 'added p90', 'added p99', 'CPU s / 1000 req', 'achieved req/s', 'errors', 'other CPU %'];
  const rows = input.targets.map((t) => {
    const s = summarize(t.phases[phase]);
    const why = failureOf(t, phase);
    if (!s) return failedRow(t, why ?? 'not run', header.length);
    const isDirect = t.name === 'direct';
    const added = (f: (x: Summary) => number): string => (isDirect || !direct ? DASH : fmtAdded(f(s) - f(direct)));
    const name = why ? cell(`${t.name} (then failed: ${short(why)})`) : t.name;
    return [name, fmtMs(s.p50Ms), fmtMs(s.p90Ms), fmtMs(s.p99Ms), added((x) => x.p50Ms), added((x) => x.p90Ms), added((x) => x.p99Ms),
      `${fmtCpu(s.cpuPer1k)}${isDirect ? ' (upstream)' : ''}`, fmtRps(s.rps), String(s.errors), fmtPct(s.otherCpuPct)];
  });
  return table(header, rows);
}

function memoryTable(input: ReportInput): string {
  const header = ['target', 'what ran', 'RSS idle MiB', 'RSS after load MiB'];
  return table(header, input.targets.map((t) => [
    t.failure && !ok(t.idleRssBytes) ? cell(`${t.name}: failed (${short(t.failure)})`) : t.name,
    cell(t.description),
    `${fmtMiB(t.idleRssBytes)}${t.name === 'direct' && ok(t.idleRssBytes) ? ' (upstream)' : ''}`,
    fmtMiB(t.afterRssBytes),
  ]));
}

/** One line per target of issue 2, measured value against target. */
export function targetLines(input: ReportInput): string[] {
  const ts = get(input.targets, 'tsmesh');
  const sum = (name: TargetName, p: PhaseName): Summary | undefined => summarize(get(input.targets, name)?.phases[p] ?? { samples: [] });
  const verdict = (met: boolean | undefined): string => (met === undefined ? 'not measured' : met ? 'met' : 'MISSED');
  const why = ts?.failure ? ` (tsmesh failed: ${short(ts.failure)})` : '';
  const lines: string[] = [];
  const ran = (p: PhaseName): boolean => input.phasesRun.includes(p);

  for (const [p, label] of [['h1', 'HTTP/1.1'], ['h2', 'HTTP/2']] as const) {
    if (!ran(p)) continue;
    const t = sum('tsmesh', p), n = sum('nginx', p);
    const r = t && n ? t.rps / n.rps : undefined;
    lines.push(`Throughput ${label} ≥ 0.6 × nginx: ${r === undefined ? DASH : `${fmtRps(t?.rps)} / ${fmtRps(n?.rps)} req/s = ${r.toFixed(2)} × nginx`} — ${verdict(r === undefined ? undefined : r >= 0.6)}${r === undefined ? why : ''}`);
  }
  for (const [p, label] of [['h1rate', 'HTTP/1.1'], ['h2rate', 'HTTP/2']] as const) {
    if (!ran(p)) continue;
    const t = sum('tsmesh', p), d = sum('direct', p);
    const added = t && d ? t.p99Ms - d.p99Ms : undefined;
    lines.push(`Added p99 at ${input.settings.rate} req/s ${label} ≤ 1 ms: ${added === undefined ? DASH : `${fmtAdded(added)} ms`} — ${verdict(added === undefined ? undefined : added <= 1)}${added === undefined ? why : ''}`);
  }
  const cpu = input.phasesRun.map((p) => [p, sum('tsmesh', p)?.cpuPer1k] as const);
  const measured = cpu.filter((c): c is readonly [PhaseName, number] => ok(c[1]));
  const worst = measured.length > 0 ? Math.max(...measured.map((c) => c[1])) : undefined;
  lines.push(`CPU ≤ 0.2 s per 1000 requests: ${measured.length === 0 ? DASH : measured.map(([p, v]) => `${p} ${fmtCpu(v)}`).join(', ')} s — ${verdict(worst === undefined ? undefined : worst <= 0.2)}${worst === undefined ? why : ''}`);
  const rss = ts?.idleRssBytes;
  lines.push(`Idle RSS ≤ 60 MB: ${ok(rss) ? `${fmtMiB(rss)} MiB` : DASH} — ${verdict(ok(rss) ? rss <= 60 * 1048576 : undefined)}${ok(rss) ? '' : why}`);
  return lines;
}

/** The result tables and target lines (printed to stdout, and part of the report). */
export function renderTables(input: ReportInput): string {
  const s = input.settings;
  const out: string[] = [];
  const ran = (p: PhaseName): boolean => input.phasesRun.includes(p);
  if (ran('h1')) {
    out.push(`### HTTP/1.1 throughput (wrk -t1 -c${s.connections} -d${s.durationSeconds}s, keep-alive, median of ${s.rounds})`, '', throughputTable(input, 'h1'), '');
  }
  if (ran('h1rate')) {
    out.push(`### HTTP/1.1 latency at a fixed ${s.rate} req/s (h2load --h1, open loop, ${s.rateConnections} connections, ${s.rateDurationSeconds}s, median of ${s.rounds}); added = proxy − direct`, '', latencyTable(input, 'h1rate'), '');
  }
  if (ran('h2')) {
    out.push(`### HTTP/2 (h2c) throughput (h2load -c${s.connections} -m${s.h2Streams} -D${s.durationSeconds}, median of ${s.rounds})`, '', throughputTable(input, 'h2'), '');
  }
  if (ran('h2rate')) {
    out.push(`### HTTP/2 (h2c) latency at a fixed ${s.rate} req/s (h2load, open loop, ${s.rateConnections} connections, ${s.rateDurationSeconds}s, median of ${s.rounds}); added = proxy − direct`, '', latencyTable(input, 'h2rate'), '');
  }
  out.push('### Memory (VmRSS of the process tree, /proc)', '', memoryTable(input), '');
  out.push('### Targets (issue 2)', '', ...targetLines(input).map((l) => `- ${l}`), '');
  const failures = input.targets.flatMap((t) => [
    ...(t.failure ? [`${t.name}: ${t.failure}`] : []),
    ...PHASES.flatMap((p) => (t.phases[p].failure ? [`${t.name} (${p}): ${t.phases[p].failure}`] : [])),
  ]);
  if (failures.length > 0) out.push('### Failures', '', ...failures.map((f) => `- ${cell(f)}`), '');
  return out.join('\n');
}

/** The whole BENCHMARKS.md. */
export function renderReport(input: ReportInput): string {
  const s = input.settings;
  const lim = input.noise.limits;
  const out: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (`scripts/bench.sh` → `bench/proxy-compare.ts`); every number below is from the run it',
    'describes. Re-run to refresh; numbers from different machines are not comparable.',
    '',
    `Run: ${input.date}, ${Math.round(input.elapsedSeconds)} s in total.`,
    '',
    '## Machine',
    '',
    ...input.machine.map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Method',
    '',
    `- Upstream: nginx, 1 worker, \`return 200 "hello world\\n"\` on HTTP/1.1 and h2c ports.`,
    s.pinning
      ? `- CPUs: load generators pinned to CPU ${s.pinning.load}; upstream and proxies (all their threads) to CPU ${s.pinning.servers} (taskset).`
      : '- CPUs: not pinned; load generator, upstream and proxy share all CPUs as the kernel schedules them.',
    `- Targets, alternated within each round (${input.targets.map((t) => t.name).join(', ')}); each table cell is the median over rounds (${s.rounds === 1 ? 'one round' : `${s.rounds} rounds`}).`,
    `- Each protocol starts with a ${s.warmupSeconds} s warm-up per target (not measured).`,
    `- Other work on the machine: each measured run starts after a 300 ms window in which the rest of the machine used`,
    `  < ${lim.startBelowPct} % of a CPU (waiting at most ${lim.perRunWaitMs / 1000} s per run, ${lim.totalWaitMs / 1000} s in all); a run during which it used > ${lim.repeatAbovePct} %`,
    `  is discarded and repeated once (at most ${lim.maxRepeats} repeats in all). Discarded here: ${input.noise.discarded.length === 0 ? 'none' : input.noise.discarded.join(', ')}.`,
    `- Throughput: closed loop, ${s.connections} keep-alive connections, ${s.durationSeconds} s per run.`,
    `- Latency at ${s.rate} req/s: open loop (h2load \`--rps\` per connection, connections started 1 ms apart), ${s.rateDurationSeconds} s per run;`,
    '  percentiles computed from h2load\'s per-request log; "added" is the proxy\'s percentile minus the direct one.',
    '- CPU: utime + stime of the target\'s whole process tree (all threads, and nginx\'s workers), from `/proc/PID/stat`,',
    '  read before and after each run, divided by the responses the load generator counted. For "direct" it is the upstream\'s.',
    '- "other CPU %": CPU time taken during the run by everything outside the benchmark (other processes on the machine,',
    '  hypervisor steal), from `/proc/stat`, in % of one CPU, median over rounds. High values mean noisy numbers.',
    '- RSS: VmRSS summed over the process tree from `/proc/PID/status`, after start-up (idle) and after all load.',
    '',
    '## Results',
    '',
    renderTables(input),
    '## Commands',
    '',
    '```sh',
    ...input.commands,
    '```',
    '',
    '## Generated configuration',
    '',
  ];
  for (const c of input.configs) {
    out.push(`<details><summary>${c.title}</summary>`, '', `\`\`\`${c.language}`, c.text.trimEnd(), '```', '', '</details>', '');
  }
  return out.join('\n');
}
