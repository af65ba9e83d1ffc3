/**
 * The measuring loop of the codec micro-benchmarks: after a warm-up (JIT), 5 rounds over
 * `seconds` in all, each running batches of calls until its share of the time is used; the best
 * round's rate is returned, since on a shared machine the best round is the least disturbed one.
 */
export interface RateOptions {
  readonly seconds: number;
  /** Messages each call handles. */
  readonly per: number;
  /** Calls before measuring. */
  readonly warmup: number;
  /** Calls between two looks at the clock. */
  readonly batch: number;
}

/** `runBatch(n)` makes n calls; messages per second of the best round. */
export async function bestRate(o: RateOptions, runBatch: (n: number) => void | Promise<void>): Promise<number> {
  await runBatch(o.warmup);
  let best = 0;
  const budget = BigInt(Math.round((o.seconds / 5) * 1e9));
  for (let round = 0; round < 5; round++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < budget) {
      await runBatch(o.batch);
      n += o.batch;
      elapsed = process.hrtime.bigint() - start;
    }
    best = Math.max(best, (n * o.per) / (Number(elapsed) / 1e9));
  }
  return best;
}

/** Synchronous calls of `fn`, measured without a promise between two calls. */
export function bestSyncRate(seconds: number, per: number, fn: () => void): Promise<number> {
  return bestRate({ seconds, per, warmup: 20_000, batch: 1000 }, (n) => { for (let i = 0; i < n; i++) fn(); });
}

/** One line of a benchmark's output: the case, then the rate, right-aligned. */
export function report(name: string, perSec: number, width = 44, unit = '/s'): void {
  console.log(`${name.padEnd(width)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} ${unit}`);
}
