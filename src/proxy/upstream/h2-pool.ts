import { upstreamTlsPrincipals, type UpstreamTlsPrincipals } from '../tls/upstream-transport.js';
import net from 'node:net';
import { HeaderMap } from '../http/headers.js';
import type { RequestHeaders, UpstreamResetReason, UpstreamResponseHandler, UpstreamStream } from '../http/stream.js';
import { connectionReusable, connectionRetireAt, type ConnPool, type PendingHandle, type PoolCallbacks, type PoolLimits } from './pool.js';
import type { UpstreamHost } from './host.js';
import type { ClusterStats } from './cluster-stats.js';
import { Http2Connection, type H2ConnectionEvents, type H2ConnectionOptions } from '../http/h2/connection.js';
import { CANCEL, NO_ERROR, REFUSED_STREAM, errorName } from '../http/h2/constants.js';
import { level, log } from '../log.js';
import type { H2ResponseHead } from '../http/h2/header-validation.js';
import { ResetCause, type H2Stream, type H2StreamHandler } from '../http/h2/stream.js';

const CLIENT_OPTIONS: H2ConnectionOptions = {
  role: 'client',
  maxConcurrentStreams: 0, // push is disabled: the server opens no streams
  streamWindow: 256 * 1024,
  connectionWindow: 1024 * 1024,
  maxHeaderListSize: 96 * 1024,
  maxHeaderCount: 200,
};

/**
 * HTTP/2 to one host on tsmesh's own codec (../http/h2): multiplexed connections, each
 * carrying up to min(the server's SETTINGS_MAX_CONCURRENT_STREAMS, the cluster's
 * max_requests) streams. Requests that find no free stream wait (pending) for one, or for a
 * new connection when the busy ones are full and max_connections allows another.
 */
export class H2ConnPool implements ConnPool {
  #clients: H2Client[] = [];
  #waiting: Waiter[] = [];

  constructor(readonly host: UpstreamHost, readonly limits: PoolLimits, readonly stats: ClusterStats) {}

  get transport(): PoolLimits['transport'] {
    return this.limits.transport;
  }

  get activeConnections(): number {
    return this.#clients.length;
  }

  newStream(handler: UpstreamResponseHandler, cb: PoolCallbacks): PendingHandle | undefined {
    const c = this.#free();
    if (c) {
      cb.onPoolReady(new H2UpstreamStream(c, handler));
      return undefined;
    }
    if (this.limits.resources && !this.limits.resources.pendingRequests.tryAcquire()) {
      this.stats.upstream_rq_pending_overflow.inc();
      cb.onPoolFailure('overflow', 'pending requests overflow');
      return undefined;
    }
    const w = new Waiter(this, handler, cb);
    this.#waiting.push(w);
    this.stats.upstream_rq_pending_total.inc();
    this.stats.upstream_rq_pending_active.inc();
    this.#connectIfNeeded();
    return w;
  }

  drain(): void {
    for (const c of [...this.#clients]) c.drain();
  }

  /** A ready connection with a free stream: the most loaded one first (fewer connections in use). */
  #free(): H2Client | undefined {
    let best: H2Client | undefined;
    let stale: H2Client[] | undefined;
    for (const c of this.#clients) {
      if (!c.ready || !c.conn.canOpenStream) continue;
      if (c.streams >= Math.min(c.conn.peerMaxConcurrentStreams, this.limits.maxConcurrentStreams ?? Infinity, this.limits.resources?.requests.max ?? 1024)) continue;
      if (!c.reusable()) { if (c.streams === 0) (stale ??= []).push(c); continue; }
      if (!best || c.streams > best.streams) best = c;
    }
    // An idle connection past its max_connection_duration closes (not while iterating: closing
    // removes it from #clients and dispatches again).
    if (stale) queueMicrotask(() => { for (const c of stale!) c.drain(); });
    return best;
  }

  #pendingDone(): void {
    this.limits.resources?.pendingRequests.dec();
    this.stats.upstream_rq_pending_active.dec();
  }

  #connect(): void {
    this.limits.resources?.connections.inc();
    this.stats.upstream_cx_total.inc();
    this.stats.upstream_cx_active.inc();
    this.#clients.push(new H2Client(this));
  }

  /** @internal a connection came up or a stream ended: waiting requests take free streams. */
  dispatch(): void {
    while (this.#waiting.length > 0) {
      const c = this.#free();
      if (!c) break;
      const w = this.#waiting.shift()!;
      this.#pendingDone();
      w.cb.onPoolReady(new H2UpstreamStream(c, w.handler));
    }
    if (this.#waiting.length > 0) this.#connectIfNeeded();
  }

  /** Requests wait and every connection is full: another one, unless one is coming up. */
  #connectIfNeeded(): void {
    if (this.#clients.some((x) => !x.ready && !x.conn.closed)) return;
    // max_connections counts across pools and workers; a pool with no connection may still open one.
    const res = this.limits.resources;
    if (!res || this.#clients.length === 0 || res.connections.canCreate()) this.#connect();
    else this.stats.upstream_cx_overflow.inc();
  }

  /** @internal */
  onClosed(c: H2Client, connected: boolean): void {
    const i = this.#clients.indexOf(c);
    if (i >= 0) { this.#clients.splice(i, 1); this.limits.resources?.connections.dec(); }
    this.stats.upstream_cx_active.dec();
    if (connected) { this.dispatch(); return; }
    this.stats.upstream_cx_connect_fail.inc();
    if (this.#clients.some((x) => x.ready || !x.conn.closed)) { this.dispatch(); return; }
    for (const w of this.#waiting.splice(0)) {
      this.#pendingDone();
      w.cb.onPoolFailure('connect_failure', 'connection refused or failed');
    }
  }

  /** @internal */
  removeWaiter(w: Waiter): void {
    const i = this.#waiting.indexOf(w);
    if (i >= 0) { this.#waiting.splice(i, 1); this.#pendingDone(); }
  }
}

class Waiter implements PendingHandle {
  constructor(readonly pool: H2ConnPool, readonly handler: UpstreamResponseHandler, readonly cb: PoolCallbacks) {}
  cancel(): void {
    this.pool.removeWaiter(this);
  }
}

function debugging(): boolean {
  const l = level();
  return l === 'debug' || l === 'trace';
}

/** One upstream HTTP/2 connection. */
class H2Client implements H2ConnectionEvents {
  readonly pool: H2ConnPool;
  readonly socket: net.Socket;
  readonly conn: Http2Connection;
  ready = false;
  /** Streams handed out and not finished. */
  streams = 0;
  /** Streams ever handed out (max_requests_per_connection). */
  opened = 0;
  #retireAt: number;
  /** The URI SANs of the TLS connection's certificates, read once it is up. */
  tlsPrincipals: UpstreamTlsPrincipals | undefined;
  #lostWithActive = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(pool: H2ConnPool) {
    this.pool = pool;
    this.#retireAt = connectionRetireAt(pool.limits);
    const { host, limits } = pool;
    const t = limits.transport;
    // Over TLS without configured ALPN, offer h2 (Envoy sets it for HTTP/2 upstreams).
    const socket = (this.socket = t ? t.connect(host.address, host.port, t.tls && t.alpn.length === 0 ? ['h2'] : undefined) : net.connect({ host: host.address, port: host.port, noDelay: true }));
    this.conn = new Http2Connection(socket, CLIENT_OPTIONS, this);
    this.#timer = setTimeout(this.#onConnectTimeout, limits.connectTimeoutMs);
    socket.once(t ? t.readyEvent : 'connect', this.#onConnect);
  }

  reusable(): boolean {
    return connectionReusable(this.pool.limits, this.opened, this.#retireAt);
  }

  drain(): void {
    if (this.streams === 0 && this.ready) this.conn.destroy();
    else this.conn.goAway();
  }

  #onConnect = (): void => {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    this.ready = true;
    if (this.pool.limits.transport?.tls) {
      this.tlsPrincipals = upstreamTlsPrincipals(this.socket);
      this.#retireAt = Math.min(this.#retireAt, this.tlsPrincipals.notAfter);
    }
    // The idle timeout rides the socket's inactivity timer: no timer per request.
    const idle = this.pool.limits.idleTimeoutMs;
    if (idle > 0) this.socket.setTimeout(idle, this.#onIdle);
    this.pool.dispatch();
  };

  #onConnectTimeout = (): void => {
    this.#timer = undefined;
    this.pool.stats.upstream_cx_connect_timeout.inc();
    this.conn.destroy();
  };

  #onIdle = (): void => {
    if (this.streams > 0) { this.socket.setTimeout(this.pool.limits.idleTimeoutMs); return; }
    this.pool.stats.upstream_cx_idle_timeout.inc();
    this.conn.destroy();
  };

  // --- H2ConnectionEvents ---

  onGoaway(): void {
    // No new streams here; the pool opens another connection when requests wait.
    this.pool.dispatch();
  }

  onConnectionError(code: number, why: string): void {
    this.pool.stats.upstream_cx_protocol_error.inc();
    if (debugging()) log.debug(`http2: GOAWAY ${errorName(code)} to upstream ${this.pool.host.key}: ${why}`);
  }

  onStreamError(id: number, code: number, why: string): void {
    if (debugging()) log.debug(`http2: RST_STREAM ${errorName(code)} on stream ${id} to upstream ${this.pool.host.key}: ${why}`);
  }

  onClose(): void {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    this.pool.onClosed(this, this.ready);
  }

  onRead(bytes: number): void {
    this.pool.stats.upstream_cx_rx_bytes_total.inc(bytes);
  }

  onWrite(bytes: number): void {
    this.pool.stats.upstream_cx_tx_bytes_total.inc(bytes);
  }

  /** @internal the connection went away under a stream in progress (counted once). */
  lostWithActive(): void {
    if (this.#lostWithActive) return;
    this.#lostWithActive = true;
    this.pool.stats.upstream_cx_destroy_remote_with_active_rq.inc();
  }

  /** @internal a stream handed out has finished. */
  release(): void {
    this.streams--;
    if (this.streams === 0 && this.conn.goingAway) return; // the connection closes itself
    if (this.streams === 0 && !this.reusable()) { this.drain(); return; }
    this.pool.dispatch();
  }
}

/** One request on an upstream HTTP/2 connection. */
class H2UpstreamStream implements UpstreamStream, H2StreamHandler {
  readonly #client: H2Client;
  #stream: H2Stream | undefined;
  #handler: UpstreamResponseHandler | undefined;
  #done = false;
  onDrain: (() => void) | undefined;

  constructor(client: H2Client, handler: UpstreamResponseHandler) {
    this.#client = client;
    this.#handler = handler;
    client.streams++;
    client.opened++;
    const stats = client.pool.stats;
    stats.upstream_rq_total.inc();
    stats.upstream_rq_active.inc();
  }

  get tlsPrincipals(): UpstreamTlsPrincipals | undefined {
    return this.#client.tlsPrincipals;
  }

  encodeHeaders(req: RequestHeaders, endStream: boolean): void {
    const conn = this.#client.conn;
    if (!conn.canOpenStream) { this.#fail('connection_termination', 'the connection is going away'); return; }
    this.#stream = conn.request(req, req.headers.list, endStream, this);
  }

  encodeData(chunk: Buffer, endStream: boolean): void {
    this.#stream?.sendData(chunk, endStream);
  }

  encodeTrailers(trailers: HeaderMap): void {
    this.#stream?.sendTrailers(trailers.list);
  }

  get writable(): boolean {
    return this.#stream ? this.#stream.writable : true;
  }

  readDisable(disable: boolean): void {
    this.#stream?.readDisable(disable);
  }

  reset(): void {
    this.#handler = undefined;
    this.#finish();
    this.#stream?.reset(CANCEL);
  }

  // --- H2StreamHandler ---

  onResponseHeaders(_s: H2Stream, head: H2ResponseHead, endStream: boolean): void {
    const h = this.#handler;
    // A headers-only response (gRPC's trailers-only error) ends the stream right here.
    if (endStream) { this.#handler = undefined; this.#finish(); }
    h?.onUpstreamHeaders(head.status, new HeaderMap(head.fields), endStream);
  }

  onData(_s: H2Stream, chunk: Buffer, endStream: boolean): void {
    const h = this.#handler;
    if (endStream) { this.#handler = undefined; this.#finish(); }
    h?.onUpstreamData(chunk, endStream);
  }

  onTrailers(_s: H2Stream, fields: string[]): void {
    const h = this.#handler;
    this.#handler = undefined;
    this.#finish();
    h?.onUpstreamTrailers(new HeaderMap(fields));
  }

  onReset(_s: H2Stream, code: number, cause: ResetCause): void {
    const h = this.#handler;
    this.#handler = undefined;
    this.#finish();
    if (!h) return;
    // A connection we ended because the upstream broke the protocol is a protocol error too.
    const broken = cause === ResetCause.Protocol || (cause === ResetCause.Connection && code !== CANCEL && code !== NO_ERROR);
    const reason: UpstreamResetReason = broken ? 'protocol_error' : cause === ResetCause.Connection ? 'connection_termination' : 'remote_reset';
    if (cause === ResetCause.Connection) this.#client.lostWithActive();
    h.onUpstreamReset(reason, cause === ResetCause.Refused || code === REFUSED_STREAM ? 'stream refused' : `stream reset (code ${code})`);
  }

  onWritable(): void {
    this.onDrain?.();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#client.pool.stats.upstream_rq_active.dec();
    this.#client.release();
  }

  #fail(reason: UpstreamResetReason, detail: string): void {
    const h = this.#handler;
    this.#handler = undefined;
    this.#finish();
    h?.onUpstreamReset(reason, detail);
  }
}
