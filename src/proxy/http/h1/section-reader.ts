import { CR, LF } from './chars.js';
import { H1Error } from './errors.js';

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** A pending buffer grown past this is not kept for the next section. */
const KEEP_PENDING_BYTES = 8192;

/**
 * Finds complete field sections (a head, or a trailer section) in a byte stream. The common
 * case, a section inside one read, is found in place with one indexOf and costs no copy. A
 * section straddling reads is gathered in a small pending buffer, bounded by maxBytes: the
 * peer cannot make us buffer more than the limit, complete or not.
 */
export class SectionReader {
  /** Where the last section found lies: buf[start, end), end just past its empty line. */
  buf: Buffer = CRLFCRLF;
  start = 0;
  end = 0;
  readonly #maxBytes: number;
  #pending: Buffer | undefined = undefined;
  #pendingLen = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of an incomplete section held from earlier reads. */
  get pendingLength(): number {
    return this.#pendingLen;
  }

  /** Whether what is held is a lone CR (half of an empty line before a start line). */
  get pendingIsCR(): boolean {
    return this.#pendingLen === 1 && this.#pending![0] === CR;
  }

  clear(): void {
    this.#pendingLen = 0;
  }

  /**
   * Looks for the end of the section that starts at data[pos] (after any bytes held). Returns
   * the index in `data` just past it and sets buf/start/end, which stay valid until the next
   * call; or -1 when all of `data` was consumed and kept. `emptyOk`: the section may be just
   * CRLF (a trailer section without fields). Throws H1_HEADERS_TOO_LARGE.
   */
  locate(data: Buffer, pos: number, emptyOk: boolean): number {
    const len = data.length;
    const max = this.#maxBytes;
    let end = -1;
    if (this.#pendingLen === 0) {
      if (emptyOk && len - pos >= 2 && data[pos] === CR && data[pos + 1] === LF) end = pos + 2;
      else {
        const idx = data.indexOf(CRLFCRLF, pos);
        if (idx !== -1) end = idx + 4;
      }
      if (end !== -1 && end - pos <= max) {
        this.buf = data;
        this.start = pos;
        this.end = end;
        return end;
      }
      if (end !== -1 || len - pos > max) throw this.#tooLarge(emptyOk);
      this.#append(data, pos, len);
      return -1;
    }
    const old = this.#pendingLen;
    this.#append(data, pos, pos + Math.min(len - pos, max + 1 - old));
    const p = this.#pending!;
    const plen = this.#pendingLen;
    if (emptyOk && plen >= 2 && p[0] === CR && p[1] === LF) end = 2;
    else {
      // Only the real bytes count: the buffer's tail holds stale data.
      const idx = p.indexOf(CRLFCRLF, old > 3 ? old - 3 : 0);
      if (idx !== -1 && idx + 4 <= plen) end = idx + 4;
    }
    if (end === -1) {
      if (plen > max) throw this.#tooLarge(emptyOk);
      return -1;
    }
    if (end > max) throw this.#tooLarge(emptyOk);
    this.buf = p;
    this.start = 0;
    this.end = end;
    this.#pendingLen = 0;
    return pos + (end - old);
  }

  /** Call when done with buf/start/end: lets a large pending buffer go. */
  release(): void {
    if (this.buf === this.#pending && this.#pending.length > KEEP_PENDING_BYTES) this.#pending = undefined;
    this.buf = CRLFCRLF;
  }

  #append(data: Buffer, s: number, e: number): void {
    const need = this.#pendingLen + (e - s);
    let p = this.#pending;
    if (p === undefined || p.length < need) {
      const grown = Math.min(this.#maxBytes + 1, Math.max(512, p === undefined ? 0 : p.length * 2));
      const np = Buffer.allocUnsafe(Math.max(need, grown));
      if (p !== undefined && this.#pendingLen > 0) p.copy(np, 0, 0, this.#pendingLen);
      this.#pending = p = np;
    }
    data.copy(p, this.#pendingLen, s, e);
    this.#pendingLen = need;
  }

  #tooLarge(trailers: boolean): H1Error {
    const what = trailers ? 'trailer section' : 'header section';
    return new H1Error('H1_HEADERS_TOO_LARGE', 431, `${what} larger than ${this.#maxBytes} bytes`);
  }
}
