/**
 * Strict, incremental HTTP/1.1 parsers for requests and responses (RFC 9112), working on the
 * bytes of each read without copying bodies. Strict because a proxy that reads framing
 * differently from the server behind it lets requests be smuggled: anything ambiguous is an
 * error, never a guess.
 */
import { HeaderMap } from '../headers.js';
import { CR, FIELD_CHAR, LF, SP, TARGET_CHAR, TOKEN_LOWER, internMethod, latin1 } from './chars.js';
import { H1Error, badMessage, showByte } from './errors.js';
import { CONN_CLOSE, CONN_KEEP_ALIVE, CONN_UPGRADE, type FieldScanner } from './fields.js';
import {
  BODY_CHUNKED, BODY_INTERIM, BODY_LENGTH, BODY_NONE, BODY_UNTIL_EOF, MessageParser, type ParserCallbacks,
  type ParserLimits,
} from './message-parser.js';

export { H1Error, type H1ErrorCode } from './errors.js';
export type { ParserCallbacks, ParserLimits } from './message-parser.js';

export interface RequestHead {
  /** As sent; an RFC 9110 token (case-sensitive). */
  method: string;
  /** request-target as sent: origin-form, absolute-form, authority-form (CONNECT) or '*'. */
  target: string;
  versionMinor: 0 | 1;
  /** Names lower-case, values without surrounding whitespace, in order. */
  headers: HeaderMap;
  /** -1 when absent. Repeats of one value are collapsed to a single field. */
  contentLength: number;
  /** Transfer-Encoding ends in chunked (required in a request that has one). */
  chunked: boolean;
  /** Per version and Connection: false means close after the response. */
  keepAlive: boolean;
  /**
   * The Upgrade value when an HTTP/1.1 request lists "upgrade" in Connection. The parser then
   * stops after this message (see RequestParser).
   */
  upgrade: string | undefined;
  /** Expect: 100-continue on an HTTP/1.1 request. */
  expectContinue: boolean;
}

export interface ResponseHead {
  status: number;
  reason: string;
  versionMinor: 0 | 1;
  headers: HeaderMap;
  /** -1 when absent; as sent even where the response has no body (HEAD, 304). */
  contentLength: number;
  chunked: boolean;
  /** False also when the body is delimited by the connection closing. */
  keepAlive: boolean;
}

const H = 0x48;
const T = 0x54;
const P = 0x50;
const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * Reads `HTTP/d.d` at buf[i]; returns the minor version (0|1), throws 505 for other versions
 * and `malformed` when the bytes are not a version at all.
 */
function httpVersion(buf: Buffer, i: number, malformed: H1Error['code']): 0 | 1 {
  const major = buf[i + 5]! - 0x30;
  const minor = buf[i + 7]! - 0x30;
  if (buf[i] !== H || buf[i + 1] !== T || buf[i + 2] !== T || buf[i + 3] !== P || buf[i + 4] !== SLASH ||
      buf[i + 6] !== DOT || !(major >= 0 && major <= 9) || !(minor >= 0 && minor <= 9)) {
    throw badMessage(malformed, 'malformed HTTP version');
  }
  if (major !== 1 || minor > 1) throw new H1Error('H1_BAD_VERSION', 505, `HTTP/${major}.${minor} is not supported`);
  return minor === 1 ? 1 : 0;
}

function lineEndError(c: number | undefined, code: H1Error['code'], what: string): H1Error {
  if (c === CR) return badMessage('H1_BARE_CR', `CR not followed by LF after the ${what}`);
  if (c === LF) return badMessage('H1_BARE_LF', `LF without CR after the ${what}`);
  return badMessage(code, `unexpected ${showByte(c)} after the ${what}`);
}

/** Checks the Transfer-Encoding rules common to requests and responses (RFC 9112 §6.1, §6.3). */
function checkTransferEncoding(f: FieldScanner, versionMinor: number): void {
  if (versionMinor === 0) throw badMessage('H1_BAD_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 message');
  if (f.contentLength !== -1) throw badMessage('H1_CL_AND_TE', 'both Content-Length and Transfer-Encoding');
}

/**
 * Parses requests from a client connection.
 *
 * Pipelining: one execute() may hold several requests, reported in order. A connection that
 * serves one request at a time calls pause() in onHead and resume() when the response is done
 * (see MessageParser#pause for the byte hand-over).
 *
 * Tunnels: after a CONNECT request (right after its head: its body is the tunnel) or a request
 * with `upgrade` set (after its body, normally empty), the parser reports onComplete and
 * pauses itself; execute() returns the bytes consumed so far and the rest belongs to the new
 * protocol. A caller that declines the upgrade calls resume() and feeds the rest again.
 */
export class RequestParser extends MessageParser<RequestHead> {
  constructor(cb: ParserCallbacks<RequestHead>, limits: ParserLimits) {
    super(cb, limits);
  }

  protected override parseHead(buf: Buffer, start: number, end: number): void {
    // request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3)
    let i = start;
    let c: number;
    while (TOKEN_LOWER[(c = buf[i]!)] !== 0) i++;
    if (c !== SP || i === start) {
      if (i !== start && c === CR) throw badMessage('H1_BAD_REQUEST_LINE', 'request line has no target');
      if (i === start && c === SP) throw badMessage('H1_BAD_REQUEST_LINE', 'request line starts with whitespace');
      throw badMessage('H1_BAD_METHOD', `invalid byte ${showByte(c)} in the method`);
    }
    const method = internMethod(buf, start, i);
    const ts = ++i;
    while (TARGET_CHAR[(c = buf[i]!)] === 1) i++;
    if (i === ts) throw badMessage('H1_BAD_TARGET', 'empty request-target');
    if (c !== SP) {
      if (c === CR) throw badMessage('H1_BAD_REQUEST_LINE', 'request line has no HTTP version');
      throw badMessage('H1_BAD_TARGET', `invalid byte ${showByte(c)} in the request-target`);
    }
    const text = latin1(buf, start, end);
    const target = text.slice(ts - start, i - start);
    const versionMinor = httpVersion(buf, ++i, 'H1_BAD_REQUEST_LINE');
    i += 8;
    if (buf[i] !== CR || buf[i + 1] !== LF) throw lineEndError(buf[i], 'H1_BAD_REQUEST_LINE', 'HTTP version');
    const f = this.fields;
    f.scan(buf, i + 2, end, true, text, start);

    if (f.hostCount !== 1) {
      if (f.hostCount > 1) throw badMessage('H1_MULTIPLE_HOST', 'more than one Host header');
      if (versionMinor === 1) throw badMessage('H1_MISSING_HOST', 'HTTP/1.1 request without Host');
    }
    let chunked = false;
    if (f.te) {
      checkTransferEncoding(f, versionMinor);
      if (f.teUnknown !== undefined) {
        throw new H1Error('H1_UNSUPPORTED_TRANSFER_ENCODING', 501, `unsupported transfer coding '${f.teUnknown}'`);
      }
      if (!f.teLastChunked) throw badMessage('H1_BAD_TRANSFER_ENCODING', 'chunked is not the final transfer coding');
      chunked = true;
    }
    const conn = f.connection;
    const keepAlive = (conn & CONN_CLOSE) === 0 && (versionMinor === 1 || (conn & CONN_KEEP_ALIVE) !== 0);
    // RFC 9110 §7.8: Upgrade is ignored in an HTTP/1.0 request.
    const upgrade = versionMinor === 1 && (conn & CONN_UPGRADE) !== 0 ? f.upgrade : undefined;
    const connect = method === 'CONNECT';
    if (connect && (chunked || f.contentLength > 0)) throw badMessage('H1_CONNECT_BODY', 'CONNECT request with a body');
    this.cb.onHead({
      method, target, versionMinor, headers: new HeaderMap(f.take()), contentLength: f.contentLength, chunked,
      keepAlive, upgrade, expectContinue: versionMinor === 1 && f.expectContinue,
    });
    const mode = connect ? BODY_NONE : chunked ? BODY_CHUNKED : f.contentLength > 0 ? BODY_LENGTH : BODY_NONE;
    this.startBody(mode, f.contentLength, keepAlive, connect || upgrade !== undefined);
  }
}

/**
 * Parses responses from an upstream connection. Call expectResponseTo(method) for every
 * request sent, in order: the method decides framing (HEAD: no body; CONNECT 2xx: tunnel).
 *
 * Interim 1xx responses (100 Continue, 103 Early Hints) are reported through onHead alone (no
 * onComplete); the parser then reads the final response to the same request. A 101 Switching
 * Protocols or a 2xx to CONNECT ends HTTP on the connection: onHead, onComplete, then the
 * parser pauses and execute() returns the bytes consumed; the rest belongs to the tunnel.
 * A body with neither Content-Length nor chunked framing ends when the peer closes: call
 * finish() on EOF to complete it.
 */
export class ResponseParser extends MessageParser<ResponseHead> {
  readonly #methods: string[] = [];

  constructor(cb: ParserCallbacks<ResponseHead>, limits: ParserLimits) {
    super(cb, limits);
  }

  /** Queues the method of a request just sent; responses are matched to requests in order. */
  expectResponseTo(method: string): void {
    this.#methods.push(method);
  }

  override reset(): void {
    super.reset();
    this.#methods.length = 0;
  }

  protected override parseHead(buf: Buffer, start: number, end: number): void {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 §4)
    const versionMinor = httpVersion(buf, start, 'H1_BAD_STATUS_LINE');
    const text = latin1(buf, start, end);
    let i = start + 8;
    const d0 = buf[i + 1]! - 0x30;
    const d1 = buf[i + 2]! - 0x30;
    const d2 = buf[i + 3]! - 0x30;
    if (buf[i] !== SP || !(d0 >= 1 && d0 <= 9) || !(d1 >= 0 && d1 <= 9) || !(d2 >= 0 && d2 <= 9)) {
      throw badMessage('H1_BAD_STATUS_LINE', 'malformed status code');
    }
    const status = d0 * 100 + d1 * 10 + d2;
    i += 4;
    let reason = '';
    let c = buf[i]!;
    // A missing SP before an empty reason is common enough in the wild to accept.
    if (c === SP) {
      const rs = ++i;
      while (FIELD_CHAR[(c = buf[i]!)] === 1) i++;
      reason = i > rs ? text.slice(rs - start, i - start) : '';
    }
    if (c !== CR || buf[i + 1] !== LF) throw lineEndError(c, 'H1_BAD_STATUS_LINE', 'status line');
    const f = this.fields;
    f.scan(buf, i + 2, end, true, text, start);

    if (f.te) checkTransferEncoding(f, versionMinor);
    const conn = f.connection;
    let keepAlive = (conn & CONN_CLOSE) === 0 && (versionMinor === 1 || (conn & CONN_KEEP_ALIVE) !== 0);
    if (status < 200 && status !== 101) {
      this.cb.onHead({ status, reason, versionMinor, headers: new HeaderMap(f.take()), contentLength: f.contentLength, chunked: false, keepAlive });
      this.startBody(BODY_INTERIM, 0, keepAlive, false);
      return;
    }
    const method = this.#methods.length > 0 ? this.#methods.shift()! : '';
    const tunnel = status === 101 || (method === 'CONNECT' && status < 300);
    // RFC 9112 §6.3: the order of these rules is the order of precedence.
    let mode: number;
    if (tunnel || method === 'HEAD' || status === 204 || status === 304) mode = BODY_NONE;
    else if (f.te) mode = f.teLastChunked ? BODY_CHUNKED : BODY_UNTIL_EOF;
    else if (f.contentLength >= 0) mode = BODY_LENGTH;
    else mode = BODY_UNTIL_EOF;
    if (mode === BODY_UNTIL_EOF) keepAlive = false;
    this.cb.onHead({
      status, reason, versionMinor, headers: new HeaderMap(f.take()), contentLength: f.contentLength,
      chunked: f.te && f.teLastChunked, keepAlive,
    });
    this.startBody(mode, f.contentLength, keepAlive, tunnel);
  }
}
