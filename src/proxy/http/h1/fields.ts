import {
  COLON, CR, FIELD_CHAR, HT, KNOWN_NAME_STRINGS, LF, NAME_CONNECTION, NAME_CONTENT_LENGTH, NAME_EXPECT,
  NAME_HOST, NAME_SPECIAL_LIMIT, NAME_TRANSFER_ENCODING, NAME_UPGRADE, SP, TOKEN_LOWER, equalsLower,
  knownNameId, latin1,
} from './chars.js';
import { H1Error, badMessage, showByte } from './errors.js';

export const CONN_CLOSE = 1;
/** What the scanner holds between sections: frozen, so that a second take() fails loudly. */
const NO_FIELDS = Object.freeze([]) as unknown as string[];
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;

/** Largest Content-Length / chunk size we accept: beyond it doubles lose integer precision. */
export const MAX_BODY_LENGTH = Number.MAX_SAFE_INTEGER;

/**
 * Parses the field lines of one head or trailer section (RFC 9112 §5) and records the facts
 * that decide framing. One instance per parser, reset for every section; the section must be
 * complete (end with an empty line), which the caller guarantees by finding CRLFCRLF first.
 */
export class FieldScanner {
  list: string[] = NO_FIELDS;
  contentLength = -1;
  /** Transfer-Encoding seen at all. */
  te = false;
  /** Number of `chunked` codings, and whether the last coding is chunked. */
  teChunked = 0;
  teLastChunked = false;
  /** First coding we do not implement, if any. */
  teUnknown: string | undefined = undefined;
  /** CONN_* bits from every Connection field. */
  connection = 0;
  hostCount = 0;
  upgrade: string | undefined = undefined;
  expectContinue = false;

  constructor(private readonly maxCount: number) {}

  /**
   * Parses field lines in buf[i, end), where end is just past the empty line; `framing` is
   * false for trailers (no framing meaning there). `text` is the latin1 decoding of the bytes
   * from `base` on: names and values are sliced from it, since one native decode per head
   * is much cheaper than one per field. Throws H1Error.
   */
  scan(buf: Buffer, i: number, end: number, framing: boolean, text: string, base: number): void {
    const list: string[] = (this.list = []);
    this.contentLength = -1;
    this.te = false;
    this.teChunked = 0;
    this.teLastChunked = false;
    this.teUnknown = undefined;
    this.connection = 0;
    this.hostCount = 0;
    this.upgrade = undefined;
    this.expectContinue = false;
    const last = end - 2; // the final CRLF
    let count = 0;
    while (i < last) {
      let c = buf[i]!;
      if (c === SP || c === HT) throw badMessage('H1_OBS_FOLD', 'field line starts with whitespace (obs-fold is not accepted)');
      // Name: tchars up to the colon.
      const ns = i;
      while (TOKEN_LOWER[(c = buf[i]!)] !== 0) i++;
      if (c !== COLON || i === ns) throw this.#nameError(buf, ns, i, c);
      const ne = i++;
      // Value: OWS, field chars, OWS, CRLF.
      while ((c = buf[i]!) === SP || c === HT) i++;
      const vs = i;
      while (FIELD_CHAR[(c = buf[i]!)] === 1) i++;
      if (c !== CR) {
        if (c === LF) throw badMessage('H1_BARE_LF', 'field line ends with LF without CR');
        throw badMessage('H1_BAD_HEADER_VALUE', `invalid byte ${showByte(c)} in value of header '${latin1(buf, ns, ne)}'`);
      }
      if (buf[i + 1] !== LF) throw badMessage('H1_BARE_CR', `CR not followed by LF in value of header '${latin1(buf, ns, ne)}'`);
      let ve = i;
      while (ve > vs && ((c = buf[ve - 1]!) === SP || c === HT)) ve--;
      i += 2;
      if (++count > this.maxCount) throw new H1Error('H1_TOO_MANY_HEADERS', 431, `more than ${this.maxCount} header fields`);
      const id = knownNameId(buf, ns, ne);
      const name = id >= 0 ? KNOWN_NAME_STRINGS[id]! : text.slice(ns - base, ne - base).toLowerCase();
      const value = ve > vs ? text.slice(vs - base, ve - base) : '';
      if (framing && id >= 0 && id < NAME_SPECIAL_LIMIT) {
        if (this.#special(id, value)) continue; // a repeated identical Content-Length: collapsed
      }
      list.push(name, value);
    }
  }

  /**
   * The fields of the last section, handed over: the scanner (as old as its connection) keeps
   * no reference to them, so a finished message's fields are not kept alive, and copied by
   * every young-generation GC, until the next message on the connection.
   */
  take(): string[] {
    const l = this.list;
    this.list = NO_FIELDS;
    return l;
  }

  /** Records a framing field; returns true when the field is to be dropped from the list. */
  #special(id: number, value: string): boolean {
    switch (id) {
      case NAME_HOST:
        this.hostCount++;
        return false;
      case NAME_CONTENT_LENGTH: {
        const n = parseContentLength(value);
        if (this.contentLength === -1) {
          this.contentLength = n;
          // Normalise "5, 5" or "005" to "5" so what we forward is unambiguous.
          const canonical = String(n);
          if (canonical === value) return false;
          this.list.push('content-length', canonical);
          return true;
        }
        if (n !== this.contentLength) {
          throw badMessage('H1_MULTIPLE_CONTENT_LENGTH', `conflicting Content-Length values ${this.contentLength} and ${n}`);
        }
        return true;
      }
      case NAME_TRANSFER_ENCODING:
        this.te = true;
        this.#transferCodings(value);
        return false;
      case NAME_CONNECTION:
        this.connection |= connectionTokens(value);
        return false;
      case NAME_UPGRADE:
        if (this.upgrade === undefined) this.upgrade = value;
        return false;
      case NAME_EXPECT:
        if (equalsLower(value, '100-continue')) this.expectContinue = true;
        return false;
      default:
        return false;
    }
  }

  /** Walks the comma-separated codings of one Transfer-Encoding field (RFC 9112 §6.1). */
  #transferCodings(v: string): void {
    if (v === 'chunked') { // the common case, without the walk
      if (++this.teChunked > 1) throw badMessage('H1_BAD_TRANSFER_ENCODING', 'chunked applied more than once');
      this.teLastChunked = true;
      return;
    }
    const n = v.length;
    let i = 0;
    let any = false;
    while (i <= n) {
      let j = v.indexOf(',', i);
      if (j === -1) j = n;
      let s = i;
      let e = j;
      while (s < e && isOws(v.charCodeAt(s))) s++;
      while (e > s && isOws(v.charCodeAt(e - 1))) e--;
      i = j + 1;
      if (s === e) continue; // empty list element: ignored (RFC 9110 §5.6.1.2)
      for (let k = s; k < e; k++) {
        const c = v.charCodeAt(k);
        if (c > 0xff || TOKEN_LOWER[c] === 0) throw badMessage('H1_BAD_TRANSFER_ENCODING', `malformed Transfer-Encoding '${v}'`);
      }
      any = true;
      const coding = v.slice(s, e);
      if (equalsLower(coding, 'chunked')) {
        this.teChunked++;
        this.teLastChunked = true;
      } else {
        this.teLastChunked = false;
        if (!isKnownCoding(coding) && this.teUnknown === undefined) this.teUnknown = coding;
      }
    }
    if (!any) throw badMessage('H1_BAD_TRANSFER_ENCODING', 'empty Transfer-Encoding');
    if (this.teChunked > 1) throw badMessage('H1_BAD_TRANSFER_ENCODING', 'chunked applied more than once');
  }

  #nameError(buf: Buffer, ns: number, i: number, c: number): H1Error {
    if (c === CR && buf[i + 1] !== LF) return badMessage('H1_BARE_CR', 'CR not followed by LF in the header section');
    if (c === LF) return badMessage('H1_BARE_LF', 'LF without CR in the header section');
    if (i === ns) return badMessage('H1_BAD_HEADER_NAME', `header line without a name (starts with ${showByte(c)})`);
    if (c === SP || c === HT) return badMessage('H1_BAD_HEADER_NAME', `whitespace between header name '${latin1(buf, ns, i)}' and colon`);
    if (c === CR) return badMessage('H1_BAD_HEADER_NAME', `header line '${latin1(buf, ns, i)}' has no colon`);
    return badMessage('H1_BAD_HEADER_NAME', `invalid byte ${showByte(c)} in header name '${latin1(buf, ns, i)}'`);
  }
}

function isOws(c: number): boolean {
  return c === SP || c === HT;
}

function isKnownCoding(coding: string): boolean {
  return equalsLower(coding, 'gzip') || equalsLower(coding, 'deflate') || equalsLower(coding, 'compress') ||
    equalsLower(coding, 'x-gzip') || equalsLower(coding, 'x-compress');
}

/**
 * Content-Length value: 1*DIGIT, or a list of identical such values ("5, 5") which RFC 9110
 * §8.6 lets a recipient collapse. Anything else is fatal: it is how requests get smuggled.
 */
export function parseContentLength(v: string): number {
  const len = v.length;
  let result = -1;
  let i = 0;
  for (;;) {
    const s = i;
    let n = 0;
    for (; i < len; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      if (n > MAX_BODY_LENGTH) throw badMessage('H1_BAD_CONTENT_LENGTH', `Content-Length '${v}' is too large`);
    }
    if (i === s) throw badMessage('H1_BAD_CONTENT_LENGTH', `invalid Content-Length '${v}'`);
    if (result !== -1 && n !== result) throw badMessage('H1_MULTIPLE_CONTENT_LENGTH', `conflicting Content-Length values in '${v}'`);
    result = n;
    if (i === len) return result;
    while (i < len && isOws(v.charCodeAt(i))) i++;
    if (i === len || v.charCodeAt(i) !== 0x2c) throw badMessage('H1_BAD_CONTENT_LENGTH', `invalid Content-Length '${v}'`);
    i++;
    while (i < len && isOws(v.charCodeAt(i))) i++;
  }
}


/** CONN_* bits for the tokens of a Connection value (case-insensitive, comma-separated). */
export function connectionTokens(v: string): number {
  let bits = 0;
  const n = v.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isOws(v.charCodeAt(i)) || v.charCodeAt(i) === 0x2c)) i++;
    const s = i;
    while (i < n && v.charCodeAt(i) !== 0x2c && !isOws(v.charCodeAt(i))) i++;
    const len = i - s;
    if (len === 5 && tokenAt(v, s, 'close')) bits |= CONN_CLOSE;
    else if (len === 10 && tokenAt(v, s, 'keep-alive')) bits |= CONN_KEEP_ALIVE;
    else if (len === 7 && tokenAt(v, s, 'upgrade')) bits |= CONN_UPGRADE;
  }
  return bits;
}

function tokenAt(v: string, s: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = v.charCodeAt(s + k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}
