/**
 * The four forms of an HTTP/1.1 request-target (RFC 9112 §3.2) reduced to what the connection
 * manager routes on: a path (origin-form, with query) and the authority that replaces Host.
 * Absolute-form is what a client sends to a forward proxy (`HTTP_PROXY=http://sidecar:15001`),
 * so the sidecar's outbound port serves it; only `http://` targets, since the proxy does not
 * originate TLS. Anything else that is not origin-form is refused, never guessed at. Pure.
 */
export type RequestTarget =
  | { readonly kind: 'origin'; readonly path: string }
  /** RFC 9112 §3.2.2: the target's authority replaces the Host header. */
  | { readonly kind: 'absolute'; readonly authority: string; readonly path: string }
  /** `OPTIONS *` (RFC 9112 §3.2.4). */
  | { readonly kind: 'asterisk' }
  | { readonly kind: 'refused'; readonly status: 400 | 405; readonly reason: string };

const SLASH = 0x2f;

export function parseRequestTarget(method: string, target: string): RequestTarget {
  if (method === 'CONNECT') {
    return { kind: 'refused', status: 405, reason: 'CONNECT is not supported: tsmesh does not open tunnels for HTTP/1.1 clients; send http:// requests to the proxy instead' };
  }
  if (target.charCodeAt(0) === SLASH) return { kind: 'origin', path: target };
  if (target === '*') {
    return method === 'OPTIONS' ? { kind: 'asterisk' } : { kind: 'refused', status: 400, reason: `invalid request-target: "*" is only allowed with OPTIONS, not ${method}` };
  }
  const colon = target.indexOf(':');
  const scheme = colon > 0 ? target.slice(0, colon).toLowerCase() : '';
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme) || !target.startsWith('//', colon + 1)) {
    return { kind: 'refused', status: 400, reason: 'invalid request-target: expected a path ("/...") or an absolute http:// URI' };
  }
  if (scheme === 'https') {
    return { kind: 'refused', status: 400, reason: 'https:// targets are not supported: tsmesh does not originate TLS for proxy requests; send http://' };
  }
  if (scheme !== 'http') return { kind: 'refused', status: 400, reason: `unsupported scheme "${scheme}" in the request-target: only http:// is proxied` };
  return absolute(target.slice(colon + 3));
}

/** `rest` is what follows `http://`: authority, then path-abempty and an optional query. */
function absolute(rest: string): RequestTarget {
  let end = 0;
  while (end < rest.length && rest[end] !== '/' && rest[end] !== '?') end++;
  const authority = rest.slice(0, end);
  const bad = authorityProblem(authority);
  if (bad) return { kind: 'refused', status: 400, reason: `invalid absolute URI: ${bad}` };
  const tail = rest.slice(end);
  if (tail.includes('#')) return { kind: 'refused', status: 400, reason: 'invalid absolute URI: a fragment ("#") is not allowed in a request-target' };
  const path = tail === '' ? '/' : tail[0] === '?' ? `/${tail}` : tail;
  return { kind: 'absolute', authority, path };
}

// RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ).
const REG_NAME = /^([A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
const IP_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/;

function authorityProblem(a: string): string | undefined {
  if (a === '') return 'the authority is empty';
  // RFC 9110 §4.2.4: userinfo in an http URI is an error for the recipient.
  if (a.includes('@')) return 'userinfo ("user@") is not allowed in an http URI';
  let host = a;
  const c = a.lastIndexOf(':');
  if (c >= 0 && c > a.lastIndexOf(']')) {
    const port = a.slice(c + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return `bad port ${JSON.stringify(port)}`;
    host = a.slice(0, c);
  }
  if (host === '') return 'the host is empty';
  if (host[0] === '[' ? !IP_LITERAL.test(host) : !REG_NAME.test(host)) return `bad host ${JSON.stringify(host)}`;
  return undefined;
}
