import { prefixed, statSet, type StatScope } from '../../../stats-scope.js';
import { drawFraction } from '../../../../envoy/percent.js';
import type { HeaderMap } from '../../headers.js';
import type { RequestHeaders } from '../../stream.js';
import type { FilterRuntimeContext, HttpFilterCallbacks, HttpFilterFactory, HttpStreamFilter } from '../types.js';
import { MergedCors, type CorsSettings } from './config.js';

const corsStats = (s: StatScope) => statSet(s, ['origin_valid', 'origin_invalid'], []);

/** `http.<prefix>.cors.*` of one connection manager in one thread. */
export class CorsFilterFactory implements HttpFilterFactory {
  readonly stats: ReturnType<typeof corsStats>;
  constructor(readonly name: string, ctx: FilterRuntimeContext, readonly random: () => number = Math.random) {
    this.stats = corsStats(prefixed(ctx.httpScope, 'cors.'));
  }
  create(cb: HttpFilterCallbacks): HttpStreamFilter {
    return new CorsFilter(this, cb);
  }
}

/**
 * Envoy's CORS filter: policies come only from typed_per_filter_config on the route and its
 * virtual host. A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an
 * allowed origin is answered here with 200; an actual request from an allowed origin gets
 * Access-Control-Allow-Origin (and credentials / expose headers) on its response.
 */
class CorsFilter implements HttpStreamFilter {
  #policy: MergedCors | undefined;
  #allowedOrigin: string | undefined;

  constructor(readonly f: CorsFilterFactory, readonly cb: HttpFilterCallbacks) {}

  decodeHeaders(req: RequestHeaders): 'continue' | 'stop' {
    if (!this.cb.route) return 'continue';
    const levels = this.cb.perRouteConfigs<CorsSettings>();
    if (levels.length === 0) return 'continue';
    const top = levels[0]!;
    const enabled = drawFraction(top.enabled, this.f.random);
    const shadow = top.shadow !== undefined && drawFraction(top.shadow, this.f.random);
    if (!enabled && !shadow) return 'continue';
    const origin = req.headers.get('origin');
    if (!origin) return 'continue';
    const policy = new MergedCors(levels);
    const allowed = policy.originAllowed(origin);
    if (allowed) { this.f.stats.origin_valid.inc(); this.#allowedOrigin = origin; } else this.f.stats.origin_invalid.inc();
    if (!enabled) return 'continue';
    this.#policy = policy;
    const requestMethod = req.headers.get('access-control-request-method');
    if (req.method !== 'OPTIONS' || !requestMethod) return 'continue';
    if (!allowed && policy.forwardNotMatchingPreflights) return 'continue';
    const headers: [string, string][] = [];
    if (allowed) headers.push(['access-control-allow-origin', origin]);
    if (policy.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
    const methods = policy.allowMethods;
    if (methods) headers.push(['access-control-allow-methods', methods === '*' ? requestMethod : methods]);
    const allowHeaders = policy.allowHeaders;
    if (allowHeaders) headers.push(['access-control-allow-headers', allowHeaders === '*' ? req.headers.get('access-control-request-headers') ?? '' : allowHeaders]);
    if (policy.maxAge) headers.push(['access-control-max-age', policy.maxAge]);
    if (policy.allowPrivateNetworkAccess && req.headers.get('access-control-request-private-network') === 'true') headers.push(['access-control-allow-private-network', 'true']);
    // The response to a preflight is the filter's own; encodeHeaders must not add to it again.
    this.#policy = undefined;
    this.cb.sendLocalReply(200, '', 'cors_response', { headers });
    return 'stop';
  }

  encodeHeaders(_status: number, headers: HeaderMap): void {
    const policy = this.#policy;
    const origin = this.#allowedOrigin;
    if (!policy || origin === undefined) return;
    headers.set('access-control-allow-origin', origin);
    if (policy.allowCredentials) headers.set('access-control-allow-credentials', 'true');
    if (policy.exposeHeaders) headers.set('access-control-expose-headers', policy.exposeHeaders);
  }
}
