import { prefixed, statSet, type Counter, type StatScope } from '../../../stats-scope.js';
import { ResponseFlag } from '../../../admin/access-log/response-flags.js';
import type { RouteSelection } from '../../route/route-table.js';
import type { RequestHeaders } from '../../stream.js';
import type { HeaderMap } from '../../headers.js';
import { DEFAULT_BUFFER_LIMIT } from '../../router/router.js';
import type { FilterDataStatus, FilterRuntimeContext, HttpFilterCallbacks, HttpFilterFactory, HttpStreamFilter } from '../types.js';
import { FaultHeaders, type FaultSettings } from './config.js';
import { abortDecision, delayMs, faultMatches, responseRateKbps, type AbortDecision } from './decide.js';
import { StreamRateLimiter } from './response-limiter.js';

const faultStats = (s: StatScope) =>
  statSet(s, ['delays_injected', 'aborts_injected', 'faults_overflow', 'response_rl_injected'], ['active_faults']);

type FaultStats = ReturnType<typeof faultStats>;

interface DownstreamStats { readonly delays_injected: Counter; readonly aborts_injected: Counter }

/**
 * The fault filter of one connection manager in one thread: its stats
 * (`http.<prefix>.fault.*`) and the instance-wide count of requests with an active fault,
 * which max_active_faults caps whatever thread the requests are on.
 */
export class FaultFilterFactory implements HttpFilterFactory {
  readonly stats: FaultStats;
  /** [0]: active faults in the whole instance, for every fault filter counting into the same gauge. */
  readonly #active: Int32Array;
  readonly #ctx: FilterRuntimeContext;
  readonly #downstream = new Map<string, DownstreamStats>();

  constructor(readonly name: string, readonly settings: FaultSettings, ctx: FilterRuntimeContext, readonly random: () => number = Math.random) {
    this.#ctx = ctx;
    this.stats = faultStats(prefixed(ctx.httpScope, 'fault.'));
    // Keyed like the active_faults gauge, which Envoy's limit reads: one count per stat name.
    this.#active = ctx.shared.slots.block(`http.${ctx.statPrefix}.fault.active_faults`, 1);
  }

  create(cb: HttpFilterCallbacks): HttpStreamFilter {
    return new FaultFilter(this, cb);
  }

  /** Counts a new active fault unless max_active_faults is reached (then faults_overflow). */
  tryActivate(max: number | undefined): boolean {
    const a = this.#active;
    if (max === undefined) {
      Atomics.add(a, 0, 1);
    } else {
      for (;;) {
        const cur = Atomics.load(a, 0);
        if (cur >= max) { this.stats.faults_overflow.inc(); return false; }
        if (Atomics.compareExchange(a, 0, cur, cur + 1) === cur) break;
      }
    }
    this.stats.active_faults.inc();
    return true;
  }

  deactivate(): void {
    Atomics.sub(this.#active, 0, 1);
    this.stats.active_faults.dec();
  }

  /** `http.<prefix>.fault.<downstream_cluster>.*`. */
  downstreamStats(cluster: string): DownstreamStats {
    let s = this.#downstream.get(cluster);
    if (!s) this.#downstream.set(cluster, (s = statSet(this.#ctx.scopes.faultDownstreamCluster(this.#ctx.statPrefix, cluster), ['delays_injected', 'aborts_injected'])));
    return s;
  }
}

/** The route's cluster when the route names one; weighted clusters are picked later, by the router. */
function routeCluster(sel: RouteSelection | undefined): string | undefined {
  const a = sel?.route.action;
  return a?.kind === 'forward' && !a.weightedClusters ? a.pickCluster(0) : undefined;
}

/**
 * Envoy's fault filter on one stream: matching requests get their response body paced
 * (response_rate_limit), are delayed (then continue, or abort if the abort also hits) or
 * aborted with a local reply. A route's typed_per_filter_config replaces the filter's settings
 * for that route.
 */
class FaultFilter implements HttpStreamFilter {
  #settings: FaultSettings;
  #req: RequestHeaders | undefined;
  #timer: NodeJS.Timeout | undefined;
  #active = false;
  #downstreamCluster = '';
  #limiter: StreamRateLimiter | undefined;

  constructor(readonly f: FaultFilterFactory, readonly cb: HttpFilterCallbacks) {
    this.#settings = f.settings;
  }

  decodeHeaders(req: RequestHeaders): 'continue' | 'stop' {
    const s = (this.#settings = this.cb.perRouteConfig<FaultSettings>() ?? this.f.settings);
    if (!s.delay && !s.abort && !s.responseRateLimit) return 'continue';
    if (!faultMatches(s, req, routeCluster(this.cb.route))) return 'continue';
    this.#req = req;
    if (!s.disableDownstreamClusterStats) this.#downstreamCluster = req.headers.get(FaultHeaders.downstreamCluster) ?? '';
    this.#maybeLimitResponse(s, req);
    const delay = delayMs(s, req.headers, this.f.random());
    if (delay !== undefined && this.#activate()) {
      this.#timer = setTimeout(this.#afterDelay, delay);
      this.f.stats.delays_injected.inc();
      if (this.#downstreamCluster) this.f.downstreamStats(this.#downstreamCluster).delays_injected.inc();
      this.cb.addResponseFlags(ResponseFlag.DI);
      return 'stop';
    }
    const abort = abortDecision(s, req.headers, this.f.random());
    if (abort && this.#activate()) {
      this.#abort(abort);
      return 'stop';
    }
    return 'continue';
  }

  encodeData(chunk: Buffer, endStream: boolean): FilterDataStatus {
    const l = this.#limiter;
    if (!l) return 'continue';
    l.write(chunk, endStream);
    return 'stop';
  }

  encodeTrailers(_trailers: HeaderMap): FilterDataStatus {
    return this.#limiter?.onTrailers() ? 'stop' : 'continue';
  }

  onDestroy(): void {
    this.#limiter?.destroy();
    this.#limiter = undefined;
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.#active) { this.#active = false; this.f.deactivate(); }
  }

  /** One active fault per stream, however many faults it gets (as Envoy counts). */
  #activate(): boolean {
    if (this.#active) return true;
    if (!this.f.tryActivate(this.#settings.maxActiveFaults)) return false;
    this.#active = true;
    return true;
  }

  /**
   * response_rate_limit (Envoy's maybeSetupResponseRateLimit): the response body will reach the
   * client at the rate, both for HTTP/1.1 and HTTP/2; the request counts as an active fault
   * until the stream ends.
   */
  #maybeLimitResponse(s: FaultSettings, req: RequestHeaders): void {
    const kbps = responseRateKbps(s, req.headers, this.f.random());
    if (kbps === undefined || !this.#activate()) return;
    this.f.stats.response_rl_injected.inc();
    const cb = this.cb;
    this.#limiter = new StreamRateLimiter(kbps, DEFAULT_BUFFER_LIMIT, {
      write: (chunk, end) => cb.injectEncodedData(chunk, end),
      releaseTrailers: () => cb.continueEncoding(),
      overLimit: (over) => cb.setResponseOverLimit(over),
    });
  }

  #afterDelay = (): void => {
    this.#timer = undefined;
    if (this.cb.finished) return;
    // A delay can be followed by an abort, decided now (Envoy's postDelayInjection).
    const abort = abortDecision(this.#settings, this.#req!.headers, this.f.random());
    if (abort) { this.#abort(abort); return; }
    // The delay is over: the request no longer counts as an active fault, unless its response
    // is still to be paced.
    if (!this.#limiter) {
      this.#active = false;
      this.f.deactivate();
    }
    this.cb.continueDecoding();
  };

  #abort(a: AbortDecision): void {
    this.f.stats.aborts_injected.inc();
    if (this.#downstreamCluster) this.f.downstreamStats(this.#downstreamCluster).aborts_injected.inc();
    this.cb.sendLocalReply(a.status, 'fault filter abort', 'fault_filter_abort', a.grpcStatus !== undefined ? { grpcStatus: a.grpcStatus, flags: ResponseFlag.FI } : { flags: ResponseFlag.FI });
  }
}
