import type { JsonObject } from '@bufbuild/protobuf';
import { prefixed, statSet } from '../../../stats-scope.js';
import { log } from '../../../log.js';
import type { RequestHeaders } from '../../stream.js';
import type { FilterRuntimeContext, HttpFilterCallbacks, HttpFilterFactory, HttpStreamFilter } from '../types.js';
import { findVerifier, type JwtAuthnConfig, type JwtPerRoute } from './config.js';
import type { Jwks } from './jwks.js';
import { RemoteJwksCache } from './jwks-cache.js';
import type { CompiledProvider } from './provider.js';
import { JwtStatus } from './status.js';
import { JwtCache, NeedKeys, type Verifier, type VerifyContext } from './verifier.js';

/** Where verified payloads go in the stream's dynamic metadata (the RBAC filter reads them there). */
export const JWT_AUTHN_METADATA = 'envoy.filters.http.jwt_authn';
const MAX_URI_PATH = 256;

const jwtStats = (f: FilterRuntimeContext) => statSet(prefixed(f.httpScope, 'jwt_authn.'), ['allowed', 'denied', 'cors_preflight_bypassed', 'jwks_fetch_success', 'jwks_fetch_failed', 'jwt_cache_hit', 'jwt_cache_miss']);

/** The jwt_authn filter of one connection manager in one thread: stats under `http.<prefix>.jwt_authn.`, its remote JWKS cache. */
export class JwtAuthnFactory implements HttpFilterFactory {
  readonly stats: ReturnType<typeof jwtStats>;
  readonly jwks: RemoteJwksCache;
  readonly #jwtCaches = new Map<CompiledProvider, JwtCache>();

  constructor(readonly name: string, readonly config: JwtAuthnConfig, ctx: FilterRuntimeContext, readonly now: () => number = Date.now) {
    this.stats = jwtStats(ctx);
    this.jwks = new RemoteJwksCache(ctx.clusters, this.stats, now);
    for (const p of config.providers) if (p.remote?.asyncFetch) void this.jwks.fetch(p.remote);
  }

  create(cb: HttpFilterCallbacks): HttpStreamFilter {
    return new JwtAuthnFilter(this, cb);
  }

  /** This thread's verified-JWT cache of a provider with jwt_cache_config. */
  jwtCache = (p: CompiledProvider): JwtCache | undefined => {
    if (p.jwtCacheSize === 0) return undefined;
    let c = this.#jwtCaches.get(p);
    if (!c) this.#jwtCaches.set(p, (c = new JwtCache(p.jwtCacheSize, this.stats)));
    return c;
  };
}

/**
 * Envoy's JWT authentication filter on one stream: finds the requirement (route's
 * PerRouteConfig, else the first matching rule), verifies the request's JWTs against it and
 * either lets the request go on (verified payloads in dynamic metadata, header changes applied)
 * or answers 401 (403 for a wrong audience) with the reason and `www-authenticate`. A request
 * whose provider's remote JWKS is not cached yet waits for the fetch; other streams go on.
 */
class JwtAuthnFilter implements HttpStreamFilter {
  #req!: RequestHeaders;
  #verifier: Verifier | undefined;
  /** This request's fetch results, so that a verification run again after a fetch does not fetch again. */
  #fetched: Map<CompiledProvider, Jwks | JwtStatus> | undefined;

  constructor(readonly f: JwtAuthnFactory, readonly cb: HttpFilterCallbacks) {}

  decodeHeaders(req: RequestHeaders): 'continue' | 'stop' {
    this.#req = req;
    const cfg = this.f.config;
    const stats = this.f.stats;
    if (cfg.bypassCorsPreflight && req.method === 'OPTIONS' && req.headers.get('origin') && req.headers.get('access-control-request-method')) {
      stats.cors_preflight_bypassed.inc();
      stats.allowed.inc();
      return 'continue';
    }
    const pr = this.cb.perRouteConfig<JwtPerRoute>();
    let verifier: Verifier | undefined;
    if (pr) {
      if (pr.disabled) return 'continue';
      verifier = cfg.requirementMap.get(pr.requirementName);
      if (!verifier) {
        stats.denied.inc();
        const msg = `Wrong requirement_name: ${pr.requirementName}. It should be one of [${[...cfg.requirementMap.keys()].join(',')}]`;
        this.cb.sendLocalReply(403, cfg.stripFailureResponse ? '' : `Failed JWT authentication: ${msg}`, details(msg));
        return 'stop';
      }
    } else {
      verifier = findVerifier(cfg, req);
    }
    if (!verifier) { stats.allowed.inc(); return 'continue'; }
    this.#verifier = verifier;
    return this.#run();
  }

  #run(): 'continue' | 'stop' {
    const ctx: VerifyContext = { req: this.#req, nowS: Math.floor(this.f.now() / 1000), keys: this.#keys, headerOps: [], payloads: [], clearRouteCache: false, jwtCache: this.f.jwtCache };
    let status: JwtStatus;
    try {
      status = this.#verifier!(ctx);
    } catch (e) {
      if (!(e instanceof NeedKeys)) throw e;
      const p = e.provider;
      void this.f.jwks.fetch(p.remote!).then((r) => {
        (this.#fetched ??= new Map()).set(p, r);
        if (this.cb.finished) return;
        if (this.#run() === 'continue') this.cb.continueDecoding();
      }).catch((err: unknown) => {
        // Nothing above should throw; if it does, this request fails, not the process.
        log.error(`jwt_authn: ${(err as Error).stack ?? String(err)}`);
        if (!this.cb.finished) this.cb.sendLocalReply(500, 'jwt_authn: internal error', 'jwt_authn_internal_error');
      });
      return 'stop';
    }
    return this.#complete(status, ctx);
  }

  #keys = (p: CompiledProvider): Jwks | JwtStatus => {
    if (p.local) return p.local;
    const fetched = this.#fetched?.get(p);
    if (fetched) return fetched;
    const cached = this.f.jwks.get(p.remote!);
    if (cached) return cached;
    throw new NeedKeys(p);
  };

  #complete(status: JwtStatus, ctx: VerifyContext): 'continue' | 'stop' {
    const stats = this.f.stats;
    if (status === JwtStatus.Ok) {
      for (const op of ctx.headerOps) op(this.#req);
      if (ctx.clearRouteCache) this.cb.clearRouteCache();
      if (ctx.payloads.length > 0) {
        const md: JsonObject = {};
        for (const [k, v] of ctx.payloads) md[k] = v;
        this.cb.setDynamicMetadata(JWT_AUTHN_METADATA, md);
      }
      stats.allowed.inc();
      return 'continue';
    }
    stats.denied.inc();
    const code = status === JwtStatus.JwtAudienceNotAllowed ? 403 : 401;
    if (this.f.config.stripFailureResponse) {
      this.cb.sendLocalReply(code, '', details(status));
      return 'stop';
    }
    const realm = `Bearer realm="${originalUri(this.#req)}"${status === JwtStatus.JwtMissed ? '' : ', error="invalid_token"'}`;
    this.cb.sendLocalReply(code, status, details(status), { headers: [['www-authenticate', realm]] });
    return 'stop';
  }
}

/** RESPONSE_CODE_DETAILS: `jwt_authn_access_denied{<reason, spaces as _>}`. */
function details(reason: string): string {
  return `jwt_authn_access_denied{${reason.replace(/\s/g, '_')}}`;
}

/** Envoy's buildOriginalUri: forwarded proto, host and path (cut at 256 characters). */
function originalUri(req: RequestHeaders): string {
  const proto = req.headers.get('x-forwarded-proto') ?? req.scheme;
  return `${proto}://${req.authority}${req.path.length > MAX_URI_PATH ? req.path.slice(0, MAX_URI_PATH) : req.path}`;
}
