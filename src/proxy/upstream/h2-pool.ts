import http2 from 'node:http2';
import net from 'node:net';
import { HeaderMap } from '../http/headers.js';
import type { RequestHeaders, UpstreamResponseHandler, UpstreamStream } from '../http/stream.js';
import type { ConnPool, PendingHandle, PoolCallbacks, PoolLimits } from './pool.js';
import type { UpstreamHost } from './host.js';
import type { ClusterStats } from './cluster-stats.js';
import { fromNodeHeaders, toNodeHeaders, toNodeRequestHeaders } from '../http/h2/headers.js';

const EMPTY = Buffer.alloc(0);

/**
 * HTTP/2 to one host: one multiplexed connection (Envoy's default), streams up to the
 * cluster's max_requests. Requests that arrive while it connects wait for it.
 */
export class H2ConnPool implements ConnPool {
  #session: http2.ClientHttp2Session | undefined;
  #ready = false;
  #waiting: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly host: UpstreamHost, readonly limits: PoolLimits, readonly stats: ClusterStats) {}

  get activeConnections(): number {
    return this.#session && !this.#session.destroyed ? 1 : 0;
  }

  newStream(handler: UpstreamResponseHandler, cb: PoolCallbacks): PendingHandle | undefined {
    if (this.#ready && this.#session && !this.#session.closed && !this.#session.destroyed) {
      cb.onPoolReady(new H2UpstreamStream(this.#session, handler, this.stats));
      return undefined;
    }
    if (this.limits.resources && !this.limits.resources.pendingRequests.canCreate()) {
      this.stats.upstream_rq_pending_overflow.inc();
      cb.onPoolFailure('overflow', 'pending requests overflow');
      return undefined;
    }
    const w = new Waiter(this, handler, cb);
    this.#waiting.push(w);
    this.stats.upstream_rq_pending_total.inc();
    this.stats.upstream_rq_pending_active.inc();
    if (!this.#session) this.#connect();
    return w;
  }

  drain(): void {
    this.#session?.close();
  }

  removeWaiter(w: Waiter): void {
    const i = this.#waiting.indexOf(w);
    if (i >= 0) { this.#waiting.splice(i, 1); this.stats.upstream_rq_pending_active.dec(); }
  }

  #connect(): void {
    const { host } = this;
    this.stats.upstream_cx_total.inc();
    this.stats.upstream_cx_active.inc();
    const session = http2.connect(`http://${host.key}`, {
      createConnection: () => net.connect({ host: host.address, port: host.port, noDelay: true }),
      peerMaxConcurrentStreams: this.limits.resources?.requests.max ?? 1024,
    });
    this.#session = session;
    this.#ready = false;
    this.#timer = setTimeout(() => {
      this.stats.upstream_cx_connect_timeout.inc();
      session.destroy(new Error('connect timeout'));
    }, this.limits.connectTimeoutMs);
    session.on('connect', () => {
      clearTimeout(this.#timer);
      this.#ready = true;
      for (const w of this.#waiting.splice(0)) {
        this.stats.upstream_rq_pending_active.dec();
        w.cb.onPoolReady(new H2UpstreamStream(session, w.handler, this.stats));
      }
    });
    session.on('error', () => { /* reported through 'close' and the streams */ });
    session.on('close', () => {
      clearTimeout(this.#timer);
      this.stats.upstream_cx_active.dec();
      if (this.#session === session) { this.#session = undefined; this.#ready = false; }
      if (!session.connecting && this.#waiting.length === 0) return;
      this.stats.upstream_cx_connect_fail.inc();
      for (const w of this.#waiting.splice(0)) {
        this.stats.upstream_rq_pending_active.dec();
        w.cb.onPoolFailure('connect_failure', 'connection refused or failed');
      }
    });
    session.on('goaway', () => {
      if (this.#session === session) { this.#session = undefined; this.#ready = false; }
    });
  }
}

class Waiter implements PendingHandle {
  constructor(readonly pool: H2ConnPool, readonly handler: UpstreamResponseHandler, readonly cb: PoolCallbacks) {}
  cancel(): void {
    this.pool.removeWaiter(this);
  }
}

class H2UpstreamStream implements UpstreamStream {
  #stream: http2.ClientHttp2Stream | undefined;
  #handler: UpstreamResponseHandler | undefined;
  #gotHeaders = false;
  #trailers: http2.OutgoingHttpHeaders | undefined;

  constructor(readonly session: http2.ClientHttp2Session, handler: UpstreamResponseHandler, readonly stats: ClusterStats) {
    this.#handler = handler;
    stats.upstream_rq_total.inc();
    stats.upstream_rq_active.inc();
  }

  encodeHeaders(req: RequestHeaders, endStream: boolean): void {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.session.request(toNodeRequestHeaders(req), { endStream, waitForTrailers: !endStream });
    } catch (e) {
      this.#fail('connection_termination', (e as Error).message);
      return;
    }
    this.#stream = stream;
    stream.on('drain', () => this.onDrain?.());
    stream.on('wantTrailers', () => stream.sendTrailers(this.#trailers ?? {}));
    stream.on('response', (h, flags) => {
      const status = Number(h[':status']);
      if (status < 200) return;
      this.#gotHeaders = true;
      const h2 = this.#handler;
      // A headers-only response (gRPC's trailers-only error) ends the stream right here.
      const end = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      if (end) { this.#handler = undefined; this.#done(); }
      h2?.onUpstreamHeaders(status, fromNodeHeaders(h), end);
    });
    stream.on('data', (chunk: Buffer) => this.#handler?.onUpstreamData(chunk, false));
    stream.on('trailers', (t) => {
      const h = this.#handler;
      this.#handler = undefined;
      this.#done();
      h?.onUpstreamTrailers(fromNodeHeaders(t));
    });
    stream.on('end', () => {
      const h = this.#handler;
      if (!h) return;
      this.#handler = undefined;
      this.#done();
      if (!this.#gotHeaders) h.onUpstreamReset('protocol_error', 'stream ended without headers');
      else h.onUpstreamData(EMPTY, true);
    });
    stream.on('error', () => { /* handled in close */ });
    stream.on('close', () => {
      const h = this.#handler;
      if (!h) return;
      this.#handler = undefined;
      this.#done();
      this.stats.upstream_rq_rx_reset.inc();
      const refused = stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
      h.onUpstreamReset(refused ? 'remote_reset' : this.session.destroyed ? 'connection_termination' : 'remote_reset', `stream reset (code ${stream.rstCode})`);
    });
  }

  encodeData(chunk: Buffer, endStream: boolean): void {
    const s = this.#stream;
    if (!s) return;
    if (endStream) s.end(chunk.length ? chunk : undefined);
    else if (chunk.length) s.write(chunk);
  }

  encodeTrailers(trailers: HeaderMap): void {
    const s = this.#stream;
    if (!s) return;
    this.#trailers = toNodeHeaders(trailers);
    s.end();
  }

  onDrain: (() => void) | undefined;

  get writable(): boolean {
    return !this.#stream?.writableNeedDrain;
  }

  readDisable(disable: boolean): void {
    if (disable) this.#stream?.pause();
    else this.#stream?.resume();
  }

  reset(): void {
    if (this.#handler) { this.#handler = undefined; this.#done(); }
    this.#stream?.close(http2.constants.NGHTTP2_CANCEL);
  }

  #done(): void {
    this.stats.upstream_rq_active.dec();
  }

  #fail(reason: 'connection_termination', detail: string): void {
    const h = this.#handler;
    this.#handler = undefined;
    this.#done();
    h?.onUpstreamReset(reason, detail);
  }
}
