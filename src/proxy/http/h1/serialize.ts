/**
 * HTTP/1.1 serializers. Heads are built as latin1 strings (write them with
 * `socket.write(head, 'latin1')`), so obs-text bytes received by the parser go out unchanged.
 * Every name, value, method, target and reason is checked: a CR or LF that reached a header
 * (from config, a filter, an HTTP/2 peer) must never split the message. A violation throws an
 * H1Error with code H1_INVALID_FIELD (status 500: it is our fault, not the peer's).
 */
import type { HeaderMap } from '../headers.js';
import { FIELD_CHAR, KNOWN_NAME_STRINGS, TARGET_CHAR, TOKEN_LOWER } from './chars.js';
import { H1Error } from './errors.js';

export const CRLF: Buffer = Buffer.from('\r\n', 'latin1');
/** last-chunk with an empty trailer section: ends a chunked body that has no trailers. */
export const LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed',
  413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable',
  417: 'Expectation Failed', 418: "I'm a teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity',
  423: 'Locked', 424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required',
  428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates',
  507: 'Insufficient Storage', 508: 'Loop Detected', 510: 'Not Extended', 511: 'Network Authentication Required',
};

/** The standard reason phrase of `status`, or '' for codes without one. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

function invalid(message: string): H1Error {
  return new H1Error('H1_INVALID_FIELD', 500, message);
}

/** Names already checked; the parser's interned names and whatever config uses repeatedly. */
const checkedNames = new Set<string>(KNOWN_NAME_STRINGS);
const MAX_CHECKED_NAMES = 4096;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN_LOWER[c] === 0) return false;
  }
  return true;
}

function checkName(name: string): void {
  if (checkedNames.has(name)) return;
  if (!isToken(name)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
  if (checkedNames.size < MAX_CHECKED_NAMES) checkedNames.add(name);
}

/** A character FIELD_CHAR does not allow (or beyond latin1). */
const NOT_FIELD_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
/**
 * Values this long are checked by the regular expression: its compiled scan costs about 1 ns a
 * character after a fixed ~15 ns, a loop over charCodeAt ~2.5 ns a character (a 36-character
 * x-request-id: 50 vs 100 ns; a 55-character traceparent: 66 vs 160 ns).
 */
const SCAN_FROM = 10;

function checkValue(name: string, value: string): void {
  if (value.length >= SCAN_FROM) {
    if (NOT_FIELD_CHAR.test(value)) throw invalid(`invalid character in value of header '${name}'`);
    return;
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || FIELD_CHAR[c] === 0) throw invalid(`invalid character in value of header '${name}'`);
  }
}

/** `name: value\r\n` for every field, in order. */
export function serializeFields(headers: HeaderMap): string {
  const l = headers.list;
  const trusted = headers.trusted;
  let out = '';
  for (let i = 0; i < l.length; i += 2) {
    const name = l[i]!;
    const value = l[i + 1]!;
    checkName(name);
    if (value !== trusted) checkValue(name, value);
    out += name + ': ' + value + '\r\n';
  }
  return out;
}

/**
 * An HTTP/1.1 request head ending with the empty line. With `authority`, a Host field carrying
 * it comes first and any `host` in `headers` is skipped; without, `headers` must hold Host.
 */
export function serializeRequestHead(method: string, target: string, headers: HeaderMap): string;
export function serializeRequestHead(method: string, target: string, authority: string, headers: HeaderMap): string;
export function serializeRequestHead(method: string, target: string, a: string | HeaderMap, b?: HeaderMap): string {
  if (!isToken(method)) throw invalid(`invalid method ${JSON.stringify(method)}`);
  if (target.length === 0) throw invalid('empty request-target');
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c > 0xff || TARGET_CHAR[c] === 0) throw invalid(`invalid character in request-target ${JSON.stringify(target)}`);
  }
  let line = method + ' ' + target + ' HTTP/1.1\r\n';
  if (typeof a !== 'string') return line + serializeFields(a) + '\r\n';
  checkValue('host', a);
  line += 'host: ' + a + '\r\n';
  const l = b!.list;
  const trusted = b!.trusted;
  for (let i = 0; i < l.length; i += 2) {
    const name = l[i]!;
    if (name === 'host') continue;
    const value = l[i + 1]!;
    checkName(name);
    if (value !== trusted) checkValue(name, value);
    line += name + ': ' + value + '\r\n';
  }
  return line + '\r\n';
}

const statusLines11: (string | undefined)[] = [];
const statusLines10: (string | undefined)[] = [];

function statusLine(status: number, reason: string | undefined, versionMinor: 0 | 1): string {
  if (!(Number.isInteger(status) && status >= 100 && status <= 999)) throw invalid(`invalid status ${status}`);
  if (reason === undefined) {
    const cache = versionMinor === 1 ? statusLines11 : statusLines10;
    let line = cache[status];
    if (line === undefined) {
      line = `HTTP/1.${versionMinor} ${status} ${reasonPhrase(status)}\r\n`;
      cache[status] = line;
    }
    return line;
  }
  checkValue('reason-phrase', reason);
  return `HTTP/1.${versionMinor} ${status} ${reason}\r\n`;
}

/** A response head ending with the empty line; `reason` defaults to the standard phrase. */
export function serializeResponseHead(status: number, reason: string | undefined, headers: HeaderMap, versionMinor: 0 | 1 = 1): string {
  return statusLine(status, reason, versionMinor) + serializeFields(headers) + '\r\n';
}

/** `<hex size>\r\n`: what precedes `length` bytes of chunk data (which CRLF must follow). */
export function encodeChunkHeader(length: number): string {
  return length.toString(16) + '\r\n';
}

/**
 * One chunk as buffers to write in order (header, data, CRLF). Empty data gives no buffers: a
 * zero-size chunk would end the body, which is LAST_CHUNK's job.
 */
export function encodeChunk(data: Buffer): Buffer[] {
  if (data.length === 0) return [];
  return [Buffer.from(encodeChunkHeader(data.length), 'latin1'), data, CRLF];
}

/**
 * The end of a chunked body with trailers: last-chunk, the trailer fields, the empty line.
 * Write it instead of LAST_CHUNK (it includes the `0\r\n`).
 */
export function serializeTrailers(trailers: HeaderMap): string {
  return '0\r\n' + serializeFields(trailers) + '\r\n';
}
