import { upstreamTlsPrincipals, type UpstreamTlsPrincipals } from '../tls/upstream-transport.js';
import net from 'node:net';
import { ResponseParser, type ResponseHead, H1Error } from '../http/h1/parser.js';
import { serializeRequestHead, encodeChunkHeader, CRLF, LAST_CHUNK, serializeTrailers } from '../http/h1/serialize.js';
import { HeaderMap } from '../http/headers.js';
import type { RequestHeaders, UpstreamResponseHandler, UpstreamStream } from '../http/stream.js';
import { connectionReusable, connectionRetireAt, type ConnPool, type PendingHandle, type PoolCallbacks, type PoolLimits } from './pool.js';
import type { UpstreamHost } from './host.js';
import type { ClusterStats } from './cluster-stats.js';
import { holdWrites, writeHeld } from '../io/write-batch.js';
import { SilenceMeter } from '../io/silence.js';

const EMPTY = Buffer.alloc(0);
/**
 * The read buffer of every upstream HTTP/1.1 connection of this thread (`onread`): Node then
 * neither allocates a buffer per read nor runs a read through its stream machinery (a
 * nextTick per read). Reads are handled one at a time; body bytes, the only part of a read
 * that outlives it, are copied before they are passed on.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * HTTP/1.1 connection pool for one host: keep-alive connections reused LIFO (the warmest
 * first), one request per connection at a time (no upstream pipelining, as Envoy).
 */
export class H1ConnPool implements ConnPool {
  #idle: H1UpstreamConnection[] = [];
  #pending: PendingRequest[] = [];
  #connections = 0;
  #connecting = 0;
  /** Drained (host or cluster gone): busy connections close when their request ends. */
  #draining = false;

  constructor(readonly host: UpstreamHost, readonly limits: PoolLimits, readonly stats: ClusterStats) {}

  get activeConnections(): number {
    return this.#connections;
  }

  get transport(): PoolLimits['transport'] {
    return this.limits.transport;
  }

  newStream(handler: UpstreamResponseHandler, cb: PoolCallbacks): PendingHandle | undefined {
    let conn = this.#idle.pop();
    // An idle connection past max_connection_duration closes instead of taking the request.
    while (conn && !conn.reusable()) { conn.close(); conn = this.#idle.pop(); }
    if (conn) {
      conn.attach(handler);
      cb.onPoolReady(conn);
      return undefined;
    }
    const res = this.limits.resources;
    if (res && !res.pendingRequests.tryAcquire()) {
      this.stats.upstream_rq_pending_overflow.inc();
      cb.onPoolFailure('overflow', 'pending requests overflow');
      return undefined;
    }
    const pending = new PendingRequest(this, handler, cb);
    this.#pending.push(pending);
    this.stats.upstream_rq_pending_total.inc();
    this.stats.upstream_rq_pending_active.inc();
    // Connect another connection only if the ones already connecting cannot serve it.
    if (this.#connecting < this.#pending.length) {
      if (this.#mayConnect()) this.#connect();
      else this.stats.upstream_cx_overflow.inc();
    }
    return pending;
  }

  drain(): void {
    this.#draining = true;
    for (const c of this.#idle.splice(0)) c.close();
  }

  /**
   * max_connections counts the cluster's connections across every pool and worker; as in
   * Envoy, a pool with no connection at all may still open one, so no host starves.
   */
  #mayConnect(): boolean {
    const res = this.limits.resources;
    return !res || this.#connections === 0 || res.connections.canCreate();
  }

  #connect(): void {
    this.limits.resources?.connections.inc();
    this.#connections++;
    this.#connecting++;
    this.stats.upstream_cx_total.inc();
    this.stats.upstream_cx_active.inc();
    new H1UpstreamConnection(this);
  }

  /** @internal a connection finished connecting or finished a request and can take another. */
  onConnectionFree(conn: H1UpstreamConnection, fresh: boolean): void {
    if (fresh) this.#connecting--;
    const next = this.#pending.shift();
    if (next) {
      this.#pendingDone();
      conn.attach(next.handler);
      next.cb.onPoolReady(conn);
      return;
    }
    if (this.#draining) conn.close();
    else this.#idle.push(conn);
  }

  /** @internal a connection is gone; if it never connected, fail one waiting request. */
  onConnectionClosed(conn: H1UpstreamConnection, connected: boolean, detail: string): void {
    this.#connections--;
    this.limits.resources?.connections.dec();
    this.stats.upstream_cx_active.dec();
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    if (connected) return;
    this.#connecting--;
    this.stats.upstream_cx_connect_fail.inc();
    const next = this.#pending.shift();
    if (next) {
      this.#pendingDone();
      next.cb.onPoolFailure('connect_failure', detail);
    }
    // Requests still waiting need a connection of their own.
    if (this.#pending.length > this.#connecting && this.#mayConnect()) this.#connect();
  }

  /** @internal */
  removePending(p: PendingRequest): void {
    const i = this.#pending.indexOf(p);
    if (i >= 0) {
      this.#pending.splice(i, 1);
      this.#pendingDone();
    }
  }

  #pendingDone(): void {
    this.limits.resources?.pendingRequests.dec();
    this.stats.upstream_rq_pending_active.dec();
  }
}

class PendingRequest implements PendingHandle {
  constructor(readonly pool: H1ConnPool, readonly handler: UpstreamResponseHandler, readonly cb: PoolCallbacks) {}
  cancel(): void {
    this.pool.removePending(this);
  }
}

/** One upstream HTTP/1.1 connection; it is the UpstreamStream of the request it carries. */
class H1UpstreamConnection implements UpstreamStream {
  readonly #pool: H1ConnPool;
  readonly #socket: net.Socket;
  readonly #parser: ResponseParser;
  #handler: UpstreamResponseHandler | undefined;
  #connected = false;
  #closed = false;
  #chunked = false;
  #requestDone = false;
  #responseStarted = false;
  #responseDone = false;
  #keepAlive = true;
  #timer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #idleSilence: SilenceMeter;
  #served = 0;
  #retireAt: number;
  tlsPrincipals: UpstreamTlsPrincipals | undefined;

  constructor(pool: H1ConnPool) {
    this.#pool = pool;
    this.#retireAt = connectionRetireAt(pool.limits);
    this.#idleSilence = new SilenceMeter(pool.limits.idleTimeoutMs / 4);
    const { host, limits } = pool;
    this.#parser = new ResponseParser(
      { onHead: this.#onHead, onBody: this.#onBody, onComplete: this.#onComplete, onError: this.#onParseError },
      { maxHeaderBytes: 96 * 1024, maxHeaderCount: 200 },
    );
    // Plaintext reads into the shared buffer (the fast path); TLS reads come as 'data'.
    const t = limits.transport;
    const socket = (this.#socket = t
      ? t.connect(host.address, host.port)
      : net.connect({ host: host.address, port: host.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: this.#onRead } }));
    if (t) socket.on('data', (d: Buffer) => this.#onData(d));
    this.#timer = setTimeout(this.#onConnectTimeout, limits.connectTimeoutMs);
    socket.on(t ? t.readyEvent : 'connect', this.#onConnect);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('end', this.#onEnd);
    socket.on('drain', () => this.onDrain?.());
  }

  attach(handler: UpstreamResponseHandler): void {
    this.#handler = handler;
    this.#served++;
    this.onDrain = undefined;
    this.#socket.resume();
    this.#requestDone = false;
    this.#responseStarted = false;
    this.#responseDone = false;
    this.#pool.stats.upstream_rq_total.inc();
    this.#pool.stats.upstream_rq_active.inc();
  }

  /** Within max_requests_per_connection, max_connection_duration and its certificates' lifetime. */
  reusable(): boolean {
    return connectionReusable(this.#pool.limits, this.#served, this.#retireAt);
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  encodeHeaders(req: RequestHeaders, endStream: boolean): void {
    const headers = req.headers;
    this.#chunked = !endStream && !headers.has('content-length');
    if (this.#chunked) headers.add('transfer-encoding', 'chunked');
    this.#parser.expectResponseTo(req.method);
    const head = serializeRequestHead(req.method, req.path, req.authority, headers);
    this.#requestDone = endStream;
    writeHeld(this.#socket, head);
  }

  encodeData(chunk: Buffer, endStream: boolean): void {
    const s = this.#socket;
    holdWrites(s);
    if (this.#chunked) {
      if (chunk.length > 0) {
        s.cork();
        s.write(encodeChunkHeader(chunk.length), 'latin1');
        s.write(chunk);
        s.write(CRLF);
        s.uncork();
      }
      if (endStream) s.write(LAST_CHUNK);
    } else if (chunk.length > 0) {
      s.write(chunk);
    }
    if (endStream) this.#requestDone = true;
  }

  encodeTrailers(trailers: HeaderMap): void {
    // Only a chunked body can carry trailers on HTTP/1.1; a sized body has already ended.
    holdWrites(this.#socket);
    if (this.#chunked) this.#socket.write(serializeTrailers(trailers), 'latin1');
    this.#requestDone = true;
  }

  reset(): void {
    if (this.#handler) this.#finishRequest();
    this.#handler = undefined;
    this.close();
  }

  get writable(): boolean {
    return !this.#socket.writableNeedDrain;
  }

  onDrain: (() => void) | undefined;

  readDisable(disable: boolean): void {
    if (disable) this.#socket.pause();
    else this.#socket.resume();
  }

  #finishRequest(): void {
    this.#pool.stats.upstream_rq_active.dec();
  }

  #onConnect = (): void => {
    this.#connected = true;
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    // Read once per connection (Istio's client-side principals): certificates do not change on it.
    if (this.#pool.limits.transport?.tls) {
      this.tlsPrincipals = upstreamTlsPrincipals(this.#socket);
      this.#retireAt = Math.min(this.#retireAt, this.tlsPrincipals.notAfter);
    }
    // The idle timeout: an interval of a quarter of it counts ticks without a request and
    // without traffic (so it fires between the limit and 1.25 × the limit). Neither a request
    // nor a read or write touches a timer, as a socket timeout would on every read and write.
    const idle = this.#pool.limits.idleTimeoutMs;
    if (idle > 0) this.#idleTimer = this.#idleSilence.every(this.#onIdleTick);
    this.#pool.onConnectionFree(this, true);
  };

  #onConnectTimeout = (): void => {
    this.#timer = undefined;
    this.#pool.stats.upstream_cx_connect_timeout.inc();
    this.#socket.destroy(new Error('connect timeout'));
  };

  #onIdleTick = (): void => {
    // A request in flight is not idleness, however quiet the upstream is.
    if (this.#idleSilence.tick(this.#socket, this.#handler !== undefined) < this.#pool.limits.idleTimeoutMs) return;
    this.#pool.stats.upstream_cx_idle_timeout.inc();
    this.close();
  };

  #onRead = (n: number): boolean => {
    this.#onData(READ_BUFFER.subarray(0, n));
    return true;
  };

  #onData(data: Buffer): void {
    this.#pool.stats.upstream_cx_rx_bytes_total.inc(data.length);
    if (!this.#handler) {
      // Bytes on an idle connection: the server is misbehaving; drop the connection.
      this.close();
      return;
    }
    this.#parser.execute(data);
  }

  #onHead = (head: ResponseHead): void => {
    if (head.status < 200) return; // interim (100 Continue): the final head follows
    this.#responseStarted = true;
    this.#keepAlive = head.keepAlive;
    const noBody = head.contentLength === 0 && !head.chunked;
    this.#handler?.onUpstreamHeaders(head.status, head.headers, false);
    if (noBody) return; // onComplete follows at once and ends the stream
  };

  #onBody = (chunk: Buffer): void => {
    this.#handler?.onUpstreamData(Buffer.from(chunk), false);
  };

  #onComplete = (trailers: HeaderMap | undefined): void => {
    const h = this.#handler;
    this.#responseDone = true;
    this.#handler = undefined;
    this.#finishRequest();
    const reusable = this.#keepAlive && this.#requestDone && !this.#closed && this.reusable();
    if (h) {
      if (trailers && trailers.size > 0) h.onUpstreamTrailers(trailers);
      else h.onUpstreamData(EMPTY, true);
    }
    if (reusable) this.#pool.onConnectionFree(this, false);
    else this.close();
  };

  #onParseError = (err: H1Error): void => {
    const h = this.#handler;
    this.#handler = undefined;
    if (h) {
      this.#finishRequest();
      h.onUpstreamReset('protocol_error', err.message);
    }
    this.#pool.stats.upstream_cx_protocol_error.inc();
    this.close();
  };

  #onEnd = (): void => {
    // A close-delimited body ends here.
    if (this.#handler && this.#responseStarted) this.#parser.finish();
  };

  #onError = (err: Error): void => {
    this.#failActive(err.message);
  };

  #onClose = (): void => {
    this.#closed = true;
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.#idleTimer) { clearInterval(this.#idleTimer); this.#idleTimer = undefined; }
    this.#failActive('connection closed');
    this.#pool.onConnectionClosed(this, this.#connected, 'connection refused or failed');
  };

  #failActive(detail: string): void {
    const h = this.#handler;
    if (!h || this.#responseDone) return;
    this.#handler = undefined;
    this.#finishRequest();
    if (!this.#connected) return; // reported by the pool as a connect failure
    this.#pool.stats.upstream_cx_destroy_remote_with_active_rq.inc();
    h.onUpstreamReset('connection_termination', detail);
  }
}
