/**
 * Command-line options of bench/proxy-compare.ts. Every duration is whole seconds; defaults
 * are issue 2's (3 rounds of 5 s, 32 connections, 1000 req/s); --quick shrinks them for a
 * smoke run (1 round of 2 s).
 *
 *   --rounds N  --duration S  --warmup S  --connections N  --h2-streams M
 *   --rate R  --rate-connections N  --rate-duration S
 *   --tsmesh-concurrency N  --tsmesh-bin FILE (default bin/tsmesh.js)  --nginx-keepalive N
 *   --base-port P (8 ports from P)  --pin (load generators on CPU 0, servers on the others)
 *   --out FILE (default BENCHMARKS.md)  --no-write  --skip-h2  --keep-temp  --quick
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Settings } from './report.js';

export interface Options extends Settings {
  basePort: number;
  nginxKeepalive: number;
  tsmeshBin: string | undefined;
  /** Where to write the report; undefined: BENCHMARKS.md at the repository root. */
  out: string | undefined;
  write: boolean;
  skipH2: boolean;
  keepTemp: boolean;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rounds: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' },
      connections: { type: 'string' }, 'h2-streams': { type: 'string' }, rate: { type: 'string' },
      'rate-connections': { type: 'string' }, 'rate-duration': { type: 'string' },
      'tsmesh-concurrency': { type: 'string' }, 'nginx-keepalive': { type: 'string' }, 'tsmesh-bin': { type: 'string' }, 'base-port': { type: 'string' }, out: { type: 'string' },
      'no-write': { type: 'boolean' }, pin: { type: 'boolean' }, 'skip-h2': { type: 'boolean' }, quick: { type: 'boolean' }, 'keep-temp': { type: 'boolean' },
    },
  });
  const quick = values.quick === true;
  const int = intOption;
  const connections = int('connections', values.connections, 32, 1, 1000);
  const h2Streams = int('h2-streams', values['h2-streams'], 10, 1, 100);
  const cpus = availableParallelism();
  const o: Options = {
    rounds: int('rounds', values.rounds, quick ? 1 : 3, 1, 20),
    durationSeconds: int('duration', values.duration, quick ? 2 : 5, 1, 60),
    warmupSeconds: int('warmup', values.warmup, quick ? 1 : 2, 1, 60),
    connections,
    h2Streams,
    rate: int('rate', values.rate, 1000, 1, 100_000),
    rateConnections: int('rate-connections', values['rate-connections'], 10, 1, 1000),
    rateDurationSeconds: int('rate-duration', values['rate-duration'], quick ? 2 : 5, 1, 60),
    tsmeshConcurrency: int('tsmesh-concurrency', values['tsmesh-concurrency'], 1, 1, 64),
    // Enough idle upstream connections for the most concurrent requests of any phase (h2c).
    nginxKeepalive: int('nginx-keepalive', values['nginx-keepalive'], Math.max(64, connections * h2Streams), 1, 100_000),
    tsmeshBin: values['tsmesh-bin'],
    pinning: values.pin === true ? pinningFor(cpus) : undefined,
    basePort: int('base-port', values['base-port'], 18080, 1024, 65000),
    out: values.out,
    write: values['no-write'] !== true,
    skipH2: values['skip-h2'] === true,
    keepTemp: values['keep-temp'] === true,
  };
  if (o.rate % o.rateConnections !== 0) throw new Error(`--rate (${o.rate}) must be a multiple of --rate-connections (${o.rateConnections})`);
  return o;
}

/** An integer flag's value: `dflt` when absent, an error naming the flag when outside [min, max]. */
export function intOption(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

/** --pin's split: the load generators on CPU 0, the proxies under test on the others. */
export function pinningFor(cpus: number): { load: string; servers: string } {
  if (cpus < 2) throw new Error('--pin needs at least 2 CPUs');
  return { load: '0', servers: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

/** Options of the benchmarks that alternate two configurations in rounds (filters, telemetry, tracing). */
export interface AlternatingOptions {
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  /** --tsmesh-concurrency, where the benchmark takes it (`withConcurrency`); else 1. */
  concurrency: number;
  basePort: number;
  write: boolean;
  /** --pin, where the benchmark takes it (`withPin`): the proxy alone on `servers`, the rest on `load`. */
  pinning: { load: string; servers: string } | undefined;
}

/**
 * Parses `--rounds --duration --warmup --connections --base-port --no-write --quick` (and
 * `--tsmesh-concurrency` with `withConcurrency`, `--pin` with `withPin`) plus a benchmark's own string flags `extra`,
 * whose raw values come back in `extra`.
 */
export function parseAlternatingOptions<K extends string = never>(argv: string[], o: { basePort: number; withConcurrency?: boolean; withPin?: boolean; extra?: readonly K[] }): { options: AlternatingOptions; extra: Partial<Record<K, string>> } {
  const own: Record<string, { type: 'string' | 'boolean' }> = {
    rounds: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, connections: { type: 'string' },
    'base-port': { type: 'string' }, 'no-write': { type: 'boolean' }, quick: { type: 'boolean' },
  };
  if (o.withConcurrency) own['tsmesh-concurrency'] = { type: 'string' };
  if (o.withPin) own.pin = { type: 'boolean' };
  for (const k of o.extra ?? []) own[k] = { type: 'string' };
  const { values } = parseArgs({ args: argv, strict: true, options: own });
  const str = (k: string): string | undefined => { const v = values[k]; return typeof v === 'string' ? v : undefined; };
  const quick = values.quick === true;
  const int = intOption;
  const extra: Partial<Record<K, string>> = {};
  for (const k of o.extra ?? []) { const v = str(k); if (v !== undefined) extra[k] = v; }
  return {
    options: {
      rounds: int('rounds', str('rounds'), quick ? 2 : 5, 1, 50),
      duration: int('duration', str('duration'), quick ? 2 : 5, 1, 60),
      warmup: int('warmup', str('warmup'), quick ? 1 : 2, 1, 60),
      connections: int('connections', str('connections'), 32, 1, 1000),
      concurrency: int('tsmesh-concurrency', str('tsmesh-concurrency'), 1, 1, 64),
      basePort: int('base-port', str('base-port'), o.basePort, 1024, 65000),
      write: values['no-write'] !== true,
      pinning: values.pin === true ? pinningFor(availableParallelism()) : undefined,
    },
    extra,
  };
}
