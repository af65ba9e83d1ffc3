import { HeaderMap } from '../headers.js';
import type { RequestHeaders, ResponseEncoder, UpstreamResponseHandler, UpstreamResetReason, UpstreamStream } from '../stream.js';
import type { HcmConfig } from './config.js';
import type { HcmStats } from './stats.js';
import type { ConnectionInfo } from './connection-info.js';
import { prepareRequestHeaders, stripHopByHop } from './request-headers.js';
import type { ClusterManager } from '../../upstream/cluster-manager.js';
import type { UpstreamCluster } from '../../upstream/cluster.js';
import type { UpstreamHost } from '../../upstream/host.js';
import type { PendingHandle, PoolCallbacks, PoolFailure } from '../../upstream/pool.js';
import type { RouteSelection } from '../route/route-table.js';
import type { ClusterChoice } from '../route/weighted-clusters.js';
import { applyRequestHeaderMutations, applyResponseHeaderMutations } from '../route/header-mutation.js';
import { computeRequestHash, type CookieToSet } from '../../upstream/lb/hash-policy.js';
import { generateCookieValue, makeSetCookieValue } from '../../upstream/lb/cookie.js';
import { ResponseFlag } from '../../admin/access-log/response-flags.js';
import { logAccess } from '../../access-log.js';

/** Everything one HTTP connection manager instance shares with its streams. */
export interface HcmRuntime {
  readonly config: HcmConfig;
  readonly stats: HcmStats;
  readonly clusters: ClusterManager;
}

const EMPTY = Buffer.alloc(0);
/** Envoy's default per_connection_buffer_limit_bytes: body held while an upstream is found. */
const BUFFER_LIMIT = 1024 * 1024;

/**
 * One request/response exchange through the connection manager and the router: header
 * processing, route selection, the upstream request, the response, timeouts, stats and the
 * access log. Codec adapters (HTTP/1.1, HTTP/2) drive it and give it a ResponseEncoder.
 */
export class HttpStream implements UpstreamResponseHandler, PoolCallbacks {
  readonly startMs = Date.now();
  readonly #start = performance.now();
  readonly rt: HcmRuntime;
  readonly conn: ConnectionInfo;
  readonly #encoder: ResponseEncoder;
  req!: RequestHeaders;
  #selection: RouteSelection | undefined;
  #choice: ClusterChoice | undefined;
  #setCookies: string[] | undefined;
  #cluster: UpstreamCluster | undefined;
  #host: UpstreamHost | undefined;
  #upstream: UpstreamStream | undefined;
  #pending: PendingHandle | undefined;
  #buffered: Buffer[] | undefined;
  #requestEnded = false;
  #bufferedTrailers: HeaderMap | undefined;
  #timer: NodeJS.Timeout | undefined;
  #requestTimer: NodeJS.Timeout | undefined;
  #bufferedBytes = 0;
  #downstreamPaused = false;
  #upstreamPaused = false;
  #upstreamStart = 0;
  #responseStarted = false;
  #done = false;
  flags = 0;
  status = 0;
  bytesReceived = 0;
  bytesSent = 0;
  #responseHeaders: HeaderMap | undefined;
  #responseTrailers: HeaderMap | undefined;
  #details = '';
  #requestId = '';
  #firstUpstreamByteMs = -1;
  /** Called once when the stream is finished (response complete or reset). */
  onDone: ((s: HttpStream) => void) | undefined;

  constructor(rt: HcmRuntime, conn: ConnectionInfo, encoder: ResponseEncoder) {
    this.rt = rt;
    this.conn = conn;
    this.#encoder = encoder;
    rt.stats.downstream_rq_total.inc();
    rt.stats.downstream_rq_active.inc();
  }

  get upstreamHost(): UpstreamHost | undefined { return this.#host; }
  get upstreamCluster(): UpstreamCluster | undefined { return this.#cluster; }
  get route(): RouteSelection | undefined { return this.#selection; }
  get responseHeaders(): HeaderMap | undefined { return this.#responseHeaders; }
  get responseTrailers(): HeaderMap | undefined { return this.#responseTrailers; }
  get details(): string { return this.#details; }
  get finished(): boolean { return this.#done; }
  get requestEnded(): boolean { return this.#requestEnded; }

  /** The request head has arrived. `endStream` when it has no body. */
  decodeHeaders(req: RequestHeaders, endStream: boolean): void {
    this.req = req;
    this.#requestEnded = endStream;
    const cfg = this.rt.config;
    if (!endStream && cfg.requestTimeoutMs > 0) this.#requestTimer = setTimeout(this.#onRequestTimeout, cfg.requestTimeoutMs);
    this.#requestId = prepareRequestHeaders(cfg, this.conn.remoteAddress, req);
    const sel = cfg.routes.select(req);
    if (!sel) {
      this.rt.stats.no_route.inc();
      this.flags |= ResponseFlag.NR;
      this.sendLocalReply(404, '', 'route_not_found');
      return;
    }
    this.#selection = sel;
    const action = sel.route.action;
    if (action.kind === 'direct') {
      this.rt.stats.rq_direct_response.inc();
      this.sendLocalReply(action.status, action.body, 'direct_response');
      return;
    }
    if (action.kind === 'redirect') {
      this.rt.stats.rq_redirect.inc();
      const h = new HeaderMap(['location', action.location(req)]);
      this.#sendLocal(action.status, h, EMPTY, 'redirect');
      return;
    }
    const choice = action.pickClusterEntry(Math.random());
    const cluster = this.rt.clusters.get(choice.name);
    if (!cluster) {
      this.rt.stats.no_cluster.inc();
      this.flags |= ResponseFlag.NC;
      this.sendLocalReply(action.clusterNotFoundStatus, '', 'cluster_not_found');
      return;
    }
    this.#cluster = cluster;
    // Path and host rewrites; Envoy keeps the original path for the access log.
    const rewritten = action.rewritePath(req);
    if (rewritten !== undefined) {
      req.headers.set('x-envoy-original-path', req.path);
      req.path = rewritten;
    }
    const hostRewrite = choice.hostRewriteLiteral ?? action.hostRewriteLiteral;
    if (hostRewrite) req.authority = hostRewrite;
    this.#choice = choice;
    applyRequestHeaderMutations(sel, req.headers, choice);
    if (!(cfg.filters[cfg.filters.length - 1]?.suppressEnvoyHeaders ?? false) && action.timeoutMs > 0) {
      req.headers.set('x-envoy-expected-rq-timeout-ms', String(action.timeoutMs));
    }
    const hash = action.hashPolicy.length > 0 ? computeRequestHash(action.hashPolicy, { headers: req.headers, sourceIp: this.conn.remoteAddress, path: req.path, authority: req.authority, method: req.method, scheme: req.scheme, addCookie: this.#addCookie }) : undefined;
    const host = cluster.chooseHost({ hash, random: Math.random });
    if (!host) {
      this.flags |= ResponseFlag.UH;
      this.sendLocalReply(503, 'no healthy upstream', 'no_healthy_upstream');
      return;
    }
    this.#host = host;
    if (action.autoHostRewrite && host.hostname) req.authority = host.hostname;
    if (cluster.activeRequests >= cluster.spec.limits.maxRequests) {
      cluster.stats.upstream_rq_pending_overflow.inc();
      this.flags |= ResponseFlag.UO;
      this.#sendOverflow();
      return;
    }
    if (!endStream) this.#buffered = [];
    this.#upstreamStart = performance.now();
    cluster.activeRequests++;
    host.activeRequests++;
    this.#pending = cluster.pool(host).newStream(this, this);
    if (endStream) this.#armRouteTimeout();
  }

  /** Request body bytes from downstream. */
  decodeData(chunk: Buffer, endStream: boolean): void {
    if (endStream) this.#requestDone();
    if (this.#done) return;
    this.bytesReceived += chunk.length;
    const up = this.#upstream;
    if (up) {
      up.encodeData(chunk, endStream);
      if (!endStream && !up.writable) this.#pauseDownstream(up);
    } else if (this.#buffered) {
      this.#buffered.push(Buffer.from(chunk));
      this.#bufferedBytes += chunk.length;
      // Waiting for a connection: hold at most a buffer limit's worth of body.
      if (this.#bufferedBytes > BUFFER_LIMIT && !this.#downstreamPaused) { this.#downstreamPaused = true; this.#encoder.readDisable(true); }
    }
    if (endStream && this.#cluster) this.#armRouteTimeout();
  }

  decodeTrailers(trailers: HeaderMap): void {
    this.#requestDone();
    if (this.#done) return;
    if (this.#upstream) this.#upstream.encodeTrailers(trailers);
    else this.#bufferedTrailers = trailers;
    if (this.#cluster) this.#armRouteTimeout();
  }

  #requestDone(): void {
    this.#requestEnded = true;
    if (this.#requestTimer) { clearTimeout(this.#requestTimer); this.#requestTimer = undefined; }
  }

  #onRequestTimeout = (): void => {
    this.#requestTimer = undefined;
    if (this.#done) return;
    this.rt.stats.downstream_rq_timeout.inc();
    this.#resetUpstream();
    this.sendLocalReply(408, 'request timeout', 'request_overall_timeout');
  };

  /** Nothing moved on this stream for stream_idle_timeout (the codec watches its socket). */
  onStreamIdleTimeout(): void {
    if (this.#done) return;
    this.rt.stats.downstream_rq_idle_timeout.inc();
    this.flags |= ResponseFlag.SI;
    this.#resetUpstream();
    if (this.#responseStarted) { this.#encoder.reset(); this.#finish(); return; }
    this.sendLocalReply(this.#requestEnded ? 504 : 408, 'stream timeout', 'stream_idle_timeout');
  }

  /** The downstream went away (connection closed, RST_STREAM). */
  onDownstreamReset(): void {
    if (this.#done) return;
    this.flags |= ResponseFlag.DC;
    this.rt.stats.downstream_rq_rx_reset.inc();
    this.#resetUpstream();
    this.#finish();
  }

  /** The downstream sent a malformed body: abort upstream, answer 400 if we still can. */
  onDownstreamProtocolError(status: number): void {
    if (this.#done) return;
    this.flags |= ResponseFlag.DPE;
    this.#resetUpstream();
    if (this.#responseStarted) { this.#encoder.reset(); this.#finish(); return; }
    this.sendLocalReply(status, 'Bad Request', 'http1.codec_error');
  }

  /** Dropped before it started (a parse error in the same read): counts, no log line. */
  abandon(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#requestTimer) clearTimeout(this.#requestTimer);
    this.rt.stats.downstream_rq_active.dec();
  }

  #pauseDownstream(up: UpstreamStream): void {
    if (this.#downstreamPaused) return;
    this.#downstreamPaused = true;
    this.#encoder.readDisable(true);
    up.onDrain = () => { up.onDrain = undefined; this.#resumeDownstream(); };
  }

  #resumeDownstream(): void {
    if (!this.#downstreamPaused) return;
    this.#downstreamPaused = false;
    this.#encoder.readDisable(false);
  }

  /** A cookie hash policy with a ttl and no cookie yet: Envoy makes one and sets it on the response. */
  #addCookie = (c: CookieToSet): string => {
    const value = generateCookieValue(`${this.conn.remoteAddress}:${this.conn.remotePort}`, `${this.conn.localAddress}:${this.conn.localPort}`);
    (this.#setCookies ??= []).push(makeSetCookieValue(c.name, value, c.path, c.ttlSeconds, true, c.attributes));
    return value;
  };

  // --- PoolCallbacks ---

  onPoolReady(stream: UpstreamStream): void {
    this.#pending = undefined;
    this.#cluster!.outlier?.onLocalOrigin(this.#host!, 'success');
    if (this.#done) { stream.reset(); return; }
    this.#upstream = stream;
    const req = this.req;
    const buffered = this.#buffered;
    this.#buffered = undefined;
    const trailers = this.#bufferedTrailers;
    const endNow = this.#requestEnded && (!buffered || buffered.length === 0) && !trailers;
    stream.encodeHeaders(req, endNow);
    if (buffered) {
      for (let i = 0; i < buffered.length; i++) {
        stream.encodeData(buffered[i]!, this.#requestEnded && !trailers && i === buffered.length - 1);
      }
      if (buffered.length === 0 && this.#requestEnded && !trailers && !endNow) stream.encodeData(EMPTY, true);
    }
    if (trailers) stream.encodeTrailers(trailers);
    this.#bufferedBytes = 0;
    if (!this.#requestEnded && !stream.writable) { this.#downstreamPaused = false; this.#pauseDownstream(stream); }
    else this.#resumeDownstream();
  }

  onPoolFailure(reason: PoolFailure, detail: string): void {
    this.#pending = undefined;
    this.#releaseUpstream();
    if (reason !== 'overflow') this.#cluster!.outlier?.onLocalOrigin(this.#host!, 'connect_failed');
    if (this.#done) return;
    if (reason === 'overflow') {
      this.flags |= ResponseFlag.UO;
      this.#sendOverflow();
      return;
    }
    this.flags |= ResponseFlag.UF;
    this.sendLocalReply(503, `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${detail}`, 'upstream_reset_before_response_started{connection_failure}');
  }

  // --- UpstreamResponseHandler ---

  onUpstreamHeaders(status: number, headers: HeaderMap, endStream: boolean): void {
    if (this.#done) return;
    this.#cluster!.outlier?.onHttpStatus(this.#host!, status);
    this.#clearTimer();
    const now = performance.now();
    this.#firstUpstreamByteMs = now - this.#start;
    const sel = this.#selection!;
    const cfg = this.rt.config;
    headers.set('x-envoy-upstream-service-time', String(Math.round(now - this.#upstreamStart)));
    // Only HTTP/2 upstreams and chunked HTTP/1.1 bodies can end with trailers.
    const trailersExpected = !endStream && (this.#cluster!.spec.http2 || headers.has('transfer-encoding'));
    stripHopByHop(headers);
    headers.set('server', cfg.serverName);
    if (cfg.alwaysSetRequestIdInResponse && this.#requestId) headers.set('x-request-id', this.#requestId);
    applyResponseHeaderMutations(sel, headers, this.#choice);
    if (this.#setCookies) for (const c of this.#setCookies) headers.add('set-cookie', c);
    this.status = status;
    this.#responseStarted = true;
    this.#responseHeaders = headers;
    this.#details = 'via_upstream';
    this.#encoder.encodeHeaders(status, headers, endStream, trailersExpected);
    if (endStream) this.#upstreamComplete();
  }

  onUpstreamData(chunk: Buffer, endStream: boolean): void {
    if (this.#done) return;
    this.bytesSent += chunk.length;
    this.#encoder.encodeData(chunk, endStream);
    if (endStream) { this.#upstreamComplete(); return; }
    // The downstream is slower than the upstream: stop reading the upstream until it drains.
    if (!this.#encoder.writable && this.#upstream) { this.#upstream.readDisable(true); this.#upstreamPaused = true; }
  }

  /** The downstream took what was buffered for it. */
  onDownstreamDrain(): void {
    if (this.#upstreamPaused && this.#upstream) { this.#upstreamPaused = false; this.#upstream.readDisable(false); }
  }

  onUpstreamTrailers(trailers: HeaderMap): void {
    if (this.#done) return;
    this.#responseTrailers = trailers;
    this.#encoder.encodeTrailers(trailers);
    this.#upstreamComplete();
  }

  onUpstreamReset(reason: UpstreamResetReason, detail: string): void {
    this.#upstream = undefined;
    this.#releaseUpstream();
    if (this.#done) return;
    if (reason !== 'overflow') this.#cluster!.outlier?.onLocalOrigin(this.#host!, 'reset');
    this.#cluster?.stats.upstream_rq_rx_reset.inc();
    if (this.#responseStarted) {
      // Too late for a local reply: the downstream sees the reset.
      this.flags |= ResponseFlag.UC;
      this.#encoder.reset();
      this.#finish();
      return;
    }
    if (reason === 'protocol_error') {
      this.flags |= ResponseFlag.UPE;
      this.sendLocalReply(502, `upstream connect error or disconnect/reset before headers. reset reason: protocol error`, 'upstream_reset_before_response_started{protocol_error}');
      return;
    }
    this.flags |= reason === 'connect_failure' ? ResponseFlag.UF : reason === 'overflow' ? ResponseFlag.UO : reason === 'remote_reset' ? ResponseFlag.UR : ResponseFlag.UC;
    const words = reason === 'connection_termination' ? 'connection termination' : reason.replace('_', ' ');
    this.sendLocalReply(503, `upstream connect error or disconnect/reset before headers. reset reason: ${words}`, `upstream_reset_before_response_started{${reason}}`);
  }

  // --- local replies ---

  /** Answers from the proxy itself (Envoy's sendLocalReply): text body, no upstream. */
  sendLocalReply(status: number, body: string | Buffer | undefined, details: string): void {
    const buf = body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body) : body;
    const h = new HeaderMap();
    if (buf.length > 0) h.add('content-type', 'text/plain');
    this.#sendLocal(status, h, buf, details);
  }

  #sendOverflow(): void {
    const h = new HeaderMap(['x-envoy-overloaded', 'true', 'content-type', 'text/plain']);
    this.#sendLocal(503, h, Buffer.from('upstream connect error or disconnect/reset before headers. reset reason: overflow'), 'upstream_reset_before_response_started{overflow}');
  }

  #sendLocal(status: number, h: HeaderMap, body: Buffer, details: string): void {
    if (this.#done) return;
    this.#clearTimer();
    if (this.#responseStarted) { this.#encoder.reset(); this.#finish(); return; }
    h.add('content-length', String(body.length));
    h.add('date', new Date().toUTCString());
    h.add('server', this.rt.config.serverName);
    if (this.#selection) applyResponseHeaderMutations(this.#selection, h, this.#choice);
    this.status = status;
    this.#details = details;
    this.#responseStarted = true;
    this.#responseHeaders = h;
    this.bytesSent += body.length;
    const headOnly = this.req?.method === 'HEAD' || body.length === 0;
    this.#encoder.encodeHeaders(status, h, headOnly);
    if (!headOnly) this.#encoder.encodeData(body, true);
    this.#resetUpstream();
    this.#finish();
  }

  // --- internals ---

  #armRouteTimeout(): void {
    const action = this.#selection?.route.action;
    if (!action || action.kind !== 'forward' || action.timeoutMs <= 0 || this.#timer || this.#responseStarted) return;
    this.#timer = setTimeout(this.#onRouteTimeout, action.timeoutMs);
  }

  #onRouteTimeout = (): void => {
    this.#timer = undefined;
    if (this.#done) return;
    this.#cluster?.stats.upstream_rq_timeout.inc();
    if (this.#host) this.#cluster!.outlier?.onLocalOrigin(this.#host, 'timeout');
    this.flags |= ResponseFlag.UT;
    this.#resetUpstream();
    this.sendLocalReply(504, 'upstream request timeout', 'upstream_response_timeout');
  };

  #clearTimer(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
  }

  #resetUpstream(): void {
    if (this.#pending) { this.#pending.cancel(); this.#pending = undefined; this.#releaseUpstream(); }
    const up = this.#upstream;
    if (up) {
      this.#upstream = undefined;
      this.#cluster?.stats.upstream_rq_tx_reset.inc();
      up.reset();
      this.#releaseUpstream();
    }
  }

  #hostReleased = false;
  #releaseUpstream(): void {
    if (this.#hostReleased || !this.#host) return;
    this.#hostReleased = true;
    this.#host.activeRequests--;
    this.#cluster!.activeRequests--;
  }

  #upstreamComplete(): void {
    this.#upstream = undefined;
    this.#releaseUpstream();
    const c = this.#cluster;
    if (c) c.stats.recordResponse(this.status, performance.now() - this.#upstreamStart);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    if (this.#requestTimer) { clearTimeout(this.#requestTimer); this.#requestTimer = undefined; }
    const stats = this.rt.stats;
    stats.downstream_rq_active.dec();
    if (this.status > 0) stats.recordResponse(this.status);
    stats.downstream_rq_completed.inc();
    stats.downstream_rq_time.record(performance.now() - this.#start);
    if (this.rt.config.accessLogs.length > 0) logAccess(this.rt.config.accessLogs, this);
    this.onDone?.(this);
  }

  /** Milliseconds since the stream started. */
  elapsedMs(): number {
    return performance.now() - this.#start;
  }

  get firstUpstreamByteMs(): number {
    return this.#firstUpstreamByteMs;
  }
}
