import type { RequestHeaders } from '../../stream.js';
import { pathEndOf } from '../../route/request.js';
import type { CompiledProvider } from './provider.js';

/** Where a provider looks for its JWT. */
export type TokenLocation =
  | { readonly kind: 'header'; readonly name: string; readonly prefix: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string };

/** A JWT found in a request, with the issuers whose providers look there. */
export interface ExtractedToken {
  readonly token: string;
  readonly location: TokenLocation;
  /** The JWT's `iss` must be one of these; undefined: any (a provider without issuer looks here). */
  readonly issuers: ReadonlySet<string> | undefined;
}

/** Envoy's default when a provider names no location: `Authorization: Bearer <jwt>`, then `?access_token=`. */
export const DEFAULT_LOCATIONS: readonly TokenLocation[] = [
  { kind: 'header', name: 'authorization', prefix: 'Bearer ' },
  { kind: 'param', name: 'access_token' },
];

interface Spec { readonly key: string; readonly location: TokenLocation; issuers: Set<string> | undefined }

const KIND_ORDER = { header: 0, param: 1, cookie: 2 } as const;
/** base64url and `.` (RFC 7515): where a JWT after a header's value prefix starts. */
const JWT_CHAR = /[A-Za-z0-9._-]/g;

/**
 * The locations of a set of providers, merged as Envoy's ExtractorImpl merges them (a location
 * used by several providers accepts their issuers) and looked at in its order: headers, then
 * query parameters, then cookies, each by name. Built once per config.
 */
export class Extractor {
  readonly #specs: Spec[];
  /** Headers a verified JWT may set (forward_payload_header, claim_to_headers): removed from requests first. */
  readonly sanitize: readonly string[];

  constructor(providers: readonly CompiledProvider[]) {
    const byKey = new Map<string, Spec>();
    const sanitize = new Set<string>();
    for (const p of providers) {
      for (const l of p.locations) {
        const key = l.kind === 'header' ? l.name + l.prefix : l.name;
        const mapKey = `${l.kind}|${key}`;
        let s = byKey.get(mapKey);
        if (!s) { s = { key, location: l, issuers: new Set() }; byKey.set(mapKey, s); }
        if (!p.issuer) s.issuers = undefined;
        else s.issuers?.add(p.issuer);
      }
      if (p.forwardPayloadHeader) sanitize.add(p.forwardPayloadHeader);
      for (const [h] of p.claimToHeaders) sanitize.add(h);
    }
    this.#specs = [...byKey.values()].sort((a, b) => KIND_ORDER[a.location.kind] - KIND_ORDER[b.location.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.sanitize = [...sanitize];
  }

  /** Every JWT the request carries in these locations: each value of a header, the first of a query parameter or cookie. */
  extract(req: RequestHeaders): ExtractedToken[] {
    const out: ExtractedToken[] = [];
    let query: URLSearchParams | undefined;
    let cookies: Map<string, string> | undefined;
    for (const s of this.#specs) {
      const l = s.location;
      if (l.kind === 'header') {
        for (const v of req.headers.getAll(l.name)) {
          const t = fromHeaderValue(v, l.prefix);
          if (t !== undefined) out.push({ token: t, location: l, issuers: s.issuers });
        }
      } else if (l.kind === 'param') {
        const end = pathEndOf(req.path);
        if (end === req.path.length) continue;
        query ??= new URLSearchParams(req.path.slice(end + 1).split('#')[0]);
        const v = query.get(l.name);
        if (v !== null) out.push({ token: v, location: l, issuers: s.issuers });
      } else {
        cookies ??= parseCookies(req);
        const v = cookies.get(l.name);
        if (v !== undefined) out.push({ token: v, location: l, issuers: s.issuers });
      }
    }
    return out;
  }
}

/** name → value of the request's cookies, the first of each name. */
function parseCookies(req: RequestHeaders): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of req.headers.getAll('cookie')) {
    for (const pair of c.split(';')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const k = pair.slice(0, eq).trim();
      if (!m.has(k)) m.set(k, pair.slice(eq + 1).trim());
    }
  }
  return m;
}

/**
 * The JWT in a header value (Envoy's extractJWT): the whole value without a prefix; with one,
 * nothing unless the prefix occurs, else the rest of the value from the first base64url or `.`
 * character after it (the whole value when there is none). The JWT's syntax is checked later.
 */
function fromHeaderValue(v: string, prefix: string): string | undefined {
  if (!prefix) return v;
  const at = v.indexOf(prefix);
  if (at < 0) return undefined;
  JWT_CHAR.lastIndex = at + prefix.length;
  const m = JWT_CHAR.exec(v);
  return m ? v.slice(m.index) : v;
}

/** Removes a verified JWT from the request when its provider does not forward it (header locations; Envoy leaves query parameters). */
export function removeToken(req: RequestHeaders, t: ExtractedToken): void {
  if (t.location.kind === 'header') req.headers.remove(t.location.name);
}
