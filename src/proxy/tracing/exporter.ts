/**
 * A bounded, batching span queue per provider and thread. A request only encodes its span into
 * the report being filled (report-buffer.ts); a report goes out when it holds `maxBatch` spans or
 * `flushMs` after its first span, one report in flight at a time. Past `maxQueued` spans, new
 * ones are dropped and counted — a slow or dead collector costs memory up to the bound and never
 * a request.
 */
import type { Counter } from '../stats-scope.js';
import { ReportBuffer, type ReportFormat } from './report-buffer.js';
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

/** Sends one report body; resolves true when the collector took it (2xx). Never rejects. */
export type SendReport = (body: Buffer) => Promise<boolean>;

export class BatchingExporter implements SpanSink {
  readonly #format: ReportFormat;
  readonly #send: SendReport;
  readonly #stats: ExporterStats;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  readonly #flushMs: number;
  /** The report spans are added to; full ones wait in #full. */
  #filling: ReportBuffer | undefined;
  readonly #full: ReportBuffer[] = [];
  #queued = 0;
  /** The size the last report grew to: the next one starts there instead of growing again. */
  #sizeHint = 16 * 1024;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(format: ReportFormat, send: SendReport, stats: ExporterStats, opts: ExporterOptions = {}) {
    this.#format = format;
    this.#send = send;
    this.#stats = stats;
    this.#maxBatch = opts.maxBatch ?? 512;
    this.#maxQueued = opts.maxQueued ?? 4096;
    this.#flushMs = opts.flushMs ?? 1000;
  }

  /** Spans waiting to be sent (not those of the report in flight). */
  get queued(): number {
    return this.#queued;
  }

  add(span: FinishedSpan): void {
    if (this.#queued >= this.#maxQueued) { this.#stats.spans_dropped.inc(); return; }
    const r = (this.#filling ??= new ReportBuffer(this.#format.headroom, this.#sizeHint));
    const at = r.pos;
    try {
      this.#format.putSpan(r, span);
    } catch {
      // A span that cannot be encoded is dropped whole; the report keeps the ones before it.
      r.pos = at;
      this.#stats.spans_dropped.inc();
      return;
    }
    r.spans++;
    this.#queued++;
    if (r.spans >= this.#maxBatch) {
      this.#full.push(r);
      this.#filling = undefined;
      this.#kick();
    } else if (!this.#timer) {
      this.#arm();
    }
  }

  /** Sends everything queued now; resolves when those reports are done (sent or failed). */
  async flush(): Promise<void> {
    while (this.#queued > 0 || this.#inFlight) {
      if (this.#inFlight) await this.#inFlight;
      else this.#kick();
    }
  }

  #arm(): void {
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#kick(); }, this.#flushMs);
    this.#timer.unref();
  }

  #kick(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.#inFlight) return;
    const r = this.#full.shift() ?? this.#filling;
    if (!r) return;
    if (r === this.#filling) this.#filling = undefined;
    const spans = r.spans;
    this.#queued -= spans;
    this.#sizeHint = Math.max(this.#sizeHint, r.buf.length);
    this.#inFlight = this.#send(this.#format.frame(r)).then((ok) => {
      if (ok) { this.#stats.reports_sent.inc(); this.#stats.spans_sent.inc(spans); } else { this.#stats.reports_failed.inc(); this.#stats.spans_dropped.inc(spans); }
    }, () => { this.#stats.reports_failed.inc(); this.#stats.spans_dropped.inc(spans); }).finally(() => {
      this.#inFlight = undefined;
      if (this.#full.length > 0) this.#kick();
      else if (this.#filling && !this.#timer) this.#arm();
    });
  }
}
