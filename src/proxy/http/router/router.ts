import { HeaderMap } from '../headers.js';
import type { RequestHeaders, UpstreamResetReason } from '../stream.js';
import type { ForwardAction } from '../route/action.js';
import type { RouteSelection } from '../route/route-table.js';
import type { ClusterChoice } from '../route/weighted-clusters.js';
import { applyRequestHeaderMutations } from '../route/header-mutation.js';
import type { LocalReplyOptions } from '../filters/types.js';
import type { ConnectionInfo } from '../conn-manager/connection-info.js';
import type { DownstreamAddress } from '../conn-manager/remote-address.js';
import type { HcmRuntime } from '../conn-manager/http-stream.js';
import type { UpstreamCluster } from '../../upstream/cluster.js';
import type { UpstreamHost } from '../../upstream/host.js';
import type { ResourceManager } from '../../upstream/circuit-breakers.js';
import type { PoolFailure } from '../../upstream/pool.js';
import type { UpstreamTlsPrincipals } from '../../tls/upstream-transport.js';
import { computeRequestHash, type CookieToSet } from '../../upstream/lb/hash-policy.js';
import { ResponseFlag } from '../../admin/access-log/response-flags.js';
import { UpstreamRequest, type AttemptOwner } from './upstream-request.js';
import { backoffMs, effectiveRetryPolicy, retriableFailure, retriableResponse, type AttemptFailure, type EffectivePolicy } from './retry-policy.js';
import { requestTimeouts } from './timeouts.js';
import { sendShadows } from './shadow.js';
import { grpcStatusOf, httpStatusForGrpc } from '../grpc.js';
import { Deadline } from '../../io/deadline.js';

/** What the router needs from the connection manager's stream it terminates. */
export interface RouterStream {
  readonly rt: HcmRuntime;
  readonly conn: ConnectionInfo;
  /** The client's address as the connection manager trusts it (hash policy source_ip). */
  readonly downstreamAddress: DownstreamAddress;
  readonly req: RequestHeaders;
  readonly isGrpc: boolean;
  flags: number;
  /** Whether the downstream can take more response now. */
  readonly downstreamWritable: boolean;
  readDisableDownstream(disable: boolean): void;
  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean, trailersExpected: boolean): void;
  encodeData(chunk: Buffer, endStream: boolean): void;
  encodeTrailers(trailers: HeaderMap): void;
  /** The response has started and cannot be replaced: reset the downstream stream. */
  resetDownstream(): void;
  sendLocalReply(status: number, body: string, details: string, opts?: LocalReplyOptions): void;
  /** A cookie hash policy made a cookie: set it on the response. */
  addCookie(c: CookieToSet): string;
  /** The upstream response is complete. */
  onRouterComplete(details: string): void;
}

const EMPTY = Buffer.alloc(0);
/** Envoy's default per_connection_buffer_limit_bytes: request body held for a retry or a shadow. */
export const DEFAULT_BUFFER_LIMIT = 1024 * 1024;

const NOTHING = (): void => {};

const OVERFLOW_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

/**
 * Envoy's router filter for one request: picks the cluster and host, sends the request as one
 * or more attempts (retries with back-off, per-try and whole-request timeouts, circuit
 * breakers), mirrors it to shadow clusters, and relays the chosen attempt's response.
 */
export class Router implements AttemptOwner {
  readonly #s: RouterStream;
  readonly #sel: RouteSelection;
  readonly #action: ForwardAction;
  #choice: ClusterChoice | undefined;
  /** The weighted cluster picked (its response header mutations apply). */
  get choice(): ClusterChoice | undefined { return this.#choice; }
  cluster: UpstreamCluster | undefined;
  #res!: ResourceManager;
  #hash: bigint | undefined;
  #policy: EffectivePolicy | undefined;
  #retriesLeft = 0;
  #retries = 0;
  #holdsRetry = false;
  #previousHosts: UpstreamHost[] | undefined;
  #attempt: UpstreamRequest | undefined;
  /** The attempt whose response went (or goes) downstream; for the access log. */
  host: UpstreamHost | undefined;
  /** The certificates' URI SANs of the connection the attempt that got going was sent on (TLS only). */
  upstreamTls: UpstreamTlsPrincipals | undefined;
  attempts = 0;
  /** Request body kept for attempts not yet sent it, and for retries and shadows. */
  #chunks: Buffer[] = [];
  #bytes = 0;
  /** Every body byte is still held, so another attempt or a shadow can be sent it all. */
  #replayable = true;
  #bufferLimit = DEFAULT_BUFFER_LIMIT;
  #requestEnded = false;
  /** The request head ended the request (no body at all). */
  #bodyless = false;
  #trailers: HeaderMap | undefined;
  #downstreamPaused = false;
  #upstreamPaused = false;
  #globalMs = 0;
  #perTryMs = 0;
  #globalTimer: Deadline | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #responseStarted = false;
  #done = false;
  #firstStartMs = 0;
  firstByteMs = -1;
  status = 0;

  constructor(s: RouterStream, sel: RouteSelection, action: ForwardAction) {
    this.#s = s;
    this.#sel = sel;
    this.#action = action;
  }

  /** Starts routing the request whose head the stream has (`endStream`: it has no body). */
  start(endStream: boolean): void {
    const s = this.#s;
    const req = s.req;
    const action = this.#action;
    const choice = action.pickClusterEntry(Math.random());
    const cluster = s.rt.clusters.get(choice.name);
    if (!cluster) {
      s.rt.stats.no_cluster.inc();
      s.flags |= ResponseFlag.NC;
      this.#finishLocal(action.clusterNotFoundStatus, '', 'cluster_not_found');
      return;
    }
    this.cluster = cluster;
    this.#choice = choice;
    this.#res = cluster.resources[action.priority];
    const rewritten = action.rewritePath(req);
    if (rewritten !== undefined) {
      req.headers.set('x-envoy-original-path', req.path);
      req.path = rewritten;
    }
    const hostRewrite = choice.hostRewriteLiteral ?? action.hostRewriteLiteral;
    if (hostRewrite) req.authority = hostRewrite;
    applyRequestHeaderMutations(this.#sel, req.headers, choice);
    const t = requestTimeouts(action.timeouts, req.headers, s.isGrpc);
    this.#globalMs = t.globalMs;
    this.#perTryMs = t.perTryMs;
    const cfg = s.rt.config;
    if (!(cfg.filters[cfg.filters.length - 1]?.suppressEnvoyHeaders ?? false)) {
      const expected = t.perTryMs > 0 ? t.perTryMs : t.globalMs;
      if (expected > 0) req.headers.set('x-envoy-expected-rq-timeout-ms', String(expected));
    }
    this.#policy = effectiveRetryPolicy(action.retryPolicy, req);
    this.#retriesLeft = this.#policy?.numRetries ?? 0;
    if (action.perRequestBufferLimitBytes !== undefined) this.#bufferLimit = action.perRequestBufferLimitBytes;
    if (action.hashPolicy.length > 0) {
      this.#hash = computeRequestHash(action.hashPolicy, { headers: req.headers, sourceIp: s.downstreamAddress.address, path: req.path, authority: req.authority, method: req.method, scheme: req.scheme, addCookie: (c) => s.addCookie(c) });
    }
    this.#requestEnded = endStream;
    this.#bodyless = endStream;
    this.#firstStartMs = performance.now();
    this.#startAttempt();
    if (endStream && !this.#done) this.#onRequestEnd();
  }

  decodeData(chunk: Buffer, endStream: boolean): void {
    if (this.#done) return;
    if (endStream) this.#requestEnded = true;
    const up = this.#attempt?.stream;
    if (up) up.encodeData(chunk, endStream);
    // Hold the body while another attempt or a shadow may need it, and while no attempt has a
    // stream to take it; past the buffer limit, retries and shadows are given up.
    if (!up || this.#replayable) {
      if (chunk.length > 0) { this.#chunks.push(Buffer.from(chunk)); this.#bytes += chunk.length; }
      if (this.#bytes > this.#bufferLimit) {
        if (this.#replayable) this.#abandonReplay();
        if (!up && !this.#downstreamPaused) { this.#downstreamPaused = true; this.#s.readDisableDownstream(true); }
      }
    }
    if (up && !endStream && !up.writable) this.#pauseDownstream();
    if (endStream) this.#onRequestEnd();
  }

  decodeTrailers(trailers: HeaderMap): void {
    if (this.#done) return;
    this.#requestEnded = true;
    this.#trailers = trailers;
    const up = this.#attempt?.stream;
    if (up) up.encodeTrailers(trailers);
    this.#onRequestEnd();
  }

  /** The downstream took what was buffered for it. */
  onDownstreamDrain(): void {
    const up = this.#attempt?.stream;
    if (this.#upstreamPaused && up) { this.#upstreamPaused = false; up.readDisable(false); }
  }

  /** The stream ends for another reason (downstream reset, a local reply, a stream timeout). */
  reset(): void {
    this.#endWith(NOTHING);
  }

  #abandonReplay(): void {
    this.#replayable = false;
    this.cluster?.stats.retry_or_shadow_abandoned.inc();
    // What the current attempt was sent is no longer needed.
    if (this.#attempt?.stream) { this.#chunks = []; this.#bytes = 0; }
  }

  #onRequestEnd(): void {
    if (this.#globalMs > 0 && !this.#globalTimer) { this.#globalTimer = new Deadline(this.#onGlobalTimeout); this.#globalTimer.arm(this.#globalMs); }
    this.#attempt?.armPerTry(this.#perTryMs);
    if (this.#action.mirrors.length > 0) {
      if (this.#replayable) sendShadows(this.#s.rt, this.#action.mirrors, this.#s.req, this.#bodyless, this.#chunks, this.#trailers, this.#globalMs);
    }
  }

  #pickHost(cluster: UpstreamCluster): UpstreamHost | undefined {
    const s = this.#s;
    const ctx = { hash: this.#hash, random: Math.random, originalDst: s.conn.originalDst, headers: s.req.headers };
    let host = cluster.chooseHost(ctx);
    const prev = this.#previousHosts;
    if (host && prev && this.#policy?.avoidPreviousHosts) {
      // previous_hosts: re-pick up to host_selection_retry_max_attempts times to avoid hosts tried.
      for (let i = 0; i < this.#policy.hostSelectionMaxAttempts && prev.includes(host); i++) {
        host = cluster.chooseHost(ctx) ?? host;
      }
    }
    return host;
  }

  #startAttempt(): void {
    this.#backoffTimer = undefined;
    if (this.#done) return;
    const s = this.#s;
    const cluster = this.cluster!;
    const host = this.#pickHost(cluster);
    if (!host) {
      s.flags |= ResponseFlag.UH;
      this.#finishLocal(503, 'no healthy upstream', 'no_healthy_upstream');
      return;
    }
    if (this.#action.autoHostRewrite && host.hostname) s.req.authority = host.hostname;
    // The attempt owns this unit of max_requests from here and gives it back when it ends.
    if (!this.#res.requests.tryAcquire()) {
      cluster.stats.upstream_rq_pending_overflow.inc();
      this.#overflow();
      return;
    }
    const pool = cluster.pool(host, this.#action.priority);
    if (!pool) { this.#res.requests.dec(); this.#overflow(); return; }
    const n = ++this.attempts;
    if (this.#sel.virtualHost.includeRequestAttemptCount) s.req.headers.set('x-envoy-attempt-count', String(n));
    this.host = host;
    const a = new UpstreamRequest(this, host, this.#res, cluster.stats, n);
    this.#attempt = a;
    a.start(pool);
    if (this.#requestEnded && this.#attempt === a) a.armPerTry(this.#perTryMs);
  }

  // --- AttemptOwner ---

  onAttemptReady(a: UpstreamRequest): void {
    if (a !== this.#attempt) return;
    this.cluster!.outlier?.onLocalOrigin(a.host, 'success');
    const up = a.stream!;
    this.upstreamTls = up.tlsPrincipals;
    if (this.#bodyless) { up.encodeHeaders(this.#s.req, true); return; }
    const chunks = this.#chunks;
    const trailers = this.#trailers;
    const ended = this.#requestEnded;
    up.encodeHeaders(this.#s.req, false);
    for (let i = 0; i < chunks.length; i++) up.encodeData(chunks[i]!, ended && !trailers && i === chunks.length - 1);
    if (ended && !trailers && chunks.length === 0) up.encodeData(EMPTY, true);
    if (trailers) up.encodeTrailers(trailers);
    if (!this.#replayable) { this.#chunks = []; this.#bytes = 0; }
    if (!ended && !up.writable) this.#pauseDownstream();
    else this.#resumeDownstream();
  }

  onAttemptPoolFailure(a: UpstreamRequest, reason: PoolFailure, detail: string): void {
    if (a !== this.#attempt || this.#done) return;
    this.#attempt = undefined;
    if (reason === 'overflow') { this.#overflow(); return; }
    this.cluster!.outlier?.onLocalOrigin(a.host, 'connect_failed');
    if (this.#maybeRetry('connect_failure')) return;
    this.#s.flags |= ResponseFlag.UF;
    this.#finishLocal(503, `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${detail}`, 'upstream_reset_before_response_started{connection_failure}');
  }

  onAttemptHeaders(a: UpstreamRequest, status: number, headers: HeaderMap, endStream: boolean): void {
    if (a !== this.#attempt || this.#done) return;
    const s = this.#s;
    const cluster = this.cluster!;
    if (status >= 200) this.#reportHead(a.host, status, headers);
    const p = this.#policy;
    if (p && status >= 200 && retriableResponse(p, status, headers)) {
      this.#attempt = undefined;
      const decision = this.#retryDecision();
      if (decision === 'retry') {
        a.reset();
        this.#scheduleRetry();
        return;
      }
      this.#attempt = a;
      this.#noteNoRetry(decision);
    } else if (this.attempts > 1) {
      cluster.stats.upstream_rq_retry_success.inc();
    }
    if (status < 200) return; // 1xx informational: not relayed (100-continue is answered by the proxy)
    a.cancelPerTry();
    this.#responseStarted = true;
    this.status = status;
    const now = performance.now();
    this.firstByteMs = now;
    headers.set('x-envoy-upstream-service-time', String(Math.round(now - a.startMs)));
    if (this.#sel.virtualHost.includeAttemptCountInResponse) headers.set('x-envoy-attempt-count', String(this.attempts));
    // Only HTTP/2 upstreams and chunked HTTP/1.1 bodies can end with trailers.
    const trailersExpected = !endStream && (cluster.spec.http2 || headers.has('transfer-encoding'));
    s.encodeHeaders(status, headers, endStream, trailersExpected);
    if (endStream) this.#complete(a);
  }

  /**
   * What a final response head tells the cluster about its host (Envoy's onUpstreamHeaders):
   * outlier detection counts its status, or for a gRPC request the HTTP status its grpc-status
   * maps to when the head carries one (a trailers-only answer; a grpc-status in trailers is not
   * counted, as in Envoy); x-envoy-immediate-health-check-fail fails the host's active health
   * check at once.
   */
  #reportHead(host: UpstreamHost, status: number, headers: HeaderMap): void {
    const cluster = this.cluster!;
    if (cluster.outlier) {
      const gs = this.#s.isGrpc ? grpcStatusOf(headers) : undefined;
      cluster.outlier.onHttpStatus(host, gs !== undefined ? httpStatusForGrpc(gs) : status);
    }
    if (headers.has('x-envoy-immediate-health-check-fail')) cluster.onImmediateHealthCheckFail(host);
  }

  onAttemptData(a: UpstreamRequest, chunk: Buffer, endStream: boolean): void {
    if (a !== this.#attempt || this.#done || !this.#responseStarted) return;
    this.#s.encodeData(chunk, endStream);
    if (endStream) { this.#complete(a); return; }
    if (!this.#s.downstreamWritable && a.stream) { a.stream.readDisable(true); this.#upstreamPaused = true; }
  }

  onAttemptTrailers(a: UpstreamRequest, trailers: HeaderMap): void {
    if (a !== this.#attempt || this.#done || !this.#responseStarted) return;
    this.#s.encodeTrailers(trailers);
    this.#complete(a);
  }

  onAttemptDrain(a: UpstreamRequest): void {
    if (a === this.#attempt) this.#resumeDownstream();
  }

  onAttemptReset(a: UpstreamRequest, reason: UpstreamResetReason, detail: string): void {
    if (a !== this.#attempt || this.#done) return;
    this.#attempt = undefined;
    const s = this.#s;
    const cluster = this.cluster!;
    cluster.stats.upstream_rq_rx_reset.inc();
    if (this.#responseStarted) {
      // Too late for a local reply or a retry: the downstream sees the reset.
      s.flags |= reason === 'remote_reset' ? ResponseFlag.UR : ResponseFlag.UC;
      this.#endWith(() => s.resetDownstream());
      return;
    }
    if (reason === 'overflow') { this.#overflow(); return; }
    cluster.outlier?.onLocalOrigin(a.host, reason === 'connect_failure' ? 'connect_failed' : 'reset');
    const failure: AttemptFailure = reason === 'connect_failure' ? 'connect_failure' : /refused/i.test(detail) ? 'refused_stream' : 'reset';
    if (this.#maybeRetry(failure)) return;
    if (reason === 'protocol_error') {
      s.flags |= ResponseFlag.UPE;
      this.#finishLocal(502, 'upstream connect error or disconnect/reset before headers. reset reason: protocol error', 'upstream_reset_before_response_started{protocol_error}');
      return;
    }
    s.flags |= reason === 'connect_failure' ? ResponseFlag.UF : reason === 'remote_reset' ? ResponseFlag.UR : ResponseFlag.UC;
    const words = reason === 'connection_termination' ? 'connection termination' : reason.replace('_', ' ');
    this.#finishLocal(503, `upstream connect error or disconnect/reset before headers. reset reason: ${words}`, `upstream_reset_before_response_started{${reason}}`);
  }

  onPerTryTimeout(a: UpstreamRequest): void {
    if (a !== this.#attempt || this.#done || this.#responseStarted) return;
    this.#attempt = undefined;
    const cluster = this.cluster!;
    cluster.stats.upstream_rq_per_try_timeout.inc();
    cluster.outlier?.onLocalOrigin(a.host, 'timeout');
    a.reset();
    if (this.#maybeRetry('per_try_timeout')) return;
    this.#s.flags |= ResponseFlag.UT;
    this.#finishLocal(504, 'upstream request timeout', 'upstream_per_try_timeout');
  }

  #onGlobalTimeout = (): void => {
    this.#globalTimer = undefined;
    if (this.#done) return;
    const s = this.#s;
    const cluster = this.cluster!;
    cluster.stats.upstream_rq_timeout.inc();
    s.flags |= ResponseFlag.UT;
    const a = this.#attempt;
    if (a && !this.#responseStarted) cluster.outlier?.onLocalOrigin(a.host, 'timeout');
    if (this.#responseStarted) {
      this.#endWith(() => s.resetDownstream());
      return;
    }
    const alt = s.req.headers.has('x-envoy-upstream-rq-timeout-alt-response');
    this.#finishLocal(alt ? 204 : 504, alt ? '' : 'upstream request timeout', 'upstream_response_timeout');
  };

  // --- retries ---

  /** Retries after a failure without a response head if the policy covers it. */
  #maybeRetry(f: AttemptFailure): boolean {
    const p = this.#policy;
    if (!p || !retriableFailure(p, f)) return false;
    const decision = this.#retryDecision();
    if (decision === 'retry') { this.#scheduleRetry(); return true; }
    this.#noteNoRetry(decision);
    return false;
  }

  #retryDecision(): 'retry' | 'limit' | 'overflow' | 'body' {
    if (this.#retriesLeft <= 0) return 'limit';
    if (!this.#replayable) return 'body';
    // This request's previous retry stops counting as it is replaced by the next one.
    this.#releaseRetry();
    if (!this.#res.retries.tryAcquire()) return 'overflow';
    this.#holdsRetry = true;
    return 'retry';
  }

  #noteNoRetry(decision: 'limit' | 'overflow' | 'body' | 'retry'): void {
    const stats = this.cluster!.stats;
    if (decision === 'limit') {
      stats.upstream_rq_retry_limit_exceeded.inc();
      this.#s.flags |= ResponseFlag.URX;
    } else if (decision === 'overflow') {
      stats.upstream_rq_retry_overflow.inc();
      this.#s.flags |= ResponseFlag.UO;
    }
  }

  #scheduleRetry(): void {
    const p = this.#policy!;
    const stats = this.cluster!.stats;
    this.#retriesLeft--;
    this.#retries++;
    stats.upstream_rq_retry.inc();
    stats.upstream_rq_retry_backoff_exponential.inc();
    if (p.avoidPreviousHosts && this.host) (this.#previousHosts ??= []).push(this.host);
    const delay = backoffMs(this.#retries, p.baseIntervalMs, p.maxIntervalMs, Math.random);
    this.#backoffTimer = setTimeout(() => this.#startAttempt(), delay);
  }

  #releaseRetry(): void {
    if (this.#holdsRetry) { this.#holdsRetry = false; this.#res.retries.dec(); }
  }

  // --- endings ---

  #overflow(): void {
    this.#s.flags |= ResponseFlag.UO;
    this.#finishLocal(503, OVERFLOW_BODY, 'upstream_reset_before_response_started{overflow}', { headers: [['x-envoy-overloaded', 'true']] });
  }

  #finishLocal(status: number, body: string, details: string, opts?: LocalReplyOptions): void {
    this.#endWith(() => this.#s.sendLocalReply(status, body, details, opts));
  }

  /** Ends routing (timers, attempt, retry slot) and then answers or resets the downstream. */
  #endWith(answer: () => void): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimers();
    this.#attempt?.reset();
    this.#attempt = undefined;
    this.#releaseRetry();
    answer();
  }

  #complete(a: UpstreamRequest): void {
    this.#done = true;
    this.#clearTimers();
    a.complete();
    this.#attempt = undefined;
    this.#releaseRetry();
    this.cluster!.stats.recordResponse(this.status, performance.now() - this.#firstStartMs);
    this.#s.onRouterComplete('via_upstream');
  }

  #clearTimers(): void {
    if (this.#globalTimer) { this.#globalTimer.cancel(); this.#globalTimer = undefined; }
    if (this.#backoffTimer) { clearTimeout(this.#backoffTimer); this.#backoffTimer = undefined; }
  }

  #pauseDownstream(): void {
    if (this.#downstreamPaused) return;
    this.#downstreamPaused = true;
    this.#s.readDisableDownstream(true);
  }

  #resumeDownstream(): void {
    if (!this.#downstreamPaused) return;
    this.#downstreamPaused = false;
    this.#s.readDisableDownstream(false);
  }
}
