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

interface Spec { readonly location: TokenLocation; issuers: Set<string> | undefined }

const JWT_CHARS = /[A-Za-z0-9._\-=+/]+/y;

/**
 * The locations of a set of providers, merged as Envoy's ExtractorImpl merges them (a location
 * used by several providers accepts their issuers). Built once per config.
 */
export class Extractor {
  readonly #specs: Spec[] = [];
  /** Headers a verified JWT may set (forward_payload_header, claim_to_headers): removed from requests first. */
  readonly sanitize: readonly string[];

  constructor(providers: readonly CompiledProvider[]) {
    const byKey = new Map<string, Spec>();
    const sanitize = new Set<string>();
    for (const p of providers) {
      for (const l of p.locations) {
        const key = l.kind === 'header' ? `h|${l.name}|${l.prefix}` : `${l.kind}|${l.name}`;
        let s = byKey.get(key);
        if (!s) { s = { location: l, issuers: new Set() }; byKey.set(key, s); this.#specs.push(s); }
        if (!p.issuer) s.issuers = undefined;
        else s.issuers?.add(p.issuer);
      }
      if (p.forwardPayloadHeader) sanitize.add(p.forwardPayloadHeader);
      for (const [h] of p.claimToHeaders) sanitize.add(h);
    }
    this.sanitize = [...sanitize];
  }

  /** Every JWT the request carries in these locations (header values, query parameters, cookies). */
  extract(req: RequestHeaders): ExtractedToken[] {
    const out: ExtractedToken[] = [];
    let query: URLSearchParams | undefined;
    for (const s of this.#specs) {
      const l = s.location;
      if (l.kind === 'header') {
        for (const v of req.headers.getAll(l.name)) {
          const t = fromHeaderValue(v, l.prefix);
          if (t) out.push({ token: t, location: l, issuers: s.issuers });
        }
      } else if (l.kind === 'param') {
        const end = pathEndOf(req.path);
        if (end === req.path.length) continue;
        query ??= new URLSearchParams(req.path.slice(end + 1).split('#')[0]);
        for (const v of query.getAll(l.name)) if (v) out.push({ token: v, location: l, issuers: s.issuers });
      } else {
        for (const c of req.headers.getAll('cookie')) {
          for (const pair of c.split(';')) {
            const eq = pair.indexOf('=');
            if (eq > 0 && pair.slice(0, eq).trim() === l.name) {
              const v = pair.slice(eq + 1).trim();
              if (v) out.push({ token: v, location: l, issuers: s.issuers });
            }
          }
        }
      }
    }
    return out;
  }
}

/**
 * The JWT in a header value: the whole value without a prefix; with one, the run of JWT
 * characters right after the prefix's first occurrence (Envoy's extractJWT).
 */
function fromHeaderValue(v: string, prefix: string): string | undefined {
  if (!prefix) return v || undefined;
  const at = v.indexOf(prefix);
  if (at < 0) return undefined;
  JWT_CHARS.lastIndex = at + prefix.length;
  const m = JWT_CHARS.exec(v);
  return m ? m[0] : undefined;
}

/** Removes a verified JWT from the request when its provider does not forward it (header locations; Envoy leaves query parameters). */
export function removeToken(req: RequestHeaders, t: ExtractedToken): void {
  if (t.location.kind === 'header') req.headers.remove(t.location.name);
}
