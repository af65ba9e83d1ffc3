export interface DebounceOptions {
  /** Run once no change came for this long. */
  readonly quietMs: number;
  /** ...but never later than this after the first change of a burst. */
  readonly maxDelayMs: number;
}

export const DEFAULT_DEBOUNCE: DebounceOptions = { quietMs: 100, maxDelayMs: 1000 };

/**
 * Turns a burst of change notifications into one run, like istiod's PILOT_DEBOUNCE_AFTER /
 * PILOT_DEBOUNCE_MAX: a config apply that touches many objects causes one push, and a steady
 * trickle of changes still pushes at least every `maxDelayMs`.
 */
export class PushQueue {
  #reasons: string[] = [];
  #first = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly run: (reasons: readonly string[]) => void, private readonly opts: DebounceOptions = DEFAULT_DEBOUNCE, private readonly clock: () => number = Date.now) {}

  enqueue(reason: string): void {
    if (this.#closed) return;
    const now = this.clock();
    if (this.#reasons.length === 0) this.#first = now;
    this.#reasons.push(reason);
    if (this.#timer) clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.opts.quietMs, this.#first + this.opts.maxDelayMs - now));
    this.#timer = setTimeout(() => this.flush(), wait);
  }

  /** Runs now what is queued (if anything). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#reasons.length === 0) return;
    const reasons = this.#reasons;
    this.#reasons = [];
    this.run(reasons);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#reasons = [];
  }
}
