/**
 * Envoy's jittered exponential backoff for xDS reconnects (JitteredExponentialBackOffStrategy,
 * 500 ms base, 30 s max): attempt n waits uniformly in [0, min(base * 2^n, max)). `random` is
 * injectable so tests are exact.
 */
export class Backoff {
  #attempt = 0;

  constructor(readonly baseMs = 500, readonly maxMs = 30_000, readonly random: () => number = Math.random) {}

  next(): number {
    const ceiling = Math.min(this.baseMs * 2 ** this.#attempt, this.maxMs);
    if (ceiling < this.maxMs) this.#attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
