import type { UpstreamTlsPrincipals } from '../../tls/upstream-transport.js';
import { HeaderMap } from '../headers.js';
import type { RequestHeaders, ResponseEncoder } from '../stream.js';
import type { HcmConfig } from './config.js';
import type { HcmStats } from './stats.js';
import type { ConnectionInfo } from './connection-info.js';
import { prepareRequestHeaders, stripHopByHop, stripHostPort } from './request-headers.js';
import { mutateXfcc } from './xfcc.js';
import { downstreamRemoteAddress, type DownstreamAddress } from './remote-address.js';
import { grpcStatusForHttp, isGrpcRequest } from '../grpc.js';
import type { ClusterManager } from '../../upstream/cluster-manager.js';
import type { UpstreamCluster } from '../../upstream/cluster.js';
import type { UpstreamHost } from '../../upstream/host.js';
import type { RouteSelection, RouteTable } from '../route/route-table.js';
import { applyResponseHeaderMutations } from '../route/header-mutation.js';
import type { CookieToSet } from '../../upstream/lb/hash-policy.js';
import { generateCookieValue, makeSetCookieValue } from '../../upstream/lb/cookie.js';
import { ResponseFlag } from '../../admin/access-log/response-flags.js';
import { logAccess } from '../../access-log.js';
import type { HttpFilterFactory, HttpStreamFilter, LocalReplyOptions } from '../filters/types.js';
import { FilterCallbacks } from './filter-callbacks.js';
import type { DynamicMetadata } from '../dynamic-metadata.js';
import { Router, DEFAULT_BUFFER_LIMIT, type RouterStream } from '../router/router.js';
import { grpcStreamDuration } from '../router/timeouts.js';
import type { ActiveSpan, Tracer } from '../../tracing/tracer.js';

/** Where a connection manager's routes come from; `table` is swapped whole on an RDS update. */
export interface RouteSource {
  readonly table: RouteTable;
}

/** Everything one HTTP connection manager instance shares with its streams. */
export interface HcmRuntime {
  readonly config: HcmConfig;
  /** The route table as of now: inline, or RDS's latest. A request reads it once, at its start. */
  readonly routes: RouteSource;
  readonly stats: HcmStats;
  readonly clusters: ClusterManager;
  /** The non-terminal HTTP filters, bound to this thread, in order. */
  readonly filters: readonly HttpFilterFactory[];
  /** Set when the connection manager traces (its `tracing` has a provider). */
  readonly tracer?: Tracer;
}

const EMPTY = Buffer.alloc(0);

/**
 * One request/response exchange through the connection manager: header processing, route
 * selection, the HTTP filters, then the router (router/), the response on its way back, local
 * replies, stream timeouts, stats and the access log. Codec adapters (HTTP/1.1, HTTP/2) drive it
 * and give it a ResponseEncoder.
 */
export class HttpStream implements RouterStream {
  readonly startMs = Date.now();
  readonly #start = performance.now();
  readonly rt: HcmRuntime;
  readonly conn: ConnectionInfo;
  readonly #encoder: ResponseEncoder;
  req!: RequestHeaders;
  /** The client's address as the connection manager trusts it (x-forwarded-for aware); the peer until the head arrives. */
  downstreamAddress: DownstreamAddress;
  isGrpc = false;
  #selection: RouteSelection | undefined;
  #router: Router | undefined;
  #setCookies: string[] | undefined;
  #requestEnded = false;
  #requestTimer: NodeJS.Timeout | undefined;
  #durationTimer: NodeJS.Timeout | undefined;
  #responseStarted = false;
  #done = false;
  #durationMs = 0;
  flags = 0;
  status = 0;
  /** Set by filters (jwt_authn's payloads, read by rbac); created on first write. */
  dynamicMetadata: DynamicMetadata | undefined;
  bytesReceived = 0;
  bytesSent = 0;
  #responseHeaders: HeaderMap | undefined;
  #responseTrailers: HeaderMap | undefined;
  #details = '';
  #requestId = '';
  #span: ActiveSpan | undefined;
  // HTTP filters: instances, where the chain stands, and the body held while one stops it.
  #filters: HttpStreamFilter[] | undefined;
  #filterIndex = 0;
  #headEnded = false;
  #held: Buffer[] | undefined;
  #heldBytes = 0;
  #heldEnd = false;
  #heldTrailers: HeaderMap | undefined;
  #heldPaused = false;
  // The response through encoder filters: one held back (pacing) delays the stream's end.
  #responseHeld = false;
  #finishPending = false;
  #responseOverLimit = false;
  #heldResponseTrailers: { index: number; trailers: HeaderMap } | undefined;
  /** Called once when the stream is finished (response complete or reset). */
  onDone: ((s: HttpStream) => void) | undefined;

  constructor(rt: HcmRuntime, conn: ConnectionInfo, encoder: ResponseEncoder) {
    this.rt = rt;
    this.conn = conn;
    this.#encoder = encoder;
    this.downstreamAddress = { address: conn.remoteAddress, port: conn.remotePort };
    rt.stats.downstream_rq_total.inc();
    rt.stats.downstream_rq_active.inc();
  }

  get upstreamHost(): UpstreamHost | undefined { return this.#router?.host; }
  get upstreamCluster(): UpstreamCluster | undefined { return this.#router?.cluster; }
  get upstreamTlsPrincipals(): UpstreamTlsPrincipals | undefined { return this.#router?.upstreamTls; }
  get attemptCount(): number | undefined { return this.#router && this.#router.attempts > 0 ? this.#router.attempts : undefined; }
  get route(): RouteSelection | undefined { return this.#selection; }
  get responseHeaders(): HeaderMap | undefined { return this.#responseHeaders; }
  get responseTrailers(): HeaderMap | undefined { return this.#responseTrailers; }
  get details(): string { return this.#details; }
  get finished(): boolean { return this.#done; }
  get requestEnded(): boolean { return this.#requestEnded; }
  get downstreamWritable(): boolean { return this.#encoder.writable && !this.#responseOverLimit; }
  /** Stream idle timeout for this stream: the route's idle_timeout when it sets one. */
  get streamIdleTimeoutMs(): number {
    const a = this.#selection?.route.action;
    return a?.kind === 'forward' && a.idleTimeoutMs !== undefined ? a.idleTimeoutMs : this.rt.config.streamIdleTimeoutMs;
  }

  /** The request head has arrived. `endStream` when it has no body. */
  decodeHeaders(req: RequestHeaders, endStream: boolean): void {
    this.req = req;
    this.#requestEnded = endStream;
    this.#headEnded = endStream;
    const cfg = this.rt.config;
    if (!endStream && cfg.requestTimeoutMs > 0) this.#requestTimer = setTimeout(() => this.#onRequestTimeout(), cfg.requestTimeoutMs);
    if (cfg.stripPort !== 'none') req.authority = stripHostPort(req.authority, cfg.stripPort, this.conn.localPort);
    this.downstreamAddress = downstreamRemoteAddress(cfg, this.downstreamAddress, req.headers);
    this.#requestId = prepareRequestHeaders(cfg, this.conn.remoteAddress, req);
    mutateXfcc(cfg.forwardClientCert, cfg.clientCertDetails, this.conn.tls, req.headers);
    const tracer = this.rt.tracer;
    if (tracer) {
      this.#span = tracer.start(req);
      // The tracing decision may have rewritten the id; only the response header reads it again.
      if (cfg.alwaysSetRequestIdInResponse) this.#requestId = req.headers.get('x-request-id') ?? this.#requestId;
    }
    this.isGrpc = isGrpcRequest(req);
    this.#selection = this.rt.routes.table.select(req);
    this.#armMaxDuration();
    const factories = this.rt.filters;
    if (factories.length === 0) { this.#route(); return; }
    // Sized up front: an empty array's first push reserves 17 slots (~150 bytes) per request.
    const filters = new Array<HttpStreamFilter>(factories.length);
    for (let i = 0; i < factories.length; i++) filters[i] = factories[i]!.create(new FilterCallbacks(this, factories[i]!.name, i));
    this.#filters = filters;
    this.#runFilters();
  }

  /** Request body bytes from downstream. */
  decodeData(chunk: Buffer, endStream: boolean): void {
    if (endStream) this.#requestDone();
    if (this.#done) return;
    this.bytesReceived += chunk.length;
    const r = this.#router;
    if (r) { r.decodeData(chunk, endStream); return; }
    if (this.#held) {
      // A filter holds the request head: keep the body until it lets go.
      if (chunk.length > 0) { this.#held.push(Buffer.from(chunk)); this.#heldBytes += chunk.length; }
      if (endStream) this.#heldEnd = true;
      if (this.#heldBytes > DEFAULT_BUFFER_LIMIT && !this.#heldPaused) { this.#heldPaused = true; this.#encoder.readDisable(true); }
    }
  }

  decodeTrailers(trailers: HeaderMap): void {
    this.#requestDone();
    if (this.#done) return;
    if (this.#router) this.#router.decodeTrailers(trailers);
    else if (this.#held) this.#heldTrailers = trailers;
  }

  // --- filters ---

  #runFilters(): void {
    const fs = this.#filters!;
    while (this.#filterIndex < fs.length) {
      const status = fs[this.#filterIndex++]!.decodeHeaders(this.req, this.#headEnded);
      if (this.#done) return;
      if (status === 'stop') { this.#held ??= []; return; }
    }
    this.#route();
    const held = this.#held;
    if (held === undefined || this.#done) return;
    this.#held = undefined;
    if (this.#heldPaused) { this.#heldPaused = false; this.#encoder.readDisable(false); }
    const r = this.#router;
    if (!r) return;
    for (let i = 0; i < held.length; i++) r.decodeData(held[i]!, this.#heldEnd && !this.#heldTrailers && i === held.length - 1);
    if (this.#heldEnd && !this.#heldTrailers && held.length === 0 && !this.#headEnded) r.decodeData(EMPTY, true);
    if (this.#heldTrailers) r.decodeTrailers(this.#heldTrailers);
  }

  /** @internal FilterCallbacks.clearRouteCache: Envoy's clearRouteCache, before the router runs. */
  clearRouteCache(): void {
    if (this.#done || this.#router) return;
    this.#selection = this.rt.routes.table.select(this.req);
  }

  /** @internal FilterCallbacks.continueDecoding */
  continueDecoding(): void {
    if (this.#done || this.#router || !this.#filters) return;
    this.#runFilters();
  }

  // --- routing ---

  /** The end of the filter chain: the route's action (Envoy's router filter). */
  #route(): void {
    const sel = this.#selection;
    const stats = this.rt.stats;
    if (!sel) {
      stats.no_route.inc();
      this.flags |= ResponseFlag.NR;
      this.sendLocalReply(404, '', 'route_not_found');
      return;
    }
    const action = sel.route.action;
    if (action.kind === 'direct') {
      stats.rq_direct_response.inc();
      this.#sendLocal(action.status, new HeaderMap(action.body && action.body.length > 0 ? ['content-type', 'text/plain'] : []), action.body ?? EMPTY, 'direct_response');
      return;
    }
    if (action.kind === 'redirect') {
      stats.rq_redirect.inc();
      this.#sendLocal(action.status, new HeaderMap(['location', action.location(this.req)]), EMPTY, 'redirect');
      return;
    }
    stats.rq_total.inc();
    const r = new Router(this, sel, action);
    this.#router = r;
    r.start(this.#headEnded);
  }

  #requestDone(): void {
    this.#requestEnded = true;
    if (this.#requestTimer) { clearTimeout(this.#requestTimer); this.#requestTimer = undefined; }
  }

  /** max_stream_duration: the route's (or a grpc-timeout it lets through), else the connection manager's. */
  #armMaxDuration(): void {
    const a = this.#selection?.route.action;
    let ms = this.rt.config.maxStreamDurationMs;
    const msd = a?.kind === 'forward' ? a.maxStreamDuration : undefined;
    if (msd) {
      if (msd.maxMs !== undefined) ms = msd.maxMs;
      if (msd.grpcHeaderMaxMs !== undefined) ms = grpcStreamDuration(this.req.headers, msd.grpcHeaderMaxMs, msd.grpcHeaderOffsetMs) ?? ms;
    }
    if (ms > 0) this.#durationTimer = setTimeout(() => this.#onMaxDuration(), ms);
  }

  // Methods, not arrow-function fields: a closure per stream costs even when no timer is armed.
  #onMaxDuration(): void {
    this.#durationTimer = undefined;
    if (this.#done) return;
    this.rt.stats.downstream_rq_max_duration_reached.inc();
    this.flags |= ResponseFlag.DT;
    this.#router?.reset();
    this.sendLocalReply(408, 'downstream duration timeout', 'max_duration_timeout', { grpcStatus: 4 });
  }

  #onRequestTimeout(): void {
    this.#requestTimer = undefined;
    if (this.#done) return;
    this.rt.stats.downstream_rq_timeout.inc();
    this.#router?.reset();
    this.sendLocalReply(408, 'request timeout', 'request_overall_timeout');
  }

  /** Nothing moved on this stream for its stream idle timeout (the codec watches its socket). */
  onStreamIdleTimeout(): void {
    if (this.#done) return;
    this.rt.stats.downstream_rq_idle_timeout.inc();
    this.flags |= ResponseFlag.SI;
    this.#router?.reset();
    if (this.#responseStarted) { this.#encoder.reset(); this.#finish(); return; }
    this.sendLocalReply(this.#requestEnded ? 504 : 408, 'stream timeout', 'stream_idle_timeout');
  }

  /** The downstream went away (connection closed, RST_STREAM). */
  onDownstreamReset(): void {
    if (this.#done) return;
    this.flags |= ResponseFlag.DC;
    this.rt.stats.downstream_rq_rx_reset.inc();
    this.#router?.reset();
    this.#finish();
  }

  /** The downstream sent a malformed body: abort upstream, answer 400 if we still can. */
  onDownstreamProtocolError(status: number): void {
    if (this.#done) return;
    this.flags |= ResponseFlag.DPE;
    this.#router?.reset();
    if (this.#responseStarted) { this.#encoder.reset(); this.#finish(); return; }
    this.sendLocalReply(status, 'Bad Request', 'http1.codec_error');
  }

  /** Dropped before it started (a parse error in the same read): counts, no log line. */
  abandon(): void {
    if (this.#done) return;
    this.#done = true;
    this.#durationMs = performance.now() - this.#start;
    if (this.#requestTimer) clearTimeout(this.#requestTimer);
    if (this.#durationTimer) clearTimeout(this.#durationTimer);
    this.rt.stats.downstream_rq_active.dec();
  }

  /** The downstream took what was buffered for it. */
  onDownstreamDrain(): void {
    this.#router?.onDownstreamDrain();
  }

  // --- RouterStream: the response on its way downstream ---

  readDisableDownstream(disable: boolean): void {
    this.#encoder.readDisable(disable);
  }

  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean, trailersExpected: boolean): void {
    if (this.#done) return;
    const cfg = this.rt.config;
    stripHopByHop(headers);
    headers.set('server', cfg.serverName);
    if (cfg.alwaysSetRequestIdInResponse && this.#requestId) headers.set('x-request-id', this.#requestId);
    if (this.#selection) applyResponseHeaderMutations(this.#selection, headers, this.#router?.choice);
    if (this.#setCookies) for (const c of this.#setCookies) headers.add('set-cookie', c);
    this.#runEncodeFilters(status, headers);
    this.status = status;
    this.#responseStarted = true;
    this.#responseHeaders = headers;
    this.#encoder.encodeHeaders(status, headers, endStream, trailersExpected);
  }

  encodeData(chunk: Buffer, endStream: boolean): void {
    if (this.#done) return;
    this.bytesSent += chunk.length;
    this.#encodeDataFrom(0, chunk, endStream);
  }

  encodeTrailers(trailers: HeaderMap): void {
    if (this.#done) return;
    this.#responseTrailers = trailers;
    this.#encodeTrailersFrom(0, trailers);
  }

  /** Response body through the encoder filters from `from` on, then to the client. */
  #encodeDataFrom(from: number, chunk: Buffer, endStream: boolean): void {
    const fs = this.#filters;
    if (fs) {
      for (let i = from; i < fs.length; i++) {
        const f = fs[i]!;
        if (f.encodeData && f.encodeData(chunk, endStream) === 'stop') { this.#responseHeld = true; return; }
      }
    }
    this.#encoder.encodeData(chunk, endStream);
    if (endStream) this.#responseSent();
  }

  #encodeTrailersFrom(from: number, trailers: HeaderMap): void {
    const fs = this.#filters;
    if (fs) {
      for (let i = from; i < fs.length; i++) {
        const f = fs[i]!;
        if (f.encodeTrailers && f.encodeTrailers(trailers) === 'stop') {
          this.#responseHeld = true;
          this.#heldResponseTrailers = { index: i, trailers };
          return;
        }
      }
    }
    this.#encoder.encodeTrailers(trailers);
    this.#responseSent();
  }

  /** The end of the response went to the client: a stream the router completed meanwhile ends. */
  #responseSent(): void {
    this.#responseHeld = false;
    if (this.#finishPending) { this.#finishPending = false; this.#finish(); }
  }

  /** @internal FilterCallbacks.injectEncodedData */
  injectEncodedData(index: number, chunk: Buffer, endStream: boolean): void {
    if (!this.#done) this.#encodeDataFrom(index + 1, chunk, endStream);
  }

  /** @internal FilterCallbacks.continueEncoding */
  continueEncoding(index: number): void {
    const held = this.#heldResponseTrailers;
    if (this.#done || held?.index !== index) return;
    this.#heldResponseTrailers = undefined;
    this.#encodeTrailersFrom(index + 1, held.trailers);
  }

  /** @internal FilterCallbacks.setResponseOverLimit */
  setResponseOverLimit(over: boolean): void {
    this.#responseOverLimit = over;
    if (!over) this.#router?.onDownstreamDrain();
  }

  resetDownstream(): void {
    this.rt.stats.rq_reset_after_downstream_response_started.inc();
    this.#encoder.reset();
    this.#finish();
  }

  onRouterComplete(details: string): void {
    this.#details = details;
    // An encoder filter still holds part of the response: the stream ends when it has gone.
    if (this.#responseHeld) { this.#finishPending = true; return; }
    this.#finish();
  }

  /** A cookie hash policy with a ttl and no cookie yet: Envoy makes one and sets it on the response. */
  addCookie(c: CookieToSet): string {
    const value = generateCookieValue(`${this.conn.remoteAddress}:${this.conn.remotePort}`, `${this.conn.localAddress}:${this.conn.localPort}`);
    (this.#setCookies ??= []).push(makeSetCookieValue(c.name, value, c.path, c.ttlSeconds, true, c.attributes));
    return value;
  }

  #runEncodeFilters(status: number, headers: HeaderMap): void {
    const fs = this.#filters;
    if (fs) for (let i = 0; i < fs.length; i++) fs[i]!.encodeHeaders?.(status, headers);
  }

  // --- local replies ---

  /**
   * Answers from the proxy itself (Envoy's sendLocalReply): a text body, or for gRPC requests
   * a trailers-only 200 carrying the grpc-status that matches the HTTP status.
   */
  sendLocalReply(status: number, body: string | Buffer | undefined, details: string, opts?: LocalReplyOptions): void {
    if (this.#done) return;
    if (opts?.flags) this.flags |= opts.flags;
    const h = new HeaderMap();
    if (opts?.headers) for (const [k, v] of opts.headers) h.add(k, v);
    if (this.isGrpc) {
      h.add('content-type', 'application/grpc');
      h.add('grpc-status', String(opts?.grpcStatus ?? grpcStatusForHttp(status)));
      const msg = typeof body === 'string' ? body : body?.toString() ?? '';
      if (msg) h.add('grpc-message', encodeURIComponent(msg));
      this.#sendLocal(200, h, EMPTY, details);
      return;
    }
    const buf = body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body) : body;
    if (buf.length > 0) h.add('content-type', 'text/plain');
    this.#sendLocal(status, h, buf, details);
  }

  #sendLocal(status: number, h: HeaderMap, body: Buffer, details: string): void {
    if (this.#done) return;
    this.#router?.reset();
    if (this.#responseStarted) { this.#encoder.reset(); this.#finish(); return; }
    h.add('content-length', String(body.length));
    h.add('date', new Date().toUTCString());
    h.add('server', this.rt.config.serverName);
    if (this.#selection) applyResponseHeaderMutations(this.#selection, h);
    this.#runEncodeFilters(status, h);
    this.status = status;
    this.#details = details;
    this.#responseStarted = true;
    this.#responseHeaders = h;
    this.bytesSent += body.length;
    const headOnly = this.req?.method === 'HEAD' || body.length === 0;
    this.#encoder.encodeHeaders(status, h, headOnly);
    if (!headOnly) this.#encoder.encodeData(body, true);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    // The stream's duration, read once: stats, filters' onDestroy, access logs and the span all see this one.
    this.#durationMs = performance.now() - this.#start;
    if (this.#requestTimer) { clearTimeout(this.#requestTimer); this.#requestTimer = undefined; }
    if (this.#durationTimer) { clearTimeout(this.#durationTimer); this.#durationTimer = undefined; }
    const fs = this.#filters;
    if (fs) for (let i = 0; i < fs.length; i++) fs[i]!.onDestroy?.();
    const stats = this.rt.stats;
    stats.downstream_rq_active.dec();
    if (this.status > 0) stats.recordResponse(this.status);
    stats.downstream_rq_completed.inc();
    stats.downstream_rq_time.record(this.#durationMs);
    if (this.rt.config.accessLogs.length > 0) logAccess(this.rt.config.accessLogs, this);
    if (this.#span) this.rt.tracer!.finish(this.#span, this);
    this.onDone?.(this);
  }

  /** Milliseconds since the stream started; once it is finished, its duration. */
  elapsedMs(): number {
    return this.#done ? this.#durationMs : performance.now() - this.#start;
  }

  /** Milliseconds from the stream's start to the first upstream response byte; -1 if none. */
  get firstUpstreamByteMs(): number {
    const t = this.#router?.firstByteMs ?? -1;
    return t < 0 ? -1 : t - this.#start;
  }
}
