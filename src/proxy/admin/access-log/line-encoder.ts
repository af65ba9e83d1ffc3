/**
 * Access log lines encoded straight into the bytes a sink writes: a text format appends its
 * pieces here instead of concatenating a string. A concatenated line is a rope of ~45 small
 * strings (plus a string per number) that the sink then flattens and transcodes; at tens of
 * thousands of lines a second that garbage and the copying cost more than the formatting itself.
 * UTF-8 exactly as Buffer.write encodes it (a lone surrogate becomes U+FFFD).
 */

/** Strings longer than this go through the native encoder: one call costs about what ~24 characters cost here. */
const NATIVE_FROM = 24;

/** Room putNumber needs: String(n) of a number has at most 25 characters. */
export const NUMBER_ROOM = 32;

/**
 * `s` as UTF-8 into `b` at `p`, which has room for 3 bytes per UTF-16 code unit (the most UTF-8
 * takes); returns the position after it.
 */
export function putText(b: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n > NATIVE_FROM) return p + b.write(s, p, 'utf8');
  // The loop every log line runs, written as if the string were ASCII and checked after it (a
  // test per character that leaves the loop makes it about twice as slow); otherwise the native
  // encoder writes it again.
  let all = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    all |= c;
    b[p + i] = c;
  }
  return all < 0x80 ? p + n : p + b.write(s, p, 'utf8');
}

/**
 * A number as JavaScript prints it (String(n)) into `b` at `p`, which has NUMBER_ROOM bytes of
 * room; small non-negative integers without a string. Returns the position after it.
 */
export function putNumber(b: Buffer, p: number, n: number): number {
  if (!(n >= 0 && n <= 0x7fffffff && (n | 0) === n)) return putText(b, p, String(n));
  let digits = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
  const end = p + digits;
  let q = end;
  let x = n;
  do { b[--q] = 48 + (x % 10); x = (x / 10) | 0; } while (x > 0);
  return end;
}

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
