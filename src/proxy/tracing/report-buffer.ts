/**
 * A report to a collector, encoded a span at a time as the spans finish. A queued span is bytes
 * in one buffer outside the JavaScript heap, not an object graph of ~60 strings and arrays that
 * lives until its batch is sent: those graphs outlived young-generation collections and were
 * copied and promoted, which cost more than encoding them (~7 µs of collector time per span).
 */
import type { FinishedSpan } from './span.js';

export class ReportBuffer {
  buf: Buffer;
  /** Next byte to write; the spans start at the format's headroom. */
  pos: number;
  /** Spans in this report. */
  spans = 0;

  constructor(readonly headroom: number, size = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(size, headroom + 256));
    this.pos = headroom;
  }

  /** Makes room for `n` more bytes at `pos`. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/** How one provider's reports are encoded. Pure. */
export interface ReportFormat {
  /** Bytes kept free before the first span for `frame`. */
  readonly headroom: number;
  /** Appends one span, with whatever separates it from the span before. */
  putSpan(r: ReportBuffer, s: FinishedSpan): void;
  /** The whole report body around the spans (written into the headroom and after them). */
  frame(r: ReportBuffer): Buffer;
}

/** `spans` in `format`, as one report. */
export function encodeReport(format: ReportFormat, spans: readonly FinishedSpan[]): Buffer {
  const r = new ReportBuffer(format.headroom);
  for (const s of spans) { format.putSpan(r, s); r.spans++; }
  return format.frame(r);
}
