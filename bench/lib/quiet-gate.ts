/**
 * Defences against other work on a shared machine, all bounded so that the benchmark's total
 * time stays bounded however busy the machine is: runs start in a quiet moment, and a run
 * during which the rest of the machine took much CPU is discarded and repeated, a few times.
 */
import { otherCpuWindow } from './proc.js';
import { sleep } from './processes.js';

export interface QuietGateLimits {
  /** A run starts after a 300 ms window with less than this much other CPU (% of one CPU)... */
  startBelowPct: number;
  /** ...or after waiting this long for one. */
  perRunWaitMs: number;
  /** Waiting, over the whole benchmark, stops after this long. */
  totalWaitMs: number;
  /** A run during which other CPU exceeded this is repeated... */
  repeatAbovePct: number;
  /** ...at most this many times over the whole benchmark. */
  maxRepeats: number;
}

export const DEFAULT_LIMITS: QuietGateLimits = { startBelowPct: 33, perRunWaitMs: 5000, totalWaitMs: 90_000, repeatAbovePct: 50, maxRepeats: 8 };

export class QuietGate {
  readonly limits: QuietGateLimits;
  #waitLeftMs: number;
  #repeatsLeft: number;
  /** "phase target: N%" for every run that was discarded. */
  readonly discarded: string[] = [];

  constructor(limits: QuietGateLimits = DEFAULT_LIMITS) {
    this.limits = limits;
    this.#waitLeftMs = limits.totalWaitMs;
    this.#repeatsLeft = limits.maxRepeats;
  }

  /** Resolves at the start of a quiet 300 ms window, or when this run's waiting time is up. */
  async wait(): Promise<void> {
    const start = performance.now();
    const limit = Math.min(this.limits.perRunWaitMs, this.#waitLeftMs);
    for (;;) {
      const window = otherCpuWindow(process.pid);
      await sleep(300);
      if (window() < this.limits.startBelowPct || performance.now() - start >= limit) break;
    }
    this.#waitLeftMs -= Math.max(0, performance.now() - start - 300);
  }

  /** True (and the run recorded as discarded) when a run with this much other CPU is to be repeated. */
  shouldRepeat(label: string, otherCpuPct: number): boolean {
    if (otherCpuPct <= this.limits.repeatAbovePct || this.#repeatsLeft <= 0) return false;
    this.#repeatsLeft--;
    this.discarded.push(`${label}: ${otherCpuPct.toFixed(0)}%`);
    return true;
  }
}
