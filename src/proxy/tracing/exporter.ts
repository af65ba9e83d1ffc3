/**
 * A bounded, batching span queue per provider and thread. A request only appends its span; a
 * batch goes out when it holds `maxBatch` spans or `flushMs` after its first span, one report
 * in flight at a time. Past `maxQueued` spans, new ones are dropped and counted — a slow or dead
 * collector costs memory up to the bound and never a request.
 */
import type { Counter } from '../stats-scope.js';
import type { FinishedSpan, SpanSink } from './span.js';

export interface ExporterStats {
  readonly spans_sent: Counter;
  readonly spans_dropped: Counter;
  readonly reports_sent: Counter;
  readonly reports_failed: Counter;
}

export interface ExporterOptions {
  readonly maxBatch?: number;
  readonly maxQueued?: number;
  readonly flushMs?: number;
}

/** Sends one batch; resolves true when the collector took it (2xx). Never rejects. */
export type SendBatch = (spans: readonly FinishedSpan[]) => Promise<boolean>;

export class BatchingExporter implements SpanSink {
  readonly #send: SendBatch;
  readonly #stats: ExporterStats;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  readonly #flushMs: number;
  #queue: FinishedSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(send: SendBatch, stats: ExporterStats, opts: ExporterOptions = {}) {
    this.#send = send;
    this.#stats = stats;
    this.#maxBatch = opts.maxBatch ?? 512;
    this.#maxQueued = opts.maxQueued ?? 4096;
    this.#flushMs = opts.flushMs ?? 1000;
  }

  get queued(): number {
    return this.#queue.length;
  }

  add(span: FinishedSpan): void {
    if (this.#queue.length >= this.#maxQueued) { this.#stats.spans_dropped.inc(); return; }
    this.#queue.push(span);
    if (this.#queue.length >= this.#maxBatch) this.#kick();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => { this.#timer = undefined; this.#kick(); }, this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Sends everything queued now; resolves when those reports are done (sent or failed). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight) {
      if (this.#inFlight) await this.#inFlight;
      else this.#kick();
    }
  }

  #kick(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.#inFlight || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#inFlight = this.#send(batch).then((ok) => {
      if (ok) { this.#stats.reports_sent.inc(); this.#stats.spans_sent.inc(batch.length); } else { this.#stats.reports_failed.inc(); this.#stats.spans_dropped.inc(batch.length); }
    }, () => { this.#stats.reports_failed.inc(); this.#stats.spans_dropped.inc(batch.length); }).finally(() => {
      this.#inFlight = undefined;
      if (this.#queue.length >= this.#maxBatch) this.#kick();
      else if (this.#queue.length > 0 && !this.#timer) {
        this.#timer = setTimeout(() => { this.#timer = undefined; this.#kick(); }, this.#flushMs);
        this.#timer.unref();
      }
    });
  }
}
