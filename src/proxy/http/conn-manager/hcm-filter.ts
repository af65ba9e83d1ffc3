import type net from 'node:net';
import { H1ServerConnection } from './h1-server.js';
import { H2Server } from './h2-server.js';
import type { HcmRuntime } from './http-stream.js';
import type { ConnectionInfo } from './connection-info.js';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The `envoy.filters.network.http_connection_manager` network filter: picks the codec. */
export class HttpConnectionManagerFilter {
  #h2: H2Server | undefined;

  constructor(readonly rt: HcmRuntime) {}

  onConnection(socket: net.Socket, info: ConnectionInfo, initial?: Buffer): void {
    const rt = this.rt;
    rt.stats.downstream_cx_total.inc();
    rt.stats.downstream_cx_active.inc();
    socket.once('close', () => rt.stats.downstream_cx_active.dec());
    const codec = rt.config.codec;
    if (codec === 'HTTP1') { new H1ServerConnection(socket, rt, info, initial); return; }
    if (codec === 'HTTP2') { this.#h2server().accept(socket, info, initial); return; }
    // AUTO: HTTP/2 prior knowledge starts with the connection preface (RFC 9113 §3.4).
    let seen: Buffer = initial ?? Buffer.alloc(0);
    const undecided = (): boolean => {
      const n = Math.min(seen.length, H2_PREFACE.length);
      return n < H2_PREFACE.length && seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    };
    const dispatch = (): void => {
      if (seen.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) this.#h2server().accept(socket, info, seen);
      else new H1ServerConnection(socket, rt, info, seen);
    };
    if (!undecided()) { dispatch(); return; }
    const onTimeout = (): void => { if (undecided()) socket.destroy(); };
    const wait = rt.config.requestHeadersTimeoutMs || rt.config.idleTimeoutMs;
    const onData = (d: Buffer): void => {
      seen = seen.length ? Buffer.concat([seen, d]) : d;
      if (undecided()) return;
      socket.off('data', onData);
      // The codecs keep their own timers: a socket timeout left armed would be re-armed on
      // every read and write of the connection's life.
      if (wait > 0) { socket.setTimeout(0); socket.off('timeout', onTimeout); }
      dispatch();
    };
    socket.on('data', onData);
    // Until the codec is known, a silent client is held only as long as either timeout allows.
    if (wait > 0) {
      socket.setTimeout(wait);
      socket.once('timeout', onTimeout);
    }
  }

  #h2server(): H2Server {
    return (this.#h2 ??= new H2Server(this.rt));
  }
}
