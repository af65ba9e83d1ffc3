/**
 * The HPACK static table (RFC 7541 Appendix A), indices 1-61, and the lookups the encoder
 * needs: exact (name, value) matches and the first index of a name.
 */

export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

export const STATIC_TABLE_LENGTH = STATIC_TABLE.length; // 61

/** Static names (index i+1 holds STATIC_NAMES[i]), for the decoder. */
export const STATIC_NAMES: readonly string[] = STATIC_TABLE.map((e) => e[0]);
export const STATIC_VALUES: readonly string[] = STATIC_TABLE.map((e) => e[1]);

/** name -> lowest static index with that name. */
export const STATIC_NAME_INDEX = new Map<string, number>();
/** name -> (value -> static index), only for entries that have a value. */
export const STATIC_EXACT_INDEX = new Map<string, Map<string, number>>();

STATIC_TABLE.forEach(([name, value], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
  if (value === '') return;
  let m = STATIC_EXACT_INDEX.get(name);
  if (!m) STATIC_EXACT_INDEX.set(name, (m = new Map()));
  m.set(value, i + 1);
});

/** Static index of `:status` with this code, or 0 when the table has none. */
export function staticStatusIndex(status: number): number {
  switch (status) {
    case 200: return 8;
    case 204: return 9;
    case 206: return 10;
    case 304: return 11;
    case 400: return 12;
    case 404: return 13;
    case 500: return 14;
    default: return 0;
  }
}
