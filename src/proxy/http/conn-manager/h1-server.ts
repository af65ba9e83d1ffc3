import type net from 'node:net';
import { RequestParser, type RequestHead, type H1Error } from '../h1/parser.js';
import { serializeResponseHead, encodeChunkHeader, CRLF, LAST_CHUNK, serializeTrailers, reasonPhrase } from '../h1/serialize.js';
import { HeaderMap } from '../headers.js';
import type { RequestHeaders, ResponseEncoder } from '../stream.js';
import { HttpStream, type HcmRuntime } from './http-stream.js';
import type { ConnectionInfo } from './connection-info.js';
import { startUpgrade } from './h1-upgrade.js';
import { replyAndClose } from './local-reply.js';
import { parseRequestTarget } from '../h1/request-target.js';
import { DRAIN_EVENT } from '../../listener/drain.js';
import { holdWrites, releaseWrites, writeHeld } from '../../io/write-batch.js';
import { SilenceMeter } from '../../io/silence.js';

const EMPTY = Buffer.alloc(0);
/** Bodies up to this size are sent in one write with their head. */
const SMALL_BODY = 16 * 1024;
const CONTINUE_100 = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/**
 * A downstream HTTP/1.1 connection: parses requests, runs one HttpStream at a time (a
 * pipelined request waits, unparsed, until the previous response is done), encodes responses.
 */
export class H1ServerConnection implements ResponseEncoder {
  readonly #socket: net.Socket;
  readonly #rt: HcmRuntime;
  readonly #info: ConnectionInfo;
  readonly #parser: RequestParser;
  #stream: HttpStream | undefined;
  #head: RequestHead | undefined;
  #held: Buffer | undefined;
  #chunked = false;
  #keepAlive = true;
  #headOnly = false;
  #closing = false;
  #headerTimer: NodeJS.Timeout | undefined;
  #upgraded = false;
  #awaitingBodyEnd = false;
  readonly #silence: SilenceMeter;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The head went into this turn's held output and no body has followed it yet. */
  #headHeld = false;
  #starting: { req: RequestHeaders; endStream: boolean; chunks: Buffer[]; complete: boolean; trailers: HeaderMap | undefined } | undefined;

  constructor(socket: net.Socket, rt: HcmRuntime, info: ConnectionInfo, initial: Buffer | undefined) {
    this.#socket = socket;
    this.#rt = rt;
    this.#info = info;
    const cfg = rt.config;
    this.#parser = new RequestParser(
      { onHead: this.#onHead, onBody: this.#onBody, onComplete: this.#onComplete, onError: this.#onParseError },
      { maxHeaderBytes: cfg.maxRequestHeadersBytes, maxHeaderCount: cfg.maxHeadersCount },
    );
    rt.stats.downstream_cx_http1_total.inc();
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    socket.on('error', () => { /* 'close' follows */ });
    const c = rt.config;
    this.#silence = new SilenceMeter(c.idleTickMs / 4);
    this.#idleTimer = this.#silence.every(this.#onIdle);
    if (initial && initial.length > 0) this.#onData(initial);
    socket.once(DRAIN_EVENT, this.#onDrainListener);
  }

  get writable(): boolean {
    return !this.#socket.writableNeedDrain;
  }

  // --- input ---

  #onData = (data: Buffer): void => {
    this.#rt.stats.downstream_cx_rx_bytes_total.inc(data.length);
    if (this.#held) {
      // A pipelined request waits for the response in progress.
      this.#held = Buffer.concat([this.#held, data]);
      return;
    }
    this.#feed(data);
  };

  #feed(data: Buffer): void {
    if (this.#stream === undefined && this.#headerTimer === undefined && this.#rt.config.requestHeadersTimeoutMs > 0) {
      this.#headerTimer = setTimeout(this.#onHeaderTimeout, this.#rt.config.requestHeadersTimeoutMs);
    }
    const n = this.#parser.execute(data);
    if (this.#starting) {
      if (this.#closing) this.#starting = undefined;
      else this.#start();
    }
    if (this.#upgraded || this.#closing) {
      if (this.#upgraded && n < data.length) this.#held = data.subarray(n);
      return;
    }
    if (n < data.length) {
      this.#held = data.subarray(n);
      this.#socket.pause();
    }
  }

  #onHead = (head: RequestHead): void => {
    if (this.#headerTimer) { clearTimeout(this.#headerTimer); this.#headerTimer = undefined; }
    this.#parser.pause();
    const rt = this.#rt;
    rt.stats.downstream_rq_http1_total.inc();
    this.#head = head;
    this.#keepAlive = head.keepAlive;
    this.#headOnly = head.method === 'HEAD';
    const headers = head.headers;
    const target = parseRequestTarget(head.method, head.target);
    if (target.kind === 'refused') {
      // Answered here and never forwarded; what follows on the connection is not read.
      if (target.status === 400) rt.stats.downstream_cx_protocol_error.inc();
      this.#closing = true;
      replyAndClose(this.#socket, rt, target.status, `${target.reason}\n`);
      return;
    }
    // absolute-form (a forward-proxy request): the URI's authority wins over Host (RFC 9112 §3.2.2).
    const path = target.kind === 'origin' || target.kind === 'absolute' ? target.path : '*';
    const authority = target.kind === 'absolute' ? target.authority : headers.get('host') ?? '';
    headers.remove('host');
    if (head.expectContinue) {
      headers.remove('expect');
      holdWrites(this.#socket);
      this.#socket.write(CONTINUE_100);
    }
    const req: RequestHeaders = { method: head.method, path, authority, scheme: this.#info.tls ? 'https' : 'http', headers, protocol: head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0' };
    if (head.upgrade !== undefined) {
      if (rt.config.upgrades.has(head.upgrade.toLowerCase())) {
        this.#upgraded = true;
        rt.stats.downstream_cx_upgrades_total.inc();
        releaseWrites(this.#socket);
        startUpgrade(this.#socket, rt, this.#info, req, head.upgrade, () => this.#takeHeld());
        return;
      }
    }
    const stream = new HttpStream(rt, this.#info, this);
    this.#stream = stream;
    stream.onDone = this.#onStreamDone;
    // Nothing goes upstream until the parser has checked all bytes it has now: a request whose
    // body turns out malformed in the same read is answered 400 and never forwarded.
    this.#starting = { req, endStream: head.contentLength <= 0 && !head.chunked, chunks: [], complete: false, trailers: undefined };
  };

  #takeHeld(): Buffer {
    const h = this.#held ?? EMPTY;
    this.#held = undefined;
    return h;
  }

  #onBody = (chunk: Buffer): void => {
    const st = this.#starting;
    if (st) { st.chunks.push(chunk); return; }
    const s = this.#stream;
    if (s) s.decodeData(chunk, false);
  };

  #onComplete = (trailers: HeaderMap | undefined): void => {
    const st = this.#starting;
    if (st) { st.complete = true; st.trailers = trailers; return; }
    this.#deliverComplete(trailers);
  };

  /** Starts the stream parsed in the last read, with the body bytes that came with it. */
  #start(): void {
    const st = this.#starting!;
    this.#starting = undefined;
    const s = this.#stream!;
    s.decodeHeaders(st.req, st.endStream);
    for (const c of st.chunks) s.decodeData(c, false);
    if (st.complete) this.#deliverComplete(st.trailers);
  }

  #deliverComplete(trailers: HeaderMap | undefined): void {
    if (this.#awaitingBodyEnd) {
      this.#awaitingBodyEnd = false;
      this.#next();
      return;
    }
    const s = this.#stream;
    const head = this.#head;
    if (!s || !head) return;
    if (trailers && trailers.size > 0) s.decodeTrailers(trailers);
    else if (head.contentLength > 0 || head.chunked) s.decodeData(EMPTY, true);
  }


  #onParseError = (err: H1Error): void => {
    this.#rt.stats.downstream_cx_protocol_error.inc();
    const s = this.#stream;
    if (this.#starting) {
      // The request never went upstream: answer it like any other bad request.
      this.#starting = undefined;
      this.#stream = undefined;
      s?.abandon();
    } else if (s && !s.finished) {
      // Bad framing inside a body already streaming upstream: abort it; nothing more on this
      // connection can be trusted.
      this.#closing = true;
      s.onDownstreamProtocolError(err.status);
      releaseWrites(this.#socket);
      this.#socket.end();
      return;
    }
    this.#closing = true;
    replyAndClose(this.#socket, this.#rt, err.status, reasonPhrase(err.status));
  };

  #onEnd = (): void => {
    // Half-close from the client: finish what is in flight, then close.
    this.#parser.finish();
    if (!this.#stream || this.#stream.finished) { releaseWrites(this.#socket); this.#socket.end(); }
    else this.#keepAlive = false;
  };

  #onClose = (): void => {
    if (this.#headerTimer) clearTimeout(this.#headerTimer);
    if (this.#idleTimer) { clearInterval(this.#idleTimer); this.#idleTimer = undefined; }
    const s = this.#stream;
    if (s && !s.finished) s.onDownstreamReset();
    this.#stream = undefined;
  };

  #onDrain = (): void => {
    this.#stream?.onDownstreamDrain();
  };

  readDisable(disable: boolean): void {
    if (this.#held) return; // already paused for pipelining; #next resumes
    if (disable) this.#socket.pause();
    else this.#socket.resume();
  }

  /**
   * One interval per connection, a quarter of the shortest idle timeout, serves both the
   * connection idle timeout (no stream) and the stream idle timeout (a stream in progress), as
   * on HTTP/2 (h2-server.ts): a tick that saw no bytes either way adds to the silence, one that
   * saw traffic resets it, so a timeout fires between its limit and 1.25 × its limit. Neither
   * a request nor a read or write touches a timer (a socket timeout would be re-armed on every
   * read and write).
   */
  #onIdle = (): void => {
    const sock = this.#socket;
    const quiet = this.#silence.tick(sock);
    if (quiet === 0) return;
    const s = this.#stream;
    const active = s !== undefined && !s.finished;
    const cfg = this.#rt.config;
    const limit = active ? s.streamIdleTimeoutMs : cfg.idleTimeoutMs;
    if (limit > 0 && quiet >= limit) {
      if (active) { s.onStreamIdleTimeout(); return; }
      this.#rt.stats.downstream_cx_idle_timeout.inc();
      sock.destroy();
    }
  };

  #onHeaderTimeout = (): void => {
    this.#headerTimer = undefined;
    this.#rt.stats.downstream_rq_header_timeout.inc();
    this.#closing = true;
    replyAndClose(this.#socket, this.#rt, 408, 'request header timeout');
  };

  // --- output (ResponseEncoder) ---

  encodeHeaders(status: number, headers: HeaderMap, endStream: boolean): void {
    const head = this.#head!;
    const noBody = this.#headOnly || status === 204 || status === 304 || status < 200;
    this.#chunked = false;
    if (!noBody && !headers.has('content-length')) {
      if (endStream) headers.add('content-length', '0');
      else if (head.versionMinor === 1) { headers.add('transfer-encoding', 'chunked'); this.#chunked = true; }
      else this.#keepAlive = false; // HTTP/1.0: the close ends the body
    }
    if (!this.#keepAlive) headers.set('connection', 'close');
    else if (head.versionMinor === 0) headers.set('connection', 'keep-alive');
    const text = serializeResponseHead(status, undefined, headers, head.versionMinor);
    this.#rt.stats.downstream_cx_tx_bytes_total.inc(text.length);
    // Held until the end of the turn: a small body that arrives in the same read (the common
    // case) joins it, one string, one write, one packet.
    writeHeld(this.#socket, text);
    if (endStream) this.#responseDone();
    else this.#headHeld = true;
  }

  encodeData(chunk: Buffer, endStream: boolean): void {
    const s = this.#socket;
    if (chunk.length === 0) {
      // The end of a body often comes alone as an empty chunk: it adds at most the last chunk
      // to the held text, so head and body stay one uncorked write.
      if (!endStream) return;
      this.#headHeld = false;
      if (this.#chunked && !this.#headOnly) writeHeld(s, '0\r\n\r\n');
      this.#responseDone();
      return;
    }
    const first = this.#headHeld;
    this.#headHeld = false;
    if (first && !this.#headOnly && chunk.length <= SMALL_BODY) {
      const body = chunk.toString('latin1');
      writeHeld(s, this.#chunked ? `${encodeChunkHeader(chunk.length)}${body}\r\n${endStream ? '0\r\n\r\n' : ''}` : body);
      this.#rt.stats.downstream_cx_tx_bytes_total.inc(chunk.length);
      if (endStream) this.#responseDone();
      return;
    }
    holdWrites(s);
    if (!this.#headOnly) {
      if (this.#chunked) {
        if (chunk.length > 0) {
          s.write(encodeChunkHeader(chunk.length), 'latin1');
          s.write(chunk);
          s.write(CRLF);
        }
        if (endStream) s.write(LAST_CHUNK);
      } else if (chunk.length > 0) {
        s.write(chunk);
      }
      this.#rt.stats.downstream_cx_tx_bytes_total.inc(chunk.length);
    }
    if (endStream) this.#responseDone();
  }

  encodeTrailers(trailers: HeaderMap): void {
    this.#headHeld = false;
    holdWrites(this.#socket);
    if (this.#chunked && !this.#headOnly) this.#socket.write(serializeTrailers(trailers), 'latin1');
    else if (this.#chunked) this.#socket.write(LAST_CHUNK);
    this.#responseDone();
  }

  reset(): void {
    this.#headHeld = false;
    this.#closing = true;
    // What was written before the reset leaves first, as it would have unbatched.
    releaseWrites(this.#socket);
    this.#socket.destroy();
  }

  /** The listener drains: close now if idle, else after the response in flight. */
  #onDrainListener = (): void => {
    this.#keepAlive = false;
    if (!this.#stream && !this.#closing && !this.#upgraded) { this.#closing = true; releaseWrites(this.#socket); this.#socket.end(); }
  };

  #responseDone(): void {
    if (!this.#keepAlive) {
      this.#closing = true;
      releaseWrites(this.#socket);
      this.#socket.end();
    }
  }

  #onStreamDone = (s: HttpStream): void => {
    if (this.#stream !== s) return;
    this.#stream = undefined;
    if (this.#closing || this.#socket.destroyed) return;
    if (!this.#keepAlive) return;
    if (!s.requestEnded) {
      // Answered before the body arrived (a local reply): read the body to its end, then go on.
      this.#awaitingBodyEnd = true;
      return;
    }
    this.#next();
  };

  #next(): void {
    this.#head = undefined;
    this.#parser.resume();
    const held = this.#held;
    if (held) {
      this.#held = undefined;
      this.#socket.resume();
      this.#feed(held);
    }
  }
}
