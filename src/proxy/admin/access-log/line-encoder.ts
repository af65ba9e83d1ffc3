/**
 * Access log lines encoded straight into the bytes a sink writes: a text format appends its
 * pieces here instead of concatenating a string. A concatenated line is a rope of ~45 small
 * strings (plus a string per number) that the sink then flattens and transcodes; at tens of
 * thousands of lines a second that garbage and the copying cost more than the formatting itself.
 * UTF-8 exactly as Buffer.write encodes it (a lone surrogate becomes U+FFFD).
 */

import { NUMBER_ROOM, putNumber, putText } from '../../io/put-text.js';

export class LineEncoder {
  /** Where the line goes; replaced by a bigger buffer when the line outgrows it. */
  buf: Buffer;
  /** Next byte to write. */
  pos: number;
  /** Where the current line started in `buf`. */
  #start: number;

  constructor(buf: Buffer = Buffer.allocUnsafe(1024), pos = 0) {
    this.buf = buf;
    this.pos = pos;
    this.#start = pos;
  }

  /** Starts a line at `pos` of `buf`. */
  begin(buf: Buffer, pos: number): void {
    this.buf = buf;
    this.pos = pos;
    this.#start = pos;
  }

  /** Where the current line started (0 after it moved to a bigger buffer). */
  get start(): number {
    return this.#start;
  }

  /** The current line's bytes (a view, valid until the next begin()). */
  line(): Buffer {
    return this.buf.subarray(this.#start, this.pos);
  }

  /** Makes room for `n` more bytes at `pos` (the line may move to a bigger buffer). */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.#grow(n);
  }

  /** `s` as UTF-8. */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.pos = putText(this.buf, this.pos, s);
  }

  /** Bytes already encoded (a format's literal text, compiled once). */
  bytes(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.#grow(n);
    const b = this.buf;
    const p = this.pos;
    // Most literals are a few bytes: a loop beats the native copy's call.
    if (n > 32) b.set(src, p);
    else for (let i = 0; i < n; i++) b[p + i] = src[i]!;
    this.pos = p + n;
  }

  /** A number as JavaScript prints it (String(n)). */
  number(n: number): void {
    this.reserve(NUMBER_ROOM);
    this.pos = putNumber(this.buf, this.pos, n);
  }

  /** Moves the current line to the front of a buffer with room for `more` bytes. */
  #grow(more: number): void {
    const used = this.pos - this.#start;
    const next = Buffer.allocUnsafe(Math.max(1024, 2 * (used + more)));
    this.buf.copy(next, 0, this.#start, this.pos);
    this.buf = next;
    this.#start = 0;
    this.pos = used;
  }
}
