/** Reading a request path's query string, shared by route matching and hash policies. */

/**
 * The first value of query parameter `name` in `path` (everything after the first `?`, split
 * on `&`; a parameter without `=` has the value ''), percent-decoded, as Envoy's
 * `QueryParamsMulti::parseQueryString`; with `decode` false, name and value are taken raw (as
 * the hash policy does). Allocates only for the value found.
 */
export function firstQueryValue(path: string, name: string, decode = true): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  let start = q + 1;
  while (start < path.length) {
    let end = path.indexOf('&', start);
    if (end < 0) end = path.length;
    let eq = path.indexOf('=', start);
    if (eq < 0 || eq > end) eq = -1;
    const nameEnd = eq < 0 ? end : eq;
    const found = decode ? nameIs(path, start, nameEnd, name) : nameEnd - start === name.length && path.startsWith(name, start);
    if (found) {
      if (eq < 0) return '';
      const raw = path.slice(eq + 1, end);
      return decode ? percentDecode(raw) : raw;
    }
    start = end + 1;
  }
  return undefined;
}

function nameIs(path: string, start: number, end: number, name: string): boolean {
  const raw = end - start;
  if (raw === name.length && path.startsWith(name, start)) return true;
  // An encoded name is longer than its decoding; only then is decoding worth it.
  if (raw <= name.length) return false;
  const region = path.slice(start, end);
  return region.includes('%') && percentDecode(region) === name;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * `%XX` → byte, anything else kept (Envoy's `PercentEncoding::decode`); the bytes are read as
 * UTF-8 so that they compare with config strings.
 */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length) {
      const hi = hex(s.charCodeAt(i + 1));
      const lo = hex(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) { bytes.push(hi * 16 + lo); i += 2; continue; }
    }
    if (c < 0x80) { bytes.push(c); continue; }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}
