import type net from 'node:net';
import { HeaderMap } from '../headers.js';
import type { RequestHeaders, ResponseEncoder } from '../stream.js';
import { Http2Connection, type H2ConnectionEvents, type H2ConnectionOptions } from '../h2/connection.js';
import { INTERNAL_ERROR, errorName } from '../h2/constants.js';
import { level, log } from '../../log.js';
import type { H2RequestHead, H2ResponseHead } from '../h2/header-validation.js';
import { requestHeaderMap } from '../h2/headers.js';
import { ResetCause, type H2Stream, type H2StreamHandler } from '../h2/stream.js';
import { HttpStream, type HcmRuntime } from './http-stream.js';
import type { ConnectionInfo } from './connection-info.js';
import { DRAIN_EVENT } from '../../listener/drain.js';

const EMPTY = Buffer.alloc(0);

/** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
const MAX_CONCURRENT_STREAMS = 1024;
/** What a client may send on a stream before the proxy passes it on (and credits it back). */
const STREAM_WINDOW = 256 * 1024;
const CONNECTION_WINDOW = 1024 * 1024;

/**
 * Downstream HTTP/2 (cleartext, prior knowledge) on tsmesh's own codec (../h2). One server
 * object per connection manager; each accepted socket becomes an H2ServerConnection.
 */
export class H2Server {
  readonly #opts: H2ConnectionOptions;

  constructor(readonly rt: HcmRuntime) {
    this.#opts = {
      role: 'server',
      maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
      streamWindow: STREAM_WINDOW,
      connectionWindow: CONNECTION_WINDOW,
      maxHeaderListSize: rt.config.maxRequestHeadersBytes,
      maxHeaderCount: rt.config.maxHeadersCount,
    };
  }

  accept(socket: net.Socket, info: ConnectionInfo, initial: Buffer | undefined): void {
    this.rt.stats.downstream_cx_http2_total.inc();
    new H2ServerConnection(socket, this.rt, info, this.#opts, initial);
  }
}

/**
 * One downstream HTTP/2 connection: each request stream runs an HttpStream. One timer per
 * connection ticks for both the connection idle timeout (no streams) and the streams' idle
 * timeouts (each stream counts ticks without activity, reset by the codec). A stream's limit is
 * its own: the route's idle_timeout overrides the connection manager's stream_idle_timeout, as
 * in Envoy, so the tick is a quarter of the shortest idle timeout any stream can have.
 */
class H2ServerConnection implements H2ConnectionEvents {
  readonly #rt: HcmRuntime;
  readonly #info: ConnectionInfo;
  readonly #conn: Http2Connection;
  #timer: NodeJS.Timeout | undefined;
  #idleTicks = 0;
  #starting: H2ResponseEncoder[] = [];
  readonly #tickMs: number;
  readonly #cxTicks: number;

  constructor(socket: net.Socket, rt: HcmRuntime, info: ConnectionInfo, opts: H2ConnectionOptions, initial: Buffer | undefined) {
    this.#rt = rt;
    this.#info = info;
    this.#conn = new Http2Connection(socket, opts, this);
    const c = rt.config;
    const tick = c.idleTickMs / 4;
    this.#tickMs = tick;
    this.#cxTicks = ticksFor(c.idleTimeoutMs, tick);
    if (tick !== Infinity) this.#timer = setInterval(this.#onTick, Math.max(1, Math.floor(tick)));
    // The listener drains: GOAWAY, streams in progress finish, then the connection closes.
    socket.once(DRAIN_EVENT, () => this.#conn.goAway());
    if (initial && initial.length > 0) this.#conn.receive(initial);
  }

  onRequest(stream: H2Stream, head: H2RequestHead, endStream: boolean): void {
    this.#rt.stats.downstream_rq_http2_total.inc();
    this.#idleTicks = 0;
    const req: RequestHeaders = {
      method: head.method,
      path: head.path,
      authority: head.authority,
      scheme: this.#info.tls ? 'https' : 'http',
      headers: requestHeaderMap(head.fields),
      protocol: 'HTTP/2',
    };
    const enc = new H2ResponseEncoder(stream, req, endStream);
    stream.handler = enc;
    this.#starting.push(enc);
  }

  /**
   * Requests start once every frame of the read that brought them has been checked: a request
   * whose body breaks the rules in the same read (a Content-Length that does not match, say)
   * is reset and never goes upstream.
   */
  onReadEnd(): void {
    if (this.#starting.length === 0) return;
    const list = this.#starting;
    this.#starting = [];
    for (const enc of list) enc.start(this.#rt, this.#info);
  }

  onRequestHeadersTooLarge(stream: H2Stream): void {
    // As the HTTP/1.1 side: 431, and the request never goes anywhere.
    const rt = this.#rt;
    rt.stats.downstream_rq_http2_total.inc();
    rt.stats.recordResponse(431);
    stream.sendResponseHeaders(431, ['content-length', '0', 'server', rt.config.serverName], true);
  }

  onConnectionError(code: number, why: string): void {
    this.#rt.stats.downstream_cx_protocol_error.inc();
    if (debugging()) log.debug(`http2: GOAWAY ${errorName(code)} to ${this.#info.remoteAddress}:${this.#info.remotePort}: ${why}`);
  }

  onStreamError(id: number, code: number, why: string): void {
    if (debugging()) log.debug(`http2: RST_STREAM ${errorName(code)} on stream ${id} from ${this.#info.remoteAddress}:${this.#info.remotePort}: ${why}`);
  }

  onClose(): void {
    if (this.#timer) { clearInterval(this.#timer); this.#timer = undefined; }
  }

  onRead(bytes: number): void {
    this.#rt.stats.downstream_cx_rx_bytes_total.inc(bytes);
  }

  onWrite(bytes: number): void {
    this.#rt.stats.downstream_cx_tx_bytes_total.inc(bytes);
  }

  #onTick = (): void => {
    const conn = this.#conn;
    if (conn.activeStreams === 0) {
      if (++this.#idleTicks < this.#cxTicks || conn.closed) return;
      this.#rt.stats.downstream_cx_idle_timeout.inc();
      conn.goAway();
      return;
    }
    this.#idleTicks = 0;
    for (const st of [...conn.streams.values()]) {
      const h = st.handler;
      if (!(h instanceof H2ResponseEncoder)) continue;
      const s = h.httpStream;
      // A stream not started yet (its head arrived in the read being processed) is not idle.
      if (!s) continue;
      if (h.idleTicks === undefined) h.idleTicks = ticksFor(s.streamIdleTimeoutMs, this.#tickMs);
      if (++st.idleTicks >= h.idleTicks) s.onStreamIdleTimeout();
    }
  };
}

/** Ticks of silence that make a timeout fire: between the limit and 1.25 × the limit. 0 = never. */
function ticksFor(timeoutMs: number, tickMs: number): number {
  return timeoutMs > 0 ? Math.ceil(timeoutMs / tickMs) + 1 : Infinity;
}

/** What arrived for a stream before it started (in the same read as its head). */
interface Held {
  req: RequestHeaders;
  endStream: boolean;
  chunks: Buffer[] | undefined;
  ended: boolean;
  trailers: string[] | undefined;
}

function debugging(): boolean {
  const l = level();
  return l === 'debug' || l === 'trace';
}

/** The downstream side of one stream: HTTP/2 frames in, ResponseEncoder calls out. */
class H2ResponseEncoder implements ResponseEncoder, H2StreamHandler {
  httpStream: HttpStream | undefined;
  /** The stream's idle limit in connection ticks, known once its route is (set on the first tick). */
  idleTicks: number | undefined;
  #held: Held | undefined;

  constructor(readonly stream: H2Stream, req: RequestHeaders, endStream: boolean) {
    this.#held = { req, endStream, chunks: undefined, ended: endStream, trailers: undefined };
  }

  /** Runs the request (unless it was reset in the meantime), with what came along with it. */
  start(rt: HcmRuntime, info: ConnectionInfo): void {
    const h = this.#held;
    if (!h) return;
    this.#held = undefined;
    const s = new HttpStream(rt, info, this);
    this.httpStream = s;
    s.decodeHeaders(h.req, h.endStream);
    if (h.endStream) return;
    const chunks = h.chunks;
    const n = chunks ? chunks.length : 0;
    for (let i = 0; i < n; i++) s.decodeData(chunks![i]!, h.ended && !h.trailers && i === n - 1);
    if (h.trailers) s.decodeTrailers(new HeaderMap(h.trailers));
    else if (h.ended && n === 0) s.decodeData(EMPTY, true);
  }

  get writable(): boolean {
    return this.stream.writable;
  }

  readDisable(disable: boolean): void {
    this.stream.readDisable(disable);
  }

  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean): void {
    this.stream.sendResponseHeaders(status, headers.list, endStream);
  }

  encodeData(chunk: Buffer, endStream: boolean): void {
    this.stream.sendData(chunk, endStream);
  }

  encodeTrailers(trailers: HeaderMap): void {
    // HTTP/2 can end any response with trailers; an empty set ends it with an empty DATA frame.
    this.stream.sendTrailers(trailers.list);
  }

  reset(): void {
    this.stream.reset(INTERNAL_ERROR);
  }

  // --- H2StreamHandler ---

  onResponseHeaders(_stream: H2Stream, _head: H2ResponseHead): void { /* server side: never */ }

  onData(_stream: H2Stream, chunk: Buffer, endStream: boolean): void {
    const held = this.#held;
    if (held) {
      if (chunk.length > 0) (held.chunks ??= []).push(chunk);
      if (endStream) held.ended = true;
      return;
    }
    const s = this.httpStream;
    if (!s) return;
    if (chunk.length > 0 || !s.requestEnded) s.decodeData(chunk.length > 0 ? chunk : EMPTY, endStream);
  }

  onTrailers(_stream: H2Stream, fields: string[]): void {
    const held = this.#held;
    if (held) { held.trailers = fields; held.ended = true; return; }
    this.httpStream?.decodeTrailers(new HeaderMap(fields));
  }

  onReset(_stream: H2Stream, _code: number, cause: ResetCause): void {
    // Reset before it started: it never existed for the connection manager.
    this.#held = undefined;
    const s = this.httpStream;
    if (!s || s.finished) return;
    if (cause === ResetCause.Protocol) s.onDownstreamProtocolError(400);
    else s.onDownstreamReset();
  }

  onWritable(): void {
    this.httpStream?.onDownstreamDrain();
  }
}
