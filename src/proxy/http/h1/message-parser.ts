import { HeaderMap } from '../headers.js';
import { CR, HEX, HT, LF, SP } from './chars.js';
import { EXT_BEFORE_NAME, EXT_BEFORE_SEMI, EXT_END, EXT_INVALID, chunkExtStep } from './chunk-ext.js';
import { H1Error, badMessage, showByte } from './errors.js';
import { FieldScanner, MAX_BODY_LENGTH } from './fields.js';
import { SectionReader } from './section-reader.js';

/**
 * What a parser reports, in order per message: onHead, onBody*, onComplete; or onError, after
 * which the parser takes no more input. Callbacks may call pause()/resume() but must not call
 * execute(), finish() or reset() on the same parser.
 */
export interface ParserCallbacks<H> {
  onHead(head: H): void;
  /** Decoded body bytes (chunk framing removed). Often a subarray of the input: copy to keep. */
  onBody(chunk: Buffer): void;
  /** End of the message; the trailers of a chunked message if it had any. */
  onComplete(trailers: HeaderMap | undefined): void;
  onError(err: H1Error): void;
}

export interface ParserLimits {
  /** Most bytes in a head (start line, field lines, empty line) and in a trailer section. */
  maxHeaderBytes: number;
  /** Most field lines in a head or trailer section. */
  maxHeaderCount: number;
}

/** How the body of a message whose head was just parsed is delimited. */
export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
export const BODY_UNTIL_EOF = 3;
/** A 1xx interim response: no body, no onComplete, the next head follows. */
export const BODY_INTERIM = 4;

const S_HEAD = 0;
const S_BODY = 1;
const S_BODY_EOF = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_EXT = 4;
const S_CHUNK_SIZE_LF = 5;
const S_CHUNK_DATA = 6;
const S_CHUNK_DATA_CR = 7;
const S_CHUNK_DATA_LF = 8;
const S_TRAILERS = 9;
const S_DONE = 10; // after a non-keep-alive message, or finish()
const S_ERROR = 11;

const SEMI = 0x3b;
/** Chunk extensions are dropped, but reading them costs CPU: bound them (cf. CVE-2024-22019). */
const MAX_CHUNK_EXT_BYTES = 4096;

/**
 * The state machine shared by the request and response parsers: finding heads (also across
 * reads), body framing (Content-Length, chunked, until EOF), trailers, pause/resume. Subclasses
 * parse the start line and decide framing in parseHead().
 */
export abstract class MessageParser<H> {
  protected readonly cb: ParserCallbacks<H>;
  protected readonly fields: FieldScanner;
  #state = S_HEAD;
  #paused = false;
  readonly #sections: SectionReader;
  /** Body bytes left (S_BODY, S_CHUNK_DATA) or the chunk size being read (S_CHUNK_SIZE). */
  #remaining = 0;
  #digits = 0;
  #ext = 0;
  #extLen = 0;
  #closeAfter = false;
  #stopAfter = false;

  constructor(cb: ParserCallbacks<H>, limits: ParserLimits) {
    const { maxHeaderBytes, maxHeaderCount } = limits;
    if (!(maxHeaderBytes >= 64) || !(maxHeaderCount >= 1)) {
      throw new RangeError(`h1 parser limits out of range: maxHeaderBytes=${maxHeaderBytes} maxHeaderCount=${maxHeaderCount}`);
    }
    this.cb = cb;
    this.#sections = new SectionReader(maxHeaderBytes);
    this.fields = new FieldScanner(maxHeaderCount);
  }

  /** Parses one start line + field section in buf[start, end); calls onHead then startBody(). */
  protected abstract parseHead(buf: Buffer, start: number, end: number): void;

  /**
   * After a pause() the parser finishes the message in progress (its body and onComplete), then
   * consumes nothing more: execute() returns how many bytes it used and the caller keeps the
   * rest, feeding it again after resume(). This is how a connection handles one pipelined
   * request at a time. pause() may be called from any callback (typically onHead).
   */
  pause(): void {
    this.#paused = true;
  }

  /** Lets the next message start; feed the bytes execute() did not consume again. */
  resume(): void {
    this.#paused = false;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Parses `data`, calling back for every message event it completes. Returns the bytes
   * consumed: all of them, unless the parser is paused (see pause()), stopped at a tunnel
   * (Upgrade, CONNECT, 101: the rest belongs to the tunnel), done after a non-keep-alive
   * message, or failed (onError was called).
   */
  execute(data: Buffer): number {
    const len = data.length;
    let pos = 0;
    try {
      while (pos < len) {
        switch (this.#state) {
          case S_HEAD:
            if (this.#paused) return pos;
            pos = this.#headStep(data, pos);
            break;
          case S_BODY:
          case S_CHUNK_DATA: {
            const n = Math.min(this.#remaining, len - pos);
            const chunk = n === len ? data : data.subarray(pos, pos + n);
            pos += n;
            this.#remaining -= n;
            if (this.#remaining !== 0) {
              this.cb.onBody(chunk);
            } else if (this.#state === S_BODY) {
              this.cb.onBody(chunk);
              this.#complete(undefined);
            } else {
              this.#state = S_CHUNK_DATA_CR;
              this.cb.onBody(chunk);
            }
            break;
          }
          case S_BODY_EOF:
            this.cb.onBody(pos === 0 ? data : data.subarray(pos));
            pos = len;
            break;
          case S_CHUNK_SIZE:
            pos = this.#chunkSize(data, pos);
            break;
          case S_CHUNK_EXT:
            pos = this.#chunkExt(data, pos);
            break;
          case S_CHUNK_SIZE_LF:
            if (data[pos++] !== LF) throw badMessage('H1_BAD_CHUNK', 'CR not followed by LF after the chunk size');
            if (this.#remaining === 0) this.#state = S_TRAILERS;
            else this.#state = S_CHUNK_DATA;
            break;
          case S_CHUNK_DATA_CR:
            if (data[pos++] !== CR) throw badMessage('H1_BAD_CHUNK', 'chunk data not followed by CRLF');
            this.#state = S_CHUNK_DATA_LF;
            break;
          case S_CHUNK_DATA_LF:
            if (data[pos++] !== LF) throw badMessage('H1_BAD_CHUNK', 'chunk data not followed by CRLF');
            this.#state = S_CHUNK_SIZE;
            this.#remaining = 0;
            this.#digits = 0;
            break;
          case S_TRAILERS:
            pos = this.#trailerStep(data, pos);
            break;
          default: // S_DONE, S_ERROR
            return pos;
        }
      }
      return pos;
    } catch (e) {
      if (!(e instanceof H1Error) || this.#state === S_ERROR) throw e;
      this.#fail(e);
      return pos;
    }
  }

  /**
   * The peer closed its side. Completes a body delimited by the close; reports H1_EOF if a
   * message was cut short; between messages it does nothing.
   */
  finish(): void {
    switch (this.#state) {
      case S_BODY_EOF:
        this.#closeAfter = true;
        this.#complete(undefined);
        return;
      case S_HEAD:
        if (this.#sections.pendingLength === 0 || this.#sections.pendingIsCR) return;
        break;
      case S_DONE:
      case S_ERROR:
        return;
    }
    this.#fail(badMessage('H1_EOF', 'connection closed in the middle of a message'));
  }

  /** Back to the initial state (e.g. for a parser reused on a new connection). */
  reset(): void {
    this.#state = S_HEAD;
    this.#paused = false;
    this.#sections.clear();
    this.#remaining = 0;
    this.#digits = 0;
    this.#closeAfter = false;
    this.#stopAfter = false;
  }

  /**
   * Called by parseHead() after onHead. `keepAlive` false ends parsing after this message;
   * `stopAfter` pauses after it (tunnels: the caller takes the following bytes, or resumes).
   */
  protected startBody(mode: number, length: number, keepAlive: boolean, stopAfter: boolean): void {
    this.#closeAfter = !keepAlive;
    this.#stopAfter = stopAfter;
    if (mode === BODY_LENGTH && length > 0) {
      this.#state = S_BODY;
      this.#remaining = length;
    } else if (mode === BODY_CHUNKED) {
      this.#state = S_CHUNK_SIZE;
      this.#remaining = 0;
      this.#digits = 0;
    } else if (mode === BODY_UNTIL_EOF) {
      this.#state = S_BODY_EOF;
    } else if (mode === BODY_INTERIM) {
      this.#state = S_HEAD;
    } else {
      this.#complete(undefined);
    }
  }

  #complete(trailers: HeaderMap | undefined): void {
    if (this.#stopAfter) {
      this.#state = S_HEAD;
      this.#paused = true;
    } else {
      this.#state = this.#closeAfter ? S_DONE : S_HEAD;
    }
    this.cb.onComplete(trailers);
  }

  #fail(err: H1Error): void {
    this.#state = S_ERROR;
    this.#sections.clear();
    this.cb.onError(err);
  }

  #headStep(data: Buffer, pos: number): number {
    const sections = this.#sections;
    if (sections.pendingLength === 0) {
      // Empty lines before a start line are ignored (RFC 9112 §2.2).
      while (data[pos] === CR && data[pos + 1] === LF) pos += 2;
      if (pos >= data.length) return pos;
    } else if (sections.pendingIsCR && data[pos] === LF) {
      sections.clear();
      return pos + 1;
    }
    const next = sections.locate(data, pos, false);
    if (next === -1) return data.length;
    this.parseHead(sections.buf, sections.start, sections.end);
    sections.release();
    return next;
  }

  #trailerStep(data: Buffer, pos: number): number {
    const sections = this.#sections;
    const next = sections.locate(data, pos, true);
    if (next === -1) return data.length;
    let trailers: HeaderMap | undefined;
    if (sections.end - sections.start > 2) {
      this.fields.scan(sections.buf, sections.start, sections.end, false);
      trailers = new HeaderMap(this.fields.list);
    }
    sections.release();
    this.#complete(trailers);
    return next;
  }

  #chunkSize(data: Buffer, pos: number): number {
    const len = data.length;
    let size = this.#remaining;
    let digits = this.#digits;
    while (pos < len) {
      const c = data[pos]!;
      const v = HEX[c]!;
      if (v >= 0) {
        if (++digits > 16) throw badMessage('H1_BAD_CHUNK', 'chunk size longer than 16 hex digits');
        size = size * 16 + v;
        if (size > MAX_BODY_LENGTH) throw badMessage('H1_BAD_CHUNK', 'chunk size too large');
        pos++;
        continue;
      }
      if (digits === 0) throw badMessage('H1_BAD_CHUNK', `chunk size expected, got ${showByte(c)}`);
      pos++;
      if (c === CR) {
        this.#state = S_CHUNK_SIZE_LF;
      } else if (c === SEMI || c === SP || c === HT) {
        this.#state = S_CHUNK_EXT;
        this.#ext = c === SEMI ? EXT_BEFORE_NAME : EXT_BEFORE_SEMI;
        this.#extLen = 0;
      } else {
        throw badMessage('H1_BAD_CHUNK', `invalid byte ${showByte(c)} after the chunk size`);
      }
      break;
    }
    this.#remaining = size;
    this.#digits = digits;
    return pos;
  }

  #chunkExt(data: Buffer, pos: number): number {
    const len = data.length;
    let st = this.#ext;
    while (pos < len) {
      const c = data[pos++]!;
      st = chunkExtStep(st, c);
      if (st === EXT_END) {
        this.#state = S_CHUNK_SIZE_LF;
        break;
      }
      if (st === EXT_INVALID) throw badMessage('H1_BAD_CHUNK', `invalid byte ${showByte(c)} in a chunk extension`);
      if (++this.#extLen > MAX_CHUNK_EXT_BYTES) throw badMessage('H1_BAD_CHUNK', `chunk extension longer than ${MAX_CHUNK_EXT_BYTES} bytes`);
    }
    this.#ext = st;
    return pos;
  }
}
