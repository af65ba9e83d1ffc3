import { HeaderMap } from '../headers.js';

/**
 * A request's regular fields as the router sees them: the Host field dropped (the authority
 * is a field of its own) and `cookie` fields joined with "; " (RFC 9113 §8.2.3: HTTP/2 may
 * split them, HTTP/1.1 must get one). Takes ownership of `fields`.
 */
export function requestHeaderMap(fields: string[]): HeaderMap {
  let special = 0;
  for (let i = 0; i < fields.length; i += 2) {
    const n = fields[i]!;
    if (n === 'host' || n === 'cookie') special++;
  }
  if (special === 0) return new HeaderMap(fields);
  const out: string[] = [];
  let cookieAt = -1;
  for (let i = 0; i < fields.length; i += 2) {
    const n = fields[i]!;
    if (n === 'host') continue;
    if (n === 'cookie') {
      if (cookieAt >= 0) { out[cookieAt] += `; ${fields[i + 1]!}`; continue; }
      cookieAt = out.length + 1;
    }
    out.push(n, fields[i + 1]!);
  }
  return new HeaderMap(out);
}
