/**
 * Cookie handling for the cookie hash policy, as Envoy's Http::Utility does it: reading one
 * cookie from the Cookie headers, and the value and Set-Cookie line of a generated cookie.
 */
import type { HeaderMap } from '../../http/headers.js';
import { HASH_OUT, xxh64StringParts } from './xxhash64.js';

/** A cookie attribute of the cookie hash policy (RouteAction.HashPolicy.CookieAttribute). */
export interface CookieAttribute {
  readonly name: string;
  readonly value: string;
}

/**
 * Envoy's `Utility::parseCookieValue`: the first cookie named `name` across all Cookie headers,
 * with surrounding double quotes removed (RFC 6265 §4.1.1); '' when absent. Pairs are split on ';',
 * leading spaces of a name ignored, pairs without '=' skipped.
 */
export function parseCookieValue(headers: HeaderMap, name: string): string {
  const list = headers.list;
  for (let h = 0; h < list.length; h += 2) {
    if (list[h] !== 'cookie') continue;
    const v = list[h + 1]!;
    let start = 0;
    while (start < v.length) {
      let end = v.indexOf(';', start);
      if (end < 0) end = v.length;
      const eq = v.indexOf('=', start);
      if (eq >= 0 && eq < end) {
        let k = start;
        while (v.charCodeAt(k) === 0x20) k++;
        if (eq - k === name.length && v.startsWith(name, k)) {
          let vs = eq + 1, ve = end;
          if (ve - vs >= 2 && v.charCodeAt(vs) === 0x22 && v.charCodeAt(ve - 1) === 0x22) { vs++; ve--; }
          return v.slice(vs, ve);
        }
      }
      start = end + 1;
    }
  }
  return '';
}

/**
 * The value Envoy gives a generated hash cookie: hex of xxHash64(remote + local address), each as
 * `Address::asString()` (`ip:port`, `[ipv6]:port`). Stable per downstream connection, so requests
 * racing on one connection get the same cookie.
 */
export function generateCookieValue(remoteAddress: string, localAddress: string): string {
  xxh64StringParts(remoteAddress + localAddress);
  return HASH_OUT[0]!.toString(16).padStart(8, '0') + HASH_OUT[1]!.toString(16).padStart(8, '0');
}

/** Envoy's `Utility::makeSetCookieValue`: `name="value"; Max-Age=N; Path=P; attrs...; HttpOnly`. */
export function makeSetCookieValue(name: string, value: string, path: string, maxAgeSeconds: number, httpOnly: boolean, attributes: readonly CookieAttribute[] = []): string {
  let out = `${name}="${value}"`;
  if (maxAgeSeconds !== 0) out += `; Max-Age=${maxAgeSeconds}`;
  if (path) out += `; Path=${path}`;
  for (const a of attributes) out += a.value ? `; ${a.name}=${a.value}` : `; ${a.name}`;
  if (httpOnly) out += '; HttpOnly';
  return out;
}
