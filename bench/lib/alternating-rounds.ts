import type { LoadRun } from './load.js';
import { otherCpuWindow } from './proc.js';
import type { QuietGate } from './quiet-gate.js';

/** One load run: throughput, the measured processes' CPU per request, the rest of the host's CPU. */
export interface Sample { rps: number; cpuUsPerRequest: number; otherCpuPct: number; errors: number; p99Ms: number }

/**
 * Rounds of one load run per target, in turn, so host noise falls on every target alike; every
 * other round runs them in reverse order (A B, B A, ...), so that what one run leaves behind
 * (a log file's writeback, garbage, a warmed cache) does not always fall on the same one. A run
 * during which the host was busy is repeated once (the QuietGate decides); `cpuSeconds` is the
 * CPU time of the processes under test. Logs one line per kept run.
 */
export async function alternatingRounds<N extends string>(o: {
  readonly rounds: number;
  readonly targets: readonly (readonly [N, number])[];
  readonly load: (port: number) => Promise<LoadRun>;
  readonly cpuSeconds: () => number;
  readonly quiet: QuietGate;
  readonly log: (line: string) => void;
  /** Width the target's name is padded to in the log. */
  readonly nameWidth: number;
  /** Said after "µs CPU/req" in the log, e.g. " (both sidecars)". */
  readonly cpuNote?: string;
}): Promise<{ samples: Record<N, Sample[]>; command: string }> {
  const samples = Object.fromEntries(o.targets.map(([name]) => [name, [] as Sample[]])) as Record<N, Sample[]>;
  let command = '';
  for (let r = 1; r <= o.rounds; r++) {
    const order = r % 2 === 1 ? o.targets : [...o.targets].reverse();
    for (const [name, port] of order) {
      for (let attempt = 1; attempt <= 2; attempt++) {
        await o.quiet.wait();
        const other = otherCpuWindow(process.pid);
        const cpu0 = o.cpuSeconds();
        const run = await o.load(port);
        const s: Sample = { rps: run.requestsPerSecond, cpuUsPerRequest: ((o.cpuSeconds() - cpu0) / Math.max(1, run.requests)) * 1e6, otherCpuPct: other(), errors: run.errors, p99Ms: run.p99Ms };
        command ||= run.command;
        if (attempt === 1 && o.quiet.shouldRepeat(`round ${r} ${name}`, s.otherCpuPct)) continue;
        samples[name].push(s);
        o.log(`round ${r} ${name.padEnd(o.nameWidth)} ${Math.round(s.rps).toLocaleString('en-US').padStart(7)} req/s  ${s.cpuUsPerRequest.toFixed(1).padStart(6)} µs CPU/req${o.cpuNote ?? ''}  p99 ${s.p99Ms.toFixed(2)} ms  other CPU ${s.otherCpuPct.toFixed(0)}%${s.errors ? `  errors ${s.errors}` : ''}`);
        break;
      }
    }
  }
  return { samples, command };
}
