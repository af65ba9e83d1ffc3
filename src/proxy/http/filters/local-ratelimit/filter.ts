import { drawFraction } from '../../../../envoy/percent.js';
import { statSet, type StatScope } from '../../../stats-scope.js';
import { ResponseFlag } from '../../../admin/access-log/response-flags.js';
import type { TokenBucket } from '../../../shared/token-bucket.js';
import type { ConnectionInfo } from '../../conn-manager/connection-info.js';
import type { HeaderMap } from '../../headers.js';
import type { RequestHeaders } from '../../stream.js';
import type { FilterRuntimeContext, HttpFilterCallbacks, HttpFilterFactory, HttpStreamFilter } from '../types.js';
import type { LocalRateLimitSettings } from './config.js';
import { requestDescriptors } from './descriptors.js';
import { LocalRateLimiter } from './limiter.js';

const rateLimitStats = (s: StatScope) => statSet(s, ['enabled', 'enforced', 'rate_limited', 'ok']);

/** A settings object bound to this thread: its stats and, unless per connection, its shared buckets. */
interface Bound {
  readonly stats: ReturnType<typeof rateLimitStats>;
  readonly shared: LocalRateLimiter | undefined;
}

const RATE_LIMITED_HEADERS: readonly (readonly [string, string])[] = [['x-envoy-ratelimited', 'true']];

/**
 * The local rate limit filter of one connection manager in one thread. The filter's settings
 * and every route's own (typed_per_filter_config) are bound on first use to their stats
 * (`<stat_prefix>.http_local_rate_limit.*`) and buckets: in the shared slots, so the limits
 * hold for the whole instance, or per downstream connection when configured so.
 */
export class LocalRateLimitFactory implements HttpFilterFactory {
  readonly #ctx: FilterRuntimeContext;
  readonly #bound = new WeakMap<LocalRateLimitSettings, Bound>();
  readonly #perConnection = new WeakMap<ConnectionInfo, Map<LocalRateLimitSettings, LocalRateLimiter>>();

  constructor(readonly name: string, readonly settings: LocalRateLimitSettings, ctx: FilterRuntimeContext, readonly random: () => number = Math.random) {
    this.#ctx = ctx;
    this.bind(settings);
  }

  create(cb: HttpFilterCallbacks): HttpStreamFilter {
    return new LocalRateLimitFilter(this, cb);
  }

  bind(s: LocalRateLimitSettings): Bound {
    let b = this.#bound.get(s);
    if (!b) {
      b = { stats: rateLimitStats(this.#ctx.scopes.httpLocalRateLimit(s.statPrefix)), shared: s.perConnection ? undefined : new LocalRateLimiter(s, this.#ctx.shared.slots) };
      this.#bound.set(s, b);
    }
    return b;
  }

  /** The limiter for `s` on this request: the shared one, or the connection's own. */
  limiter(s: LocalRateLimitSettings, b: Bound, conn: ConnectionInfo): LocalRateLimiter {
    if (b.shared) return b.shared;
    let m = this.#perConnection.get(conn);
    if (!m) this.#perConnection.set(conn, (m = new Map()));
    let l = m.get(s);
    if (!l) m.set(s, (l = new LocalRateLimiter(s, undefined)));
    return l;
  }
}

/**
 * Envoy's HTTP local rate limit filter on one stream: when enabled for the request, take a token
 * (from the matching descriptors' buckets and/or the default one); without one, count
 * rate_limited and, when enforced, answer `status` with x-envoy-ratelimited (flag RL), else
 * let the request go with request_headers_to_add_when_not_enforced.
 */
class LocalRateLimitFilter implements HttpStreamFilter {
  #settings: LocalRateLimitSettings;
  #bucket: TokenBucket | undefined;
  #limited = false;

  constructor(readonly f: LocalRateLimitFactory, readonly cb: HttpFilterCallbacks) {
    this.#settings = f.settings;
  }

  decodeHeaders(req: RequestHeaders): 'continue' | 'stop' {
    const s = (this.#settings = this.cb.perRouteConfig<LocalRateLimitSettings>() ?? this.f.settings);
    if (!s.enabled || !drawFraction(s.enabled, this.f.random)) return 'continue';
    const b = this.f.bind(s);
    b.stats.enabled.inc();
    const conn = this.cb.conn;
    const descriptors = requestDescriptors(s, this.cb.route, req, { remoteAddress: this.cb.downstreamAddress });
    const r = this.f.limiter(s, b, conn).requestAllowed(descriptors, Date.now());
    this.#bucket = r.bucket;
    if (r.allowed) { b.stats.ok.inc(); return 'continue'; }
    b.stats.rate_limited.inc();
    if (!s.enforced || !drawFraction(s.enforced, this.f.random)) {
      s.requestHeadersWhenNotEnforced?.apply(req.headers);
      return 'continue';
    }
    b.stats.enforced.inc();
    this.#limited = true;
    this.cb.sendLocalReply(s.status, 'local_rate_limited', 'local_rate_limited', s.grpcStatus !== undefined
      ? { headers: RATE_LIMITED_HEADERS, grpcStatus: s.grpcStatus, flags: ResponseFlag.RL }
      : { headers: RATE_LIMITED_HEADERS, flags: ResponseFlag.RL });
    return 'stop';
  }

  encodeHeaders(_status: number, headers: HeaderMap): void {
    const s = this.#settings;
    if (this.#limited) s.responseHeaders?.apply(headers);
    const bucket = this.#bucket;
    if (!s.xRateLimitHeaders || !bucket) return;
    // draft-polli-ratelimit-headers-03, as Envoy fills them: the bucket's size, what is left
    // now, and whole seconds to its next fill.
    const now = Date.now();
    headers.add('x-ratelimit-limit', String(bucket.spec.maxTokens));
    headers.add('x-ratelimit-remaining', String(bucket.remaining(now)));
    headers.add('x-ratelimit-reset', String(bucket.resetSeconds(now)));
  }
}
