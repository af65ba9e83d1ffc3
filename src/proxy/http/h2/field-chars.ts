/**
 * Which bytes HTTP/2 field names and values may hold (RFC 9113 §8.2.1, plus RFC 9110's token
 * and field-value grammar, which a proxy in front of HTTP/1.1 servers must hold requests to).
 * Lookup tables, one load per byte.
 */

/** tchar (RFC 9110 §5.6.2) that is not an upper-case letter: 1 when allowed in a name. */
export const NAME_CHAR = new Uint8Array(256);
/** field-vchar, SP, HTAB (RFC 9110 §5.5): 1 when allowed in a value. No CTL, no DEL. */
export const VALUE_CHAR = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  const lower = c >= 0x61 && c <= 0x7a;
  const digit = c >= 0x30 && c <= 0x39;
  if (lower || digit || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) NAME_CHAR[c] = 1;
  VALUE_CHAR[c] = (c >= 0x20 && c <= 0x7e) || c >= 0x80 || c === 0x09 ? 1 : 0;
}

const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** Whether buf[s, e) is a valid field name: a lower-case token, or ':' and one (pseudo-header). */
export function validNameBytes(buf: Uint8Array, s: number, e: number): boolean {
  if (s >= e) return false;
  let i = s;
  if (buf[i] === COLON) { i++; if (i === e) return false; }
  for (; i < e; i++) if (NAME_CHAR[buf[i]!] === 0) return false;
  return true;
}

/** Whether buf[s, e) is a valid field value: allowed bytes, no whitespace at either end. */
export function validValueBytes(buf: Uint8Array, s: number, e: number): boolean {
  if (s === e) return true;
  const first = buf[s]!;
  const last = buf[e - 1]!;
  if (first === SP || first === HTAB || last === SP || last === HTAB) return false;
  for (let i = s; i < e; i++) if (VALUE_CHAR[buf[i]!] === 0) return false;
  return true;
}

/** Same as validNameBytes, for a string (latin1). */
export function validName(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let i = 0;
  if (s.charCodeAt(0) === COLON) { i++; if (n === 1) return false; }
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/** Same as validValueBytes, for a string (latin1). */
export function validValue(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(n - 1);
  if (first === SP || first === HTAB || last === SP || last === HTAB) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || VALUE_CHAR[c] === 0) return false;
  }
  return true;
}
