/**
 * What the telemetry diagnostics (telemetry-profile.ts, telemetry-alloc.ts) share: the peers of
 * bench:tracing's proxy (nginx upstream, a collector that accepts every export), profile
 * readers keyed by function, and the on − off table they print.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import http from 'node:http';
import { killAllNow, assertPortsFree } from './processes.js';
import { nginxUpstreamConf } from './configs.js';
import { startNginx } from './servers.js';
import type { TelemetryPart } from './tracing-bootstrap.js';

export const DIAG_BODY = 'hello world\n';

/** A collector that reads each report and answers 200. */
export const acceptReport: http.RequestListener = (req, res) => { req.resume(); req.on('end', () => res.end()); };

export interface CallFrame { functionName: string; url: string; lineNumber: number }
export interface CpuProfile { nodes: { id: number; callFrame: CallFrame }[]; samples: number[]; timeDeltas: number[] }

/** A function's key in the tables: name, file and line. */
export const frameKey = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();

/** Self time in ns by function of a CPU profile. */
export function selfNs(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, frameKey(n.callFrame)]));
  const out = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const key = byId.get(profile.samples[i]!) ?? '?';
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) * 1000);
  }
  return out;
}

/** `--only`, checked. */
export function onlyPart(value: string | undefined): TelemetryPart {
  if (value !== undefined && value !== 'tracing' && value !== 'log' && value !== 'metrics') throw new Error(`--only must be tracing, log or metrics, got ${JSON.stringify(value)}`);
  return value as TelemetryPart;
}

export interface DiagPeers {
  readonly ports: { upstream: number; upstreamH2: number; off: number; on: number; admin: number; collector: number };
  /** A temp dir for configs and the access log, removed at exit. */
  readonly dir: string;
  /** nginx's master process (its workers are its children). */
  readonly nginxPid: number;
  close(): void;
}

/**
 * Starts nginx and the collector on ports from `basePort`; everything is stopped at exit.
 * `onReport`: the collector's handler (default: read each report and answer 200).
 */
export async function startDiagPeers(basePort: number, name: string, onReport: http.RequestListener = acceptReport): Promise<DiagPeers> {
  const dir = mkdtempSync(join(tmpdir(), `tsmesh-bench-${name}-`));
  process.on('exit', () => { killAllNow(); rmSync(dir, { recursive: true, force: true }); });
  const b = basePort;
  const ports = { upstream: b, upstreamH2: b + 1, off: b + 2, on: b + 3, admin: b + 4, collector: b + 5 };
  await assertPortsFree(Object.values(ports));
  const collector = http.createServer(onReport);
  await new Promise<void>((r) => collector.listen(ports.collector, '127.0.0.1', () => r()));
  const nginx = await startNginx('upstream', dir, nginxUpstreamConf({ dir, runAsRoot: process.getuid?.() === 0, h1Port: ports.upstream, h2Port: ports.upstreamH2, body: DIAG_BODY }), [ports.upstream, ports.upstreamH2]);
  return { ports, dir, nginxPid: nginx.pid, close: () => collector.close() };
}

/** Prints the `top` functions whose value per request grew most from off to on. */
export function printOnMinusOff(title: string, off: Map<string, number>, on: Map<string, number>, top: number): void {
  const keys = new Set([...off.keys(), ...on.keys()]);
  const rows = [...keys].map((k) => ({ k, off: off.get(k) ?? 0, on: on.get(k) ?? 0 })).sort((x, y) => (y.on - y.off) - (x.on - x.off));
  process.stdout.write(`${title}, on − off, top ${top}:\n`);
  process.stdout.write(`${'off'.padStart(7)} ${'on'.padStart(7)} ${'diff'.padStart(7)}  function\n`);
  for (const r of rows.slice(0, top)) process.stdout.write(`${fixed7(r.off)} ${fixed7(r.on)} ${fixed7(r.on - r.off)}  ${r.k}\n`);
}

export const fixed7 = (x: number): string => x.toFixed(0).padStart(7);
