import { otherCpuWindow } from './proc.js';
import { sleep } from './processes.js';

/**
 * On a shared machine, holds each run back until a 300 ms window in which the rest of the
 * machine used less than a third of a CPU: at most `perRunMs` per run and `totalMs` in all, so
 * the benchmark stays bounded however busy the machine is.
 */
export class QuietGate {
  #leftMs: number;
  constructor(totalMs: number, readonly perRunMs: number) {
    this.#leftMs = totalMs;
  }

  async wait(): Promise<void> {
    const start = performance.now();
    const limit = Math.min(this.perRunMs, this.#leftMs);
    for (;;) {
      const window = otherCpuWindow(process.pid);
      await sleep(300);
      if (window() < 33 || performance.now() - start >= limit) break;
    }
    this.#leftMs -= Math.max(0, performance.now() - start - 300);
  }
}
