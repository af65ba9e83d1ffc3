/**
 * Access log lines encoded straight into the bytes a sink writes: a text format appends its
 * pieces here instead of concatenating a string. A concatenated line is a rope of ~45 small
 * strings (plus a string per number) that the sink then flattens and transcodes; at tens of
 * thousands of lines a second that garbage and the copying cost more than the formatting itself.
 * UTF-8 exactly as Buffer.write encodes it (a lone surrogate becomes U+FFFD).
 */

/** Strings longer than this go through the native encoder; shorter ones are encoded here. */
const NATIVE_FROM = 64;

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

  text(s: string): void {
    const n = s.length;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.pos + n * 3 > this.buf.length) this.#grow(n * 3);
    if (n > NATIVE_FROM) { this.pos += this.buf.write(s, this.pos, 'utf8'); return; }
    const b = this.buf;
    const p = this.pos;
    // The loop every log line runs, written as if the string were ASCII and checked after it (a
    // test per character that leaves the loop makes it about twice as slow); otherwise #wide
    // writes it again from the start.
    let all = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      all |= c;
      b[p + i] = c;
    }
    this.pos = all < 0x80 ? p + n : this.#wide(s, 0, p);
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

  /** text() from index `i` of `s` at byte `p`, any code unit. Returns the new position. */
  #wide(s: string, i: number, p: number): number {
    const b = this.buf;
    const n = s.length;
    for (; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) { b[p++] = c; continue; }
      if (c < 0x800) { b[p++] = 0xc0 | (c >> 6); b[p++] = 0x80 | (c & 0x3f); continue; }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          b[p++] = 0xf0 | (cp >> 18); b[p++] = 0x80 | ((cp >> 12) & 0x3f); b[p++] = 0x80 | ((cp >> 6) & 0x3f); b[p++] = 0x80 | (cp & 0x3f);
          i++;
          continue;
        }
        c = 0xfffd;
      }
      b[p++] = 0xe0 | (c >> 12); b[p++] = 0x80 | ((c >> 6) & 0x3f); b[p++] = 0x80 | (c & 0x3f);
    }
    return p;
  }

  /** A number as JavaScript prints it (String(n)); small non-negative integers without a string. */
  number(n: number): void {
    if (!(n >= 0 && n <= 0x7fffffff && (n | 0) === n)) { this.text(String(n)); return; }
    if (this.pos + 10 > this.buf.length) this.#grow(10);
    const b = this.buf;
    let digits = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
    let p = this.pos + digits;
    this.pos = p;
    let x = n;
    do { b[--p] = 48 + (x % 10); x = (x / 10) | 0; } while (x > 0);
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
