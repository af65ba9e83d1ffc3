import { HeaderMap } from '../headers.js';
import { CR, LF, latin1 } from './chars.js';
import { ChunkLineReader } from './chunk-line.js';
import { H1Error, badMessage } from './errors.js';
import { FieldScanner } from './fields.js';
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
const S_CHUNK_LINE = 3; // CRLF after chunk data, chunk-size line
const S_CHUNK_DATA = 4;
const S_TRAILERS = 5;
const S_DONE = 6; // after a non-keep-alive message: nothing more is read
const S_ERROR = 7;

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
  readonly #chunkLine = new ChunkLineReader();
  /** Body bytes left (S_BODY, S_CHUNK_DATA). */
  #remaining = 0;
  #closeAfter = false;
  #stopAfter = false;
  /** After a 1xx interim head: the message (the final response) is still in progress. */
  #interim = false;

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
            if (this.#paused && !this.#interim) return pos;
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
              this.#state = S_CHUNK_LINE;
              this.#chunkLine.start(true);
              this.cb.onBody(chunk);
            }
            break;
          }
          case S_BODY_EOF:
            this.cb.onBody(pos === 0 ? data : data.subarray(pos));
            pos = len;
            break;
          case S_CHUNK_LINE: {
            const line = this.#chunkLine;
            pos = line.read(data, pos);
            if (!line.done) break;
            if (line.size === 0) this.#state = S_TRAILERS;
            else {
              this.#state = S_CHUNK_DATA;
              this.#remaining = line.size;
            }
            break;
          }
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
        if (!this.#interim && (this.#sections.pendingLength === 0 || this.#sections.pendingIsCR)) return;
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
    this.#closeAfter = false;
    this.#stopAfter = false;
    this.#interim = false;
  }

  /**
   * Called by parseHead() after onHead. `keepAlive` false ends parsing after this message;
   * `stopAfter` pauses after it (tunnels: the caller takes the following bytes, or resumes).
   */
  protected startBody(mode: number, length: number, keepAlive: boolean, stopAfter: boolean): void {
    this.#closeAfter = !keepAlive;
    this.#stopAfter = stopAfter;
    this.#interim = mode === BODY_INTERIM;
    if (mode === BODY_LENGTH && length > 0) {
      this.#state = S_BODY;
      this.#remaining = length;
    } else if (mode === BODY_CHUNKED) {
      this.#state = S_CHUNK_LINE;
      this.#chunkLine.start(false);
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
      const { buf, start, end } = sections;
      this.fields.scan(buf, start, end, false, latin1(buf, start, end), start);
      trailers = new HeaderMap(this.fields.take());
    }
    sections.release();
    this.#complete(trailers);
    return next;
  }
}
