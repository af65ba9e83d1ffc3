/**
 * HTTP/2 message rules for decoded field lists (RFC 9113 §8.1-8.3): pseudo-header fields
 * first, each once, only the ones defined for requests or responses; no connection-specific
 * fields; `te` only as "trailers"; a Content-Length that parses. Bytes of names and values are
 * checked by the HPACK decoder (field-chars.ts). A list breaking any rule is a malformed
 * message: the caller resets the stream with PROTOCOL_ERROR (§8.1.1) and never forwards it.
 *
 * Each check returns the parsed message, or a string saying what is wrong.
 */
import { NAME_CHAR } from './field-chars.js';

export interface H2RequestHead {
  method: string;
  /** Empty for CONNECT. */
  scheme: string;
  /** :authority, else the Host field, else empty. */
  authority: string;
  /** Empty for CONNECT. */
  path: string;
  /** Regular fields, [name, value, ...] in order (pseudo-header fields removed). */
  fields: string[];
  /** -1 when absent. */
  contentLength: number;
}

export interface H2ResponseHead {
  status: number;
  fields: string[];
  contentLength: number;
}

/** §8.2.2: fields that only mean something to one HTTP/1.1 hop. */
function connectionSpecific(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'proxy-connection':
    case 'keep-alive':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
    default:
      return false;
  }
}

/** 1*DIGIT as a number (no sign, no list); -1 when not that or too large. */
export function parseContentLength(v: string): number {
  const n = v.length;
  if (n === 0 || n > 15) return -1;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x;
}

const SCHEME_CHAR = new Uint8Array(256);
const PATH_CHAR = new Uint8Array(256);
const AUTHORITY_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const digit = c >= 0x30 && c <= 0x39;
  SCHEME_CHAR[c] = alpha || digit || c === 0x2b || c === 0x2d || c === 0x2e ? 1 : 0;
  // A request-target can hold any VCHAR or obs-text, never SP, CTL or DEL (it becomes an
  // HTTP/1.1 request line upstream).
  PATH_CHAR[c] = (c >= 0x21 && c <= 0x7e) || c >= 0x80 ? 1 : 0;
  // RFC 3986 authority: unreserved / pct-encoded / sub-delims / ":" / "@" / "[" / "]".
  AUTHORITY_CHAR[c] = alpha || digit || "-._~%!$&'()*+,;=:@[]".includes(String.fromCharCode(c)) ? 1 : 0;
}

function allIn(table: Uint8Array, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || table[c] === 0) return false;
  }
  return true;
}

/** A method is a token (RFC 9110 §9.1), any case. */
function validMethod(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c > 0xff || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

const COLON = 58;

/** A request's header section (§8.3.1): list[0, n). */
export function checkRequest(list: readonly string[], n = list.length): H2RequestHead | string {
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let host: string | undefined;
  let contentLength = -1;
  let i = 0;
  for (; i < n; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) !== COLON) break;
    const value = list[i + 1]!;
    switch (name) {
      case ':method':
        if (method !== undefined) return 'duplicate :method';
        method = value;
        break;
      case ':scheme':
        if (scheme !== undefined) return 'duplicate :scheme';
        scheme = value;
        break;
      case ':authority':
        if (authority !== undefined) return 'duplicate :authority';
        authority = value;
        break;
      case ':path':
        if (path !== undefined) return 'duplicate :path';
        path = value;
        break;
      default:
        return `pseudo-header ${name} is not allowed in a request`;
    }
  }
  const start = i;
  for (; i < n; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) === COLON) return `pseudo-header ${name} after regular fields`;
    if (connectionSpecific(name)) return `connection-specific field ${name}`;
    const value = list[i + 1]!;
    if (name === 'te') {
      if (value !== 'trailers') return `te: ${value}`;
    } else if (name === 'content-length') {
      const cl = parseContentLength(value);
      if (cl < 0) return 'bad content-length';
      if (contentLength >= 0 && cl !== contentLength) return 'differing content-length values';
      contentLength = cl;
    } else if (name === 'host') {
      if (host !== undefined) return 'several host fields';
      host = value;
    }
  }
  if (method === undefined) return 'no :method';
  if (!validMethod(method)) return 'bad :method';
  if (authority !== undefined && (authority.length === 0 || !allIn(AUTHORITY_CHAR, authority))) return 'bad :authority';
  if (authority !== undefined && host !== undefined && host !== authority) return 'host differs from :authority';
  if (method === 'CONNECT') {
    if (scheme !== undefined || path !== undefined) return 'CONNECT with :scheme or :path';
    if (authority === undefined) return 'CONNECT without :authority';
  } else {
    if (scheme === undefined) return 'no :scheme';
    if (path === undefined) return 'no :path';
    if (scheme.length === 0 || !allIn(SCHEME_CHAR, scheme)) return 'bad :scheme';
    if (path.length === 0 || !allIn(PATH_CHAR, path)) return 'bad :path';
    if (path.charCodeAt(0) !== 0x2f && !(path === '*' && method === 'OPTIONS')) return 'bad :path';
  }
  return {
    method,
    scheme: scheme ?? '',
    authority: authority ?? host ?? '',
    path: path ?? '',
    fields: list.slice(start, n),
    contentLength,
  };
}

/** A response's header section (§8.3.2), list[0, n); 1xx included (the caller skips interim ones). */
export function checkResponse(list: readonly string[], n = list.length): H2ResponseHead | string {
  let status = -1;
  let contentLength = -1;
  let i = 0;
  for (; i < n; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) !== COLON) break;
    if (name !== ':status') return `pseudo-header ${name} is not allowed in a response`;
    if (status >= 0) return 'duplicate :status';
    const v = list[i + 1]!;
    status = v.length === 3 ? parseContentLength(v) : -1;
    if (status < 100) return 'bad :status';
  }
  if (status < 0) return 'no :status';
  if (status === 101) return '101 is not allowed in HTTP/2';
  const start = i;
  for (; i < n; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) === COLON) return `pseudo-header ${name} after regular fields`;
    if (connectionSpecific(name) || name === 'te') return `connection-specific field ${name}`;
    if (name === 'content-length') {
      const cl = parseContentLength(list[i + 1]!);
      if (cl < 0) return 'bad content-length';
      if (contentLength >= 0 && cl !== contentLength) return 'differing content-length values';
      contentLength = cl;
    }
  }
  return { status, fields: list.slice(start, n), contentLength };
}

/** A trailer section, list[0, n): regular fields only. */
export function checkTrailers(list: readonly string[], n = list.length): string | undefined {
  for (let i = 0; i < n; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) === COLON) return `pseudo-header ${name} in trailers`;
    if (connectionSpecific(name) || name === 'te') return `connection-specific field ${name} in trailers`;
  }
  return undefined;
}
