import type { JsonObject } from '@bufbuild/protobuf';
import type { JwtRequirement } from '../../../../envoy/generated/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { ConfigError } from '../../../../envoy/registry.js';
import type { RequestHeaders } from '../../stream.js';
import { AudienceCheck } from './audience.js';
import { Extractor, removeToken, type ExtractedToken } from './extractor.js';
import type { Jwks } from './jwks.js';
import { checkTime, parseJwt, type Jwt } from './jwt.js';
import type { CompiledProvider } from './provider.js';
import { JwtStatus } from './status.js';
import { verifySignature } from './verify.js';

/** Thrown by VerifyContext.keys when a remote JWKS must be fetched first; the filter fetches and verifies again. */
export class NeedKeys {
  constructor(readonly provider: CompiledProvider) {}
}

/**
 * One verification of one request. Header changes and payloads are collected and applied only
 * when the whole requirement passes, so a verification stopped for a JWKS fetch can simply run
 * again from the start.
 */
export interface VerifyContext {
  readonly req: RequestHeaders;
  /** Seconds since the epoch. */
  readonly nowS: number;
  /** The provider's keys (or why there are none); throws NeedKeys when they must be fetched first. */
  keys(p: CompiledProvider): Jwks | JwtStatus;
  /** Request header changes of verified JWTs, in order. */
  readonly headerOps: ((req: RequestHeaders) => void)[];
  /** [metadata key, struct] of verified JWTs (payload_in_metadata, header_in_metadata). */
  readonly payloads: [string, JsonObject][];
  /** Set when a verified JWT's provider has clear_route_cache. */
  clearRouteCache: boolean;
  /** The thread's cache of verified JWTs of a provider with jwt_cache_config (undefined: none). */
  jwtCache(p: CompiledProvider): JwtCache | undefined;
}

/**
 * Verified JWTs by their compact form, oldest evicted first. A hit skips parsing and the
 * signature; issuer, time and audience are still checked on every request, as in Envoy.
 */
export class JwtCache {
  readonly #m = new Map<string, Jwt>();
  constructor(readonly size: number, readonly stats: { readonly jwt_cache_hit: { inc(): void }; readonly jwt_cache_miss: { inc(): void } }) {}
  get(token: string): Jwt | undefined {
    const j = this.#m.get(token);
    (j ? this.stats.jwt_cache_hit : this.stats.jwt_cache_miss).inc();
    return j;
  }
  set(token: string, jwt: Jwt): void {
    if (this.#m.size >= this.size) this.#m.delete(this.#m.keys().next().value!);
    this.#m.set(token, jwt);
  }
}

/** A compiled JwtRequirement. */
export type Verifier = (ctx: VerifyContext) => JwtStatus;

interface AuthOptions {
  readonly extractor: Extractor;
  /** The one provider the JWTs are for; undefined: the provider is found by the JWT's issuer. */
  readonly provider: CompiledProvider | undefined;
  readonly audiences: AudienceCheck | undefined;
  readonly allowFailed: boolean;
  readonly allowMissing: boolean;
  readonly all: readonly CompiledProvider[];
}

/**
 * Envoy's Authenticator: every JWT found must verify (unless failures are allowed), checked in
 * Envoy's order: format, issuer, time, audience, then the signature.
 */
function authenticate(ctx: VerifyContext, o: AuthOptions): JwtStatus {
  for (const h of o.extractor.sanitize) ctx.headerOps.push((r) => { r.headers.remove(h); });
  const tokens = o.extractor.extract(ctx.req);
  let status: JwtStatus = JwtStatus.JwtMissed;
  for (let i = tokens.length - 1; i >= 0; i--) {
    status = verifyToken(ctx, tokens[i]!, o);
    if (status !== JwtStatus.Ok && !o.allowFailed && !o.allowMissing) break;
  }
  if (o.allowFailed) return JwtStatus.Ok;
  if (o.allowMissing && status === JwtStatus.JwtMissed) return JwtStatus.Ok;
  return status;
}

function verifyToken(ctx: VerifyContext, t: ExtractedToken, o: AuthOptions): JwtStatus {
  // Envoy looks in the cache only when the provider is known up front (provider_name).
  const cache = o.provider ? ctx.jwtCache(o.provider) : undefined;
  const cached = cache?.get(t.token);
  const jwt = cached ?? parseJwt(t.token);
  if (typeof jwt === 'string') return jwt;
  if (t.issuers && !t.issuers.has(jwt.iss)) return JwtStatus.JwtUnknownIssuer;
  const p = o.provider ?? byIssuer(o.all, jwt.iss);
  if (!p) return JwtStatus.JwtUnknownIssuer;
  const time = checkTime(jwt, ctx.nowS, p.clockSkewS);
  if (time !== JwtStatus.Ok) return time;
  if (!(o.audiences ?? p.audiences).allows(jwt.audiences)) return JwtStatus.JwtAudienceNotAllowed;
  if (!cached) {
    const keys = ctx.keys(p);
    if (typeof keys === 'string') return keys;
    const sig = verifySignature(jwt, keys);
    if (sig !== JwtStatus.Ok) return sig;
    cache?.set(t.token, jwt);
  }
  accept(ctx, t, jwt, p);
  return JwtStatus.Ok;
}

/** Envoy's findByIssuer: the first provider with that issuer, else the first without one. */
function byIssuer(all: readonly CompiledProvider[], iss: string): CompiledProvider | undefined {
  return all.find((p) => p.issuer === iss) ?? all.find((p) => p.issuer === '');
}

/** A verified JWT: forward its payload and claims as configured, drop it unless forwarded, record it for metadata. */
function accept(ctx: VerifyContext, t: ExtractedToken, jwt: Jwt, p: CompiledProvider): void {
  if (p.forwardPayloadHeader) {
    const v = p.padForwardPayloadHeader ? pad(jwt.payloadB64) : jwt.payloadB64;
    const h = p.forwardPayloadHeader;
    ctx.headerOps.push((r) => r.headers.add(h, v));
  }
  for (const [header, claim] of p.claimToHeaders) {
    const v = claimString(jwt.payload, claim);
    if (v) ctx.headerOps.push((r) => r.headers.add(header, v));
  }
  if (!p.forward) ctx.headerOps.push((r) => removeToken(r, t));
  if (p.headerInMetadata) ctx.payloads.push([p.headerInMetadata, jwt.header]);
  if (p.payloadInMetadata) ctx.payloads.push([p.payloadInMetadata, normalized(jwt.payload, p.spaceDelimitedClaims)]);
  if (p.clearRouteCache) ctx.clearRouteCache = true;
}

/** normalize_payload_in_metadata: each listed claim holding a string becomes the list of its space-separated words. */
function normalized(payload: JsonObject, claims: readonly string[]): JsonObject {
  if (claims.length === 0) return payload;
  let out: JsonObject | undefined;
  for (const c of claims) {
    const v = payload[c];
    if (typeof v !== 'string') continue;
    out ??= { ...payload };
    out[c] = v.split(' ').filter((w) => w !== '');
  }
  return out ?? payload;
}

function pad(b64: string): string {
  return b64 + '='.repeat((4 - (b64.length % 4)) % 4);
}

/** A claim as a header value: strings as they are, whole numbers without a fraction, booleans; other kinds are skipped (Envoy). Dotted names walk nested claims. */
function claimString(payload: JsonObject, name: string): string | undefined {
  let v: unknown = payload[name];
  if (v === undefined && name.includes('.')) {
    v = payload;
    for (const k of name.split('.')) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject)[k] : undefined;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? String(v) : v.toFixed(6);
  return undefined;
}

/**
 * Compiles a JwtRequirement into Envoy's verifier tree. `requires_any` runs its requirements in
 * order and passes on the first that passes; `allow_missing` / `allow_missing_or_failed` in it
 * come last and look for the JWTs of the providers named beside them.
 */
export function compileRequirement(r: JwtRequirement | undefined, providers: ReadonlyMap<string, CompiledProvider>, path: string, siblings: readonly string[] = []): Verifier {
  const all = [...providers.values()];
  const provider = (name: string, p: string): CompiledProvider => {
    const found = providers.get(name);
    if (!found) throw new ConfigError(p, `Required provider ['${name}'] is not configured.`);
    return found;
  };
  const t = r?.requiresType;
  switch (t?.case) {
    case undefined:
      return () => JwtStatus.Ok;
    case 'providerName': {
      const p = provider(t.value, `${path}.provider_name`);
      const o: AuthOptions = { extractor: new Extractor([p]), provider: p, audiences: undefined, allowFailed: false, allowMissing: false, all };
      return (ctx) => authenticate(ctx, o);
    }
    case 'providerAndAudiences': {
      const p = provider(t.value.providerName, `${path}.provider_and_audiences.provider_name`);
      const o: AuthOptions = { extractor: new Extractor([p]), provider: p, audiences: new AudienceCheck(t.value.audiences), allowFailed: false, allowMissing: false, all };
      return (ctx) => authenticate(ctx, o);
    }
    case 'allowMissing':
    case 'allowMissingOrFailed': {
      const ps = siblings.map((n) => provider(n, path));
      const o: AuthOptions = { extractor: new Extractor(ps), provider: undefined, audiences: undefined, allowFailed: t.case === 'allowMissingOrFailed', allowMissing: true, all };
      return (ctx) => authenticate(ctx, o);
    }
    case 'requiresAll': {
      const reqs = t.value.requirements;
      if (reqs.length < 2) throw new ConfigError(`${path}.requires_all.requirements`, 'at least two requirements are required');
      const vs = reqs.map((x, i) => compileRequirement(x, providers, `${path}.requires_all.requirements[${i}]`));
      return (ctx) => {
        for (const v of vs) { const s = v(ctx); if (s !== JwtStatus.Ok) return s; }
        return JwtStatus.Ok;
      };
    }
    case 'requiresAny': {
      const reqs = t.value.requirements;
      if (reqs.length < 2) throw new ConfigError(`${path}.requires_any.requirements`, 'at least two requirements are required');
      const used: string[] = [];
      const vs: Verifier[] = [];
      let bypass: { r: JwtRequirement; i: number } | undefined;
      reqs.forEach((x, i) => {
        const c = x.requiresType.case;
        if (c === 'allowMissing' || c === 'allowMissingOrFailed') {
          if (!bypass || bypass.r.requiresType.case === 'allowMissing') bypass = { r: x, i };
          return;
        }
        if (c === 'providerName') used.push(x.requiresType.value as string);
        else if (c === 'providerAndAudiences') used.push((x.requiresType.value as { providerName: string }).providerName);
        vs.push(compileRequirement(x, providers, `${path}.requires_any.requirements[${i}]`));
      });
      if (bypass) vs.push(compileRequirement(bypass.r, providers, `${path}.requires_any.requirements[${bypass.i}]`, used));
      return (ctx) => {
        // Envoy: the failure reported is the last one other than "missing" or "unknown issuer"
        // (a JWT for another provider), else "missing".
        let final: JwtStatus = JwtStatus.JwtMissed;
        for (const v of vs) {
          const s = v(ctx);
          if (s === JwtStatus.Ok) return s;
          if (s !== JwtStatus.JwtMissed && s !== JwtStatus.JwtUnknownIssuer) final = s;
        }
        return final;
      };
    }
    default:
      throw new ConfigError(path, 'unsupported requirement');
  }
}
