/**
 * The load generators, run to completion with a hard deadline: wrk for closed-loop HTTP/1.1
 * throughput, h2load for HTTP/2 throughput and for fixed-rate (open-loop) runs on either
 * protocol. Each returns the same shape, so the driver treats them alike.
 */
import { readFileSync, rmSync } from 'node:fs';
import { runTool, describeExit, lastLine } from './processes.js';
import { parseWrk, wrkErrorCount } from './wrk.js';
import { parseH2loadSummary, parseH2loadLog } from './h2load.js';
import { percentiles } from './stats.js';

export interface LoadRun {
  /** The exact command line that was run. */
  command: string;
  /** Responses received (whatever their status): the requests the proxy served. */
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Non-2xx responses plus failed requests (socket errors, resets, timeouts). */
  errors: number;
}

export class LoadError extends Error {
  override readonly name = 'LoadError';
}

/** Slack beyond the nominal duration before a load generator is killed. */
const DEADLINE_SLACK_MS = 15_000;

/** Options every load generator takes. */
export interface Placement {
  /** CPUs (a taskset list, "0") to run on; undefined: wherever the kernel schedules it. */
  cpus?: string | undefined;
}

async function run(file: string, args: string[], nominalSeconds: number, cpus: string | undefined): Promise<{ command: string; stdout: string }> {
  const [cmd, argv] = cpus === undefined ? [file, args] : ['taskset', ['-c', cpus, file, ...args]];
  const r = await runTool(cmd, argv, nominalSeconds * 1000 + DEADLINE_SLACK_MS);
  if (r.timedOut) throw new LoadError(`${file} did not finish within ${nominalSeconds}s + ${DEADLINE_SLACK_MS / 1000}s`);
  if (r.exit.error || r.exit.code !== 0) throw new LoadError(`${file}: ${describeExit(r.exit)}${lastLine(r.stderr || r.stdout)}`);
  return { command: r.command, stdout: r.stdout };
}

export interface WrkOptions extends Placement { threads: number; connections: number; durationSeconds: number }

/** `wrk -tT -cC -dDs --latency URL`: closed loop, as many requests as the target answers. */
export async function runWrk(url: string, o: WrkOptions): Promise<LoadRun> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationSeconds}s`, '--latency', url];
  const { command, stdout } = await run('wrk', args, o.durationSeconds, o.cpus);
  const w = parseWrk(stdout);
  return {
    command,
    requests: w.requests,
    requestsPerSecond: w.requestsPerSecond,
    p50Ms: w.latencyMs.get(50) ?? Number.NaN,
    p90Ms: w.latencyMs.get(90) ?? Number.NaN,
    p99Ms: w.latencyMs.get(99) ?? Number.NaN,
    errors: wrkErrorCount(w),
  };
}

async function runH2load(args: string[], nominalSeconds: number, logFile: string, cpus: string | undefined): Promise<LoadRun> {
  rmSync(logFile, { force: true }); // h2load appends to an existing log
  const { command, stdout } = await run('h2load', [...args, `--log-file=${logFile}`], nominalSeconds, cpus);
  const s = parseH2loadSummary(stdout);
  let logText: string;
  try {
    logText = readFileSync(logFile, 'utf8');
  } finally {
    rmSync(logFile, { force: true });
  }
  const log = parseH2loadLog(logText);
  const [p50, p90, p99] = percentiles(log.okMicros, [50, 90, 99]).map((us) => us / 1000);
  return {
    command: command.replace(` --log-file=${logFile}`, ''),
    requests: s.done,
    requestsPerSecond: s.requestsPerSecond,
    p50Ms: p50 ?? Number.NaN,
    p90Ms: p90 ?? Number.NaN,
    p99Ms: p99 ?? Number.NaN,
    // failed/errored/timeout are counted in total; in-flight requests at the end of -D are not.
    errors: Math.max(0, s.total - s.status2xx),
  };
}

export interface H2ThroughputOptions extends Placement { clients: number; streams: number; durationSeconds: number; logFile: string }

/** `h2load -cC -mM -DD URL` over h2c: closed loop, M concurrent streams per connection. */
export function runH2loadThroughput(url: string, o: H2ThroughputOptions): Promise<LoadRun> {
  return runH2load(['-t1', `-c${o.clients}`, `-m${o.streams}`, `-D${o.durationSeconds}`, url], o.durationSeconds, o.logFile, o.cpus);
}

export interface RateOptions extends Placement {
  /** HTTP/1.1 (`--h1`) instead of h2c. */
  h1: boolean;
  /** Total requests per second over all connections. */
  rate: number;
  connections: number;
  durationSeconds: number;
  logFile: string;
}

/**
 * A fixed request rate: `connections` clients each send `rate / connections` requests per
 * second (`--rps`), started 1 ms apart (`-r1 --rate-period=1ms`) so that their sends
 * interleave instead of arriving in bursts of `connections`. With each connection sending
 * every connections/rate seconds (10 ms at the defaults), far longer than a response takes,
 * a request practically never waits for the previous one, so the times measure the service
 * and not the generator's queue (no coordinated omission). `-n` bounds the run.
 */
export function runH2loadRate(url: string, o: RateOptions): Promise<LoadRun> {
  const perClient = o.rate / o.connections;
  const total = Math.round(o.rate * o.durationSeconds);
  const args = ['-t1', ...(o.h1 ? ['--h1'] : []), `-c${o.connections}`, `--rps=${perClient}`, '-r1', '--rate-period=1ms', `-n${total}`, url];
  return runH2load(args, o.durationSeconds, o.logFile, o.cpus);
}
