import http2 from 'node:http2';
import type net from 'node:net';
import { HeaderMap } from '../headers.js';
import type { RequestHeaders, ResponseEncoder } from '../stream.js';
import { fromNodeHeaders, toNodeHeaders, toNodeResponseHeaders } from '../h2/headers.js';
import { HttpStream, type HcmRuntime } from './http-stream.js';
import type { ConnectionInfo } from './connection-info.js';
import { DRAIN_EVENT } from '../../listener/drain.js';

const EMPTY = Buffer.alloc(0);

/**
 * Downstream HTTP/2 (cleartext, prior knowledge) on Node's nghttp2 binding. One server object
 * per connection manager; each accepted socket is handed to it.
 */
export class H2Server {
  readonly #server: http2.Http2Server;
  readonly #info = new WeakMap<http2.Http2Session, ConnectionInfo>();

  constructor(readonly rt: HcmRuntime) {
    this.#server = http2.createServer({
      maxHeaderListPairs: rt.config.maxHeadersCount + 4,
      maxSendHeaderBlockLength: 1 << 20,
      settings: { maxHeaderListSize: rt.config.maxRequestHeadersBytes },
    });
    this.#server.on('stream', this.#onStream);
    this.#server.on('session', (session: http2.ServerHttp2Session) => {
      // Emitted synchronously from accept(): the socket is the one being accepted.
      const socket = this.#accepting;
      if (socket) socket.once(DRAIN_EVENT, () => { if (!session.closed) session.close(); });
      session.on('error', () => { /* the socket's close tears it down */ });
      const idle = rt.config.idleTimeoutMs;
      if (idle > 0) session.setTimeout(idle, () => { rt.stats.downstream_cx_idle_timeout.inc(); session.close(); });
    });
  }

  accept(socket: net.Socket, info: ConnectionInfo, initial: Buffer | undefined): void {
    this.rt.stats.downstream_cx_http2_total.inc();
    // Bytes already read (the codec sniff) go back into the socket; paused, so nothing reads
    // them before the session does (Node's http2 takes what is buffered when it attaches).
    if (initial && initial.length > 0) { socket.pause(); socket.unshift(initial); }
    this.#bySocket.set(socket, info);
    this.#accepting = socket;
    try { this.#server.emit('connection', socket); } finally { this.#accepting = undefined; }
  }

  readonly #bySocket = new WeakMap<object, ConnectionInfo>();
  #accepting: net.Socket | undefined;

  #onStream = (stream: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders): void => {
    const session = stream.session!;
    let info = this.#info.get(session);
    if (!info) {
      info = (session.socket && this.#bySocket.get(session.socket)) ?? { id: 0, remoteAddress: session.socket?.remoteAddress ?? '', remotePort: session.socket?.remotePort ?? 0, localAddress: session.socket?.localAddress ?? '', localPort: session.socket?.localPort ?? 0 };
      this.#info.set(session, info);
    }
    const rt = this.rt;
    rt.stats.downstream_rq_http2_total.inc();
    const method = String(h[':method'] ?? '');
    const req: RequestHeaders = {
      method,
      path: String(h[':path'] ?? ''),
      authority: String(h[':authority'] ?? h.host ?? ''),
      scheme: 'http',
      headers: fromNodeHeaders(h),
      protocol: 'HTTP/2',
    };
    req.headers.remove('host');
    if (!method || (method !== 'CONNECT' && !req.path)) {
      stream.respond({ ':status': 400 }, { endStream: true });
      return;
    }
    const enc = new H2StreamEncoder(stream);
    const s = new HttpStream(rt, info, enc);
    enc.httpStream = s;
    if (rt.config.streamIdleTimeoutMs > 0) stream.setTimeout(rt.config.streamIdleTimeoutMs, () => s.onStreamIdleTimeout());
    const endStream = stream.readableEnded || (stream as unknown as { endAfterHeaders: boolean }).endAfterHeaders;
    s.decodeHeaders(req, endStream);
    if (endStream) return;
    stream.on('data', (chunk: Buffer) => s.decodeData(chunk, false));
    stream.on('end', () => { if (!s.requestEnded) s.decodeData(EMPTY, true); });
    stream.on('trailers', (t: http2.IncomingHttpHeaders) => s.decodeTrailers(fromNodeHeaders(t)));
  };
}

class H2StreamEncoder implements ResponseEncoder {
  httpStream: HttpStream | undefined;
  #trailers: HeaderMap | undefined;
  #waitsForTrailers = false;

  constructor(readonly stream: http2.ServerHttp2Stream) {
    stream.on('error', () => { /* close follows */ });
    stream.on('drain', () => this.httpStream?.onDownstreamDrain());
    stream.on('close', () => {
      const s = this.httpStream;
      if (s && !s.finished) s.onDownstreamReset();
    });
  }

  get writable(): boolean {
    return !this.stream.writableNeedDrain;
  }

  readDisable(disable: boolean): void {
    if (disable) this.stream.pause();
    else this.stream.resume();
  }

  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean, trailersExpected = false): void {
    if (this.stream.destroyed) return;
    try {
      const waitForTrailers = !endStream && trailersExpected;
      this.#waitsForTrailers = waitForTrailers;
      this.stream.respond(toNodeResponseHeaders(status, headers), { endStream, waitForTrailers });
      if (waitForTrailers) this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.#trailers ? toNodeHeaders(this.#trailers) : {}));
    } catch {
      this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  encodeData(chunk: Buffer, endStream: boolean): void {
    if (this.stream.destroyed) return;
    if (endStream) this.stream.end(chunk.length ? chunk : undefined);
    else if (chunk.length) this.stream.write(chunk);
  }

  encodeTrailers(trailers: HeaderMap): void {
    if (this.stream.destroyed) return;
    // Trailers nobody announced (a response we did not expect them on) cannot be sent now.
    if (this.#waitsForTrailers) this.#trailers = trailers;
    this.stream.end();
  }

  reset(): void {
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}
