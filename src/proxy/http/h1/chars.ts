/**
 * Byte classes and string interning for the HTTP/1.1 parser. Everything here is a lookup table
 * built once, so the hot loops are one indexed load per byte.
 */

export const HT = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const COLON = 0x3a;

/** tchar (RFC 9110 §5.6.2) -> the byte lower-cased; 0 for any other byte. */
export const TOKEN_LOWER = new Uint8Array(256);
/** field-vchar / SP / HTAB (RFC 9110 §5.5): 1 when allowed in a field value, else 0. */
export const FIELD_CHAR = new Uint8Array(256);
/** Bytes allowed in a request-target: VCHAR and obs-text; never SP, CTL or DEL. */
export const TARGET_CHAR = new Uint8Array(256);
/** Hex digit value, or -1. */
export const HEX = new Int8Array(256).fill(-1);
/** The lowercase hex digits as bytes, by value (ids and UUIDs are written with them). */
export const HEX_DIGITS: Buffer = Buffer.from('0123456789abcdef', 'latin1');

for (let c = 0; c < 256; c++) {
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const digit = c >= 0x30 && c <= 0x39;
  if (alpha || digit || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) {
    TOKEN_LOWER[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  const vchar = (c >= 0x21 && c <= 0x7e) || c >= 0x80;
  FIELD_CHAR[c] = vchar || c === SP || c === HT ? 1 : 0;
  TARGET_CHAR[c] = vchar ? 1 : 0;
  if (digit) HEX[c] = c - 0x30;
  else if (c >= 0x61 && c <= 0x66) HEX[c] = c - 0x61 + 10;
  else if (c >= 0x41 && c <= 0x46) HEX[c] = c - 0x41 + 10;
}

/**
 * Header names the parser hands out as shared constant strings instead of slicing the input.
 * The first six have framing meaning; their ids are the NAME_* constants below.
 */
const KNOWN_NAMES = [
  'host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect',
  'user-agent', 'accept', 'accept-encoding', 'accept-language', 'accept-charset', 'accept-ranges',
  'content-type', 'content-encoding', 'content-language', 'content-range', 'content-disposition',
  'cookie', 'set-cookie', 'authorization', 'proxy-authorization', 'cache-control', 'pragma',
  'date', 'server', 'referer', 'origin', 'via', 'vary', 'age', 'etag', 'expires', 'location',
  'last-modified', 'if-modified-since', 'if-none-match', 'if-match', 'range', 'keep-alive',
  'proxy-connection', 'te', 'trailer', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto',
  'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'x-request-id', 'traceparent',
  'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled',
  'x-b3-flags', 'x-envoy-upstream-service-time', 'x-envoy-expected-rq-timeout-ms',
  'x-envoy-attempt-count', 'x-envoy-original-path', 'sec-websocket-key', 'sec-websocket-version',
  'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions',
  'access-control-allow-origin', 'strict-transport-security', 'x-content-type-options',
  'x-frame-options', 'www-authenticate', 'alt-svc', 'grpc-status', 'grpc-message', 'dnt',
  'upgrade-insecure-requests', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest',
  'x-requested-with', 'priority',
] as const;

export const NAME_HOST = 0;
export const NAME_CONTENT_LENGTH = 1;
export const NAME_TRANSFER_ENCODING = 2;
export const NAME_CONNECTION = 3;
export const NAME_UPGRADE = 4;
export const NAME_EXPECT = 5;
/** Ids below this have framing meaning. */
export const NAME_SPECIAL_LIMIT = 6;

/**
 * Hash of a (validated, non-empty) header name in buf[s, e): its length and three of its
 * bytes lower-cased. Cheap on purpose: it only picks the probe start; knownNameId compares
 * every byte before it trusts a match.
 */
function nameHash(buf: Uint8Array, s: number, e: number): number {
  const len = e - s;
  return (len * 0x9e5 + TOKEN_LOWER[buf[s]!]! * 0x3b + TOKEN_LOWER[buf[s + (len >> 1)]!]! * 7 + TOKEN_LOWER[buf[e - 1]!]!) | 0;
}

const SLOTS = 512; // power of two, several times the number of names: probes stay short
const slotId = new Int16Array(SLOTS).fill(-1);
const knownBytes: Uint8Array[] = [];
export const KNOWN_NAME_STRINGS: readonly string[] = KNOWN_NAMES;

function slotOf(h: number): number {
  return (h ^ (h >>> 9)) & (SLOTS - 1);
}

for (let id = 0; id < KNOWN_NAMES.length; id++) {
  const bytes = Buffer.from(KNOWN_NAMES[id]!, 'latin1');
  knownBytes.push(bytes);
  let s = slotOf(nameHash(bytes, 0, bytes.length));
  while (slotId[s] !== -1) s = (s + 1) & (SLOTS - 1);
  slotId[s] = id;
}

/**
 * Id of the known header name in buf[s, e) (a non-empty token), compared case-insensitively
 * byte by byte, so a hash collision can never make a name look like Content-Length; or -1.
 */
export function knownNameId(buf: Uint8Array, s: number, e: number): number {
  const len = e - s;
  let slot = slotOf(nameHash(buf, s, e));
  for (;;) {
    const id = slotId[slot]!;
    if (id === -1) return -1;
    const k = knownBytes[id]!;
    if (k.length === len) {
      let i = 0;
      while (i < len && TOKEN_LOWER[buf[s + i]!] === k[i]) i++;
      if (i === len) return id;
    }
    slot = (slot + 1) & (SLOTS - 1);
  }
}

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/**
 * buf[s, e) as a latin1 string (one byte = one char, so obs-text survives a round trip).
 * Buffer#latin1Slice skips the argument juggling of toString(); it exists on every Node Buffer.
 */
export function latin1(buf: Buffer, s: number, e: number): string {
  return (buf as unknown as Latin1Slicer).latin1Slice(s, e);
}

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
const METHOD_BYTES = METHODS.map((m) => Buffer.from(m, 'latin1'));

/** The method in buf[s, e) (already validated as a token), as a shared string when common. */
export function internMethod(buf: Buffer, s: number, e: number): string {
  const len = e - s;
  const first = buf[s];
  for (let m = 0; m < METHOD_BYTES.length; m++) {
    const k = METHOD_BYTES[m]!;
    if (k.length !== len || k[0] !== first) continue;
    let i = 1;
    while (i < len && buf[s + i] === k[i]) i++;
    if (i === len) return METHODS[m]!;
  }
  return latin1(buf, s, e);
}

/** ASCII case-insensitive equality of `s` with a lower-case literal. */
export function equalsLower(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
