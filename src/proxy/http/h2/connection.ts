/**
 * One HTTP/2 connection over a socket (RFC 9113), as server or as client: the connection
 * preface and SETTINGS exchange, frame dispatch, the stream state machine, HPACK state, flow
 * control both ways, GOAWAY and graceful drain, and the strictness rules: what the RFC calls a
 * connection error ends the connection with GOAWAY, a stream error resets one stream, and a
 * malformed message never reaches the codec adapter.
 *
 * Flow control: we give the peer `connectionWindow` for the connection, credited back as
 * DATA arrives, and `streamWindow` per stream, credited back only as the stream's consumer
 * takes the data; a consumer that disables reading (readDisable) stops the credit, so the
 * peer stops after one window. Sending, DATA waits in its stream for window and for a socket
 * that is not backed up; `writable` turns false above a stream's high-water mark or while the
 * socket is backed up, and onWritable follows.
 *
 * All frames produced in one event-loop turn leave in one write (frame-writer.ts).
 */
import type net from 'node:net';
import {
  CANCEL, COMPRESSION_ERROR, CONTINUATION, DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_FRAME_SIZE, ENHANCE_YOUR_CALM,
  FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FLAG_PADDED, FLAG_PRIORITY, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, GOAWAY,
  HEADERS, MAX_MAX_FRAME_SIZE, MAX_STREAM_ID, MAX_WINDOW_SIZE, NO_ERROR, PING, PREFACE, PRIORITY, PROTOCOL_ERROR,
  PUSH_PROMISE, REFUSED_STREAM, RST_STREAM, SETTINGS, SETTINGS_ENABLE_PUSH, SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE,
  STREAM_CLOSED, WINDOW_UPDATE,
} from './constants.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import { FrameWriter, type FlushOwner } from './frame-writer.js';
import { HpackDecoder } from './hpack-decoder.js';
import { HpackEncoder } from './hpack-encoder.js';
import { checkRequest, checkResponse, checkTrailers, type H2RequestHead } from './header-validation.js';
import { FloodGuard, DEFAULT_FLOOD_LIMITS, type FloodLimits } from './flood-guard.js';
import { H2Stream, ResetCause, STREAM_HIGH_WATER, type H2StreamHandler } from './stream.js';
import { StreamTable } from './stream-table.js';

const EMPTY = Buffer.alloc(0);
/** Bytes of queued DATA one flush moves to the socket at most (the rest after it drains). */
const PUMP_BUDGET = 128 * 1024;
/** Streams we reset, remembered so frames the peer had already sent on them are ignored. */
const RESET_MEMORY = 1024;

export interface H2ConnectionOptions {
  role: 'server' | 'client';
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams the peer may open at once (server). */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: what the peer may send on a stream before we credit it. */
  streamWindow: number;
  /** Our connection-level receive window. */
  connectionWindow: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE; longer decoded field sections are refused. */
  maxHeaderListSize: number;
  /** Fields per section, at most. */
  maxHeaderCount: number;
  flood?: FloodLimits;
}

/** What the connection reports to its adapter. */
export interface H2ConnectionEvents {
  /** Server: a new, valid request. Set `stream.handler` (or reset the stream) before returning. */
  onRequest?(stream: H2Stream, head: H2RequestHead, endStream: boolean): void;
  /** Server: a request head over the size or count limit; answer it (431) or reset it. */
  onRequestHeadersTooLarge?(stream: H2Stream, endStream: boolean): void;
  /** A stream left the connection (ended both ways or reset). */
  onStreamClose?(stream: H2Stream): void;
  /** The peer sent GOAWAY: no new streams on this connection. */
  onGoaway?(lastStreamId: number, code: number): void;
  /** We reset a stream for a protocol error of the peer (RST_STREAM `code`). */
  onStreamError?(streamId: number, code: number, why: string): void;
  /** We ended the connection for a protocol error of the peer (or a flood). */
  onConnectionError?(code: number, why: string): void;
  /** The socket is gone; every open stream has been reset. */
  onClose?(): void;
  /** Every frame in one socket read has been handled (requests seen in it can start now). */
  onReadEnd?(): void;
  /** Bytes read from / written to the socket. */
  onRead?(bytes: number): void;
  onWrite?(bytes: number): void;
}

export interface H2RequestPseudo {
  method: string;
  scheme: string;
  authority: string;
  path: string;
}

export class Http2Connection implements FrameSink, FlushOwner {
  readonly socket: net.Socket;
  readonly isServer: boolean;
  readonly streams = new StreamTable();
  readonly #events: H2ConnectionEvents;
  readonly #opts: H2ConnectionOptions;
  readonly #reader: FrameReader;
  readonly #writer: FrameWriter;
  readonly #encoder = new HpackEncoder();
  readonly #decoder = new HpackDecoder();
  /** Decoded fields of the block being handled (reused: see HpackDecoder.decode). */
  readonly #fields: string[] = [];
  readonly #flood: FloodGuard;
  readonly #streamThreshold: number;
  readonly #connThreshold: number;

  #prefaceLeft: number;
  #settingsReceived = false;
  /** The peer acknowledged our SETTINGS: it uses our initial window from now on. */
  #settingsAcked = false;
  #highestPeerId = 0;
  #nextStreamId = 1;
  #activePeer = 0;
  #goawaySent = false;
  #goawayReceived = false;
  #peerEnded = false;
  #closing = false;
  #closed = false;
  readonly #resetIds = new Set<number>();

  // The peer's settings.
  peerMaxConcurrentStreams = 0xffffffff;
  #peerInitialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;

  // Connection-level flow control.
  #sendWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  #recvWindow: number;
  #recvUnacked = 0;

  // A field block split over CONTINUATION frames.
  #hbStreamId = 0;
  #hbFlags = 0;
  #hbSelfDep = false;
  #hbChunks: Buffer[] = [];
  #hbLength = 0;
  #hbFrames = 0;
  readonly #hbMax: number;

  // The DATA frame being read.
  #dataStream: H2Stream | undefined;
  #dataFlags = 0;
  #dataLength = 0;

  // Sending.
  #sendList: H2Stream[] = [];
  #blocked = false;
  #notify: H2Stream[] = [];

  constructor(socket: net.Socket, opts: H2ConnectionOptions, events: H2ConnectionEvents) {
    this.socket = socket;
    this.#opts = opts;
    this.#events = events;
    this.isServer = opts.role === 'server';
    this.#prefaceLeft = this.isServer ? PREFACE.length : 0;
    this.#reader = new FrameReader(this);
    this.#writer = new FrameWriter(socket, this);
    this.#flood = new FloodGuard(opts.flood ?? DEFAULT_FLOOD_LIMITS);
    this.#decoder.maxListSize = opts.maxHeaderListSize;
    this.#decoder.maxFields = opts.maxHeaderCount;
    this.#hbMax = 2 * opts.maxHeaderListSize + 16384;
    this.#streamThreshold = opts.streamWindow >>> 1;
    this.#connThreshold = opts.connectionWindow >>> 1;
    this.#recvWindow = opts.connectionWindow;

    const w = this.#writer;
    if (!this.isServer) w.raw(PREFACE);
    const settings: number[] = [];
    if (this.isServer) settings.push(SETTINGS_MAX_CONCURRENT_STREAMS, opts.maxConcurrentStreams);
    else settings.push(SETTINGS_ENABLE_PUSH, 0);
    if (opts.streamWindow !== DEFAULT_INITIAL_WINDOW_SIZE) settings.push(SETTINGS_INITIAL_WINDOW_SIZE, opts.streamWindow);
    settings.push(SETTINGS_MAX_HEADER_LIST_SIZE, opts.maxHeaderListSize);
    w.settings(settings);
    if (opts.connectionWindow > DEFAULT_INITIAL_WINDOW_SIZE) w.windowUpdate(0, opts.connectionWindow - DEFAULT_INITIAL_WINDOW_SIZE);

    // Small frames (SETTINGS ACKs, WINDOW_UPDATEs) must not wait for Nagle and delayed ACKs.
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', noop);
  }

  /** The socket is backed up: DATA waits. */
  get blocked(): boolean { return this.#blocked; }
  get closed(): boolean { return this.#closed || this.#closing; }
  /** Streams open now. */
  get activeStreams(): number { return this.streams.size; }
  /** Client: a new stream can be started here (not going away, ids left). */
  get canOpenStream(): boolean {
    return !this.#closing && !this.#closed && !this.#goawayReceived && !this.#goawaySent && this.#nextStreamId <= MAX_STREAM_ID;
  }
  get goingAway(): boolean { return this.#goawaySent || this.#goawayReceived; }

  /** Feeds bytes read before the connection took the socket (the codec sniff). */
  receive(chunk: Buffer): void {
    this.#onData(chunk);
  }

  // --- input ---

  readonly #onData = (chunk: Buffer): void => {
    this.#events.onRead?.(chunk.length);
    if (this.#closing) return;
    let start = 0;
    if (this.#prefaceLeft > 0) {
      const off = PREFACE.length - this.#prefaceLeft;
      const n = Math.min(this.#prefaceLeft, chunk.length);
      for (let i = 0; i < n; i++) {
        if (chunk[i] !== PREFACE[off + i]) { this.#connectionError(PROTOCOL_ERROR, 'bad connection preface'); return; }
      }
      this.#prefaceLeft -= n;
      start = n;
      if (start === chunk.length) return;
    }
    this.#reader.feed(chunk, start);
    this.#events.onReadEnd?.();
  };

  onFrameError(code: number, message: string): void {
    this.#connectionError(code, message);
  }

  onFrame(type: number, flags: number, id: number, buf: Buffer, s: number, e: number): void {
    if (this.#hbStreamId !== 0 && type !== CONTINUATION) { this.#connectionError(PROTOCOL_ERROR, 'frame inside a field block'); return; }
    if (!this.#settingsReceived && (type !== SETTINGS || (flags & FLAG_ACK) !== 0)) {
      this.#connectionError(PROTOCOL_ERROR, 'the first frame is not SETTINGS');
      return;
    }
    switch (type) {
      case HEADERS: this.#onHeaders(flags, id, buf, s, e); return;
      case CONTINUATION: this.#onContinuation(flags, id, buf, s, e); return;
      case SETTINGS: this.#onSettings(flags, id, buf, s, e); return;
      case WINDOW_UPDATE: this.#onWindowUpdate(id, buf, s, e); return;
      case RST_STREAM: this.#onRstStream(id, buf, s, e); return;
      case PING: this.#onPing(flags, id, buf, s, e); return;
      case GOAWAY: this.#onGoaway(id, buf, s, e); return;
      case PRIORITY: this.#onPriority(id, buf, s, e); return;
      case PUSH_PROMISE: this.#connectionError(PROTOCOL_ERROR, 'PUSH_PROMISE, but push is disabled'); return;
      default: return; // unknown frame types are ignored (§4.1)
    }
  }

  /** A new stream's receive window: until our SETTINGS are acknowledged the peer may assume the default. */
  #recvInitial(): number {
    const w = this.#opts.streamWindow;
    return this.#settingsAcked || w >= DEFAULT_INITIAL_WINDOW_SIZE ? w : DEFAULT_INITIAL_WINDOW_SIZE;
  }

  /** Whether `id` names a stream that was never opened (RFC 9113 §5.1 "idle"). */
  #isIdle(id: number): boolean {
    if (this.isServer) return (id & 1) === 0 || id > this.#highestPeerId;
    return (id & 1) === 0 || id >= this.#nextStreamId;
  }

  #onHeaders(flags: number, id: number, buf: Buffer, s: number, e: number): void {
    if (id === 0) { this.#connectionError(PROTOCOL_ERROR, 'HEADERS on stream 0'); return; }
    let p = s;
    let end = e;
    if (flags & FLAG_PADDED) {
      if (p >= end) { this.#connectionError(FRAME_SIZE_ERROR, 'padded HEADERS without a pad length'); return; }
      const pad = buf[p++]!;
      if (pad > end - p) { this.#connectionError(PROTOCOL_ERROR, 'HEADERS padding longer than the frame'); return; }
      end -= pad;
    }
    let selfDep = false;
    if (flags & FLAG_PRIORITY) {
      if (end - p < 5) { this.#connectionError(FRAME_SIZE_ERROR, 'HEADERS too short for its priority'); return; }
      selfDep = (buf.readUInt32BE(p) & 0x7fffffff) === id;
      p += 5;
    }
    const calm = this.#flood.frame(p === end && (flags & FLAG_END_HEADERS) === 0);
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    if ((flags & FLAG_END_HEADERS) === 0) {
      const n = end - p;
      if (n > this.#hbMax) { this.#connectionError(ENHANCE_YOUR_CALM, 'field block too large'); return; }
      this.#hbStreamId = id;
      this.#hbFlags = flags;
      this.#hbSelfDep = selfDep;
      this.#hbChunks = [buf.subarray(p, end)];
      this.#hbLength = n;
      this.#hbFrames = 1;
      return;
    }
    this.#headerBlock(id, flags, buf, p, end, selfDep);
  }

  #onContinuation(flags: number, id: number, buf: Buffer, s: number, e: number): void {
    if (this.#hbStreamId === 0 || id !== this.#hbStreamId) { this.#connectionError(PROTOCOL_ERROR, 'CONTINUATION without a field block in progress'); return; }
    const n = e - s;
    const calm = this.#flood.frame(n === 0 && (flags & FLAG_END_HEADERS) === 0);
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    this.#hbLength += n;
    if (this.#hbLength > this.#hbMax || ++this.#hbFrames > 128) { this.#connectionError(ENHANCE_YOUR_CALM, 'field block too large'); return; }
    if (n > 0) this.#hbChunks.push(buf.subarray(s, e));
    if ((flags & FLAG_END_HEADERS) === 0) return;
    const block = Buffer.concat(this.#hbChunks, this.#hbLength);
    this.#hbChunks = [];
    this.#hbStreamId = 0;
    this.#headerBlock(id, this.#hbFlags, block, 0, block.length, this.#hbSelfDep);
  }

  /** A complete field block for stream `id`. */
  #headerBlock(id: number, flags: number, buf: Buffer, s: number, e: number, selfDep: boolean): void {
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    const list = this.#fields;
    const dec = this.#decoder;
    if (!dec.decode(buf, s, e, list)) { this.#connectionError(COMPRESSION_ERROR, `HPACK: ${dec.error}`); return; }
    const n = dec.outLength;
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.isServer && (id & 1) === 1 && id > this.#highestPeerId) { this.#newRequest(id, list, n, endStream, selfDep); return; }
      if (this.#isIdle(id)) { this.#connectionError(PROTOCOL_ERROR, `HEADERS on idle stream ${id}`); return; }
      if (this.#resetIds.has(id)) return; // sent before our RST_STREAM arrived
      this.#connectionError(this.isServer && id < this.#highestPeerId ? PROTOCOL_ERROR : STREAM_CLOSED, `HEADERS on closed stream ${id}`);
      return;
    }
    stream.idleTicks = 0;
    if (selfDep) { this.#protocolReset(stream, PROTOCOL_ERROR, 'stream depends on itself'); return; }
    if (stream.remoteEnded) { this.#protocolReset(stream, STREAM_CLOSED, 'HEADERS after END_STREAM'); return; }
    if (!stream.headersReceived) { this.#responseHead(stream, list, n, endStream); return; }
    // Trailers.
    if (!endStream) { this.#protocolReset(stream, PROTOCOL_ERROR, 'trailers without END_STREAM'); return; }
    const bad = dec.overflow ? 'trailers too large' : dec.invalid ? 'invalid field in trailers' : checkTrailers(list, n);
    if (bad !== undefined) { this.#protocolReset(stream, PROTOCOL_ERROR, bad); return; }
    if (stream.contentLength >= 0 && stream.received !== stream.contentLength) { this.#protocolReset(stream, PROTOCOL_ERROR, 'body shorter than content-length'); return; }
    stream.remoteEnded = true;
    stream.handler?.onTrailers(stream, list.slice(0, n));
    this.#maybeClose(stream);
  }

  #newRequest(id: number, list: string[], n: number, endStream: boolean, selfDep: boolean): void {
    this.#highestPeerId = id;
    if (this.#goawaySent) return; // not covered by our GOAWAY: ignored (the block is decoded)
    const dec = this.#decoder;
    if (selfDep || dec.invalid) { this.#refuse(id, PROTOCOL_ERROR, selfDep ? 'stream depends on itself' : 'invalid field'); return; }
    if (this.#activePeer >= this.#opts.maxConcurrentStreams) { this.#refuse(id, REFUSED_STREAM, 'too many concurrent streams'); return; }
    const stream = new H2Stream(this, id, this.#peerInitialWindow, this.#recvInitial(), true);
    stream.remoteEnded = endStream;
    this.streams.set(id, stream);
    this.#activePeer++;
    this.#flood.streamOpened();
    if (dec.overflow) { this.#events.onRequestHeadersTooLarge?.(stream, endStream); return; }
    const head = checkRequest(list, n);
    if (typeof head === 'string') { this.#protocolReset(stream, PROTOCOL_ERROR, head); return; }
    if (endStream && head.contentLength > 0) { this.#protocolReset(stream, PROTOCOL_ERROR, 'content-length with an empty body'); return; }
    stream.contentLength = head.contentLength;
    this.#events.onRequest?.(stream, head, endStream);
  }

  #responseHead(stream: H2Stream, list: string[], n: number, endStream: boolean): void {
    const dec = this.#decoder;
    const head = dec.overflow ? 'response head too large' : dec.invalid ? 'invalid field' : checkResponse(list, n);
    if (typeof head === 'string') { this.#protocolReset(stream, PROTOCOL_ERROR, head); return; }
    if (head.status < 200) {
      if (endStream) this.#protocolReset(stream, PROTOCOL_ERROR, 'interim response with END_STREAM');
      return; // 1xx: the final head follows
    }
    stream.headersReceived = true;
    const noBody = stream.noResponseBody || head.status === 204 || head.status === 304;
    stream.contentLength = noBody ? 0 : head.contentLength;
    if (endStream && stream.contentLength > 0) { this.#protocolReset(stream, PROTOCOL_ERROR, 'content-length with an empty body'); return; }
    stream.remoteEnded = endStream;
    stream.handler?.onResponseHeaders(stream, head, endStream);
    if (endStream) this.#maybeClose(stream);
  }

  onDataHeader(id: number, flags: number, length: number): void {
    this.#dataStream = undefined;
    if (this.#hbStreamId !== 0) { this.#connectionError(PROTOCOL_ERROR, 'frame inside a field block'); return; }
    if (!this.#settingsReceived) { this.#connectionError(PROTOCOL_ERROR, 'the first frame is not SETTINGS'); return; }
    if (id === 0) { this.#connectionError(PROTOCOL_ERROR, 'DATA on stream 0'); return; }
    const calm = this.#flood.frame(length === 0 && (flags & FLAG_END_STREAM) === 0);
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    if (length > this.#recvWindow) { this.#connectionError(FLOW_CONTROL_ERROR, 'DATA beyond the connection window'); return; }
    if (length > 0) {
      // The connection window is credited as DATA arrives: memory is bounded per stream.
      this.#recvWindow -= length;
      this.#recvUnacked += length;
      if (this.#recvUnacked >= this.#connThreshold) {
        this.#writer.windowUpdate(0, this.#recvUnacked);
        this.#recvWindow += this.#recvUnacked;
        this.#recvUnacked = 0;
      }
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.#isIdle(id)) { this.#connectionError(PROTOCOL_ERROR, `DATA on idle stream ${id}`); return; }
      if (!this.#resetIds.has(id)) this.#connectionError(STREAM_CLOSED, `DATA on closed stream ${id}`);
      return;
    }
    if (stream.remoteEnded) { this.#protocolReset(stream, STREAM_CLOSED, 'DATA after END_STREAM'); return; }
    if (!stream.headersReceived) { this.#protocolReset(stream, PROTOCOL_ERROR, 'DATA before the response head'); return; }
    if (length > stream.recvWindow) { this.#protocolReset(stream, FLOW_CONTROL_ERROR, 'DATA beyond the stream window'); return; }
    stream.recvWindow -= length;
    stream.idleTicks = 0;
    this.#dataStream = stream;
    this.#dataFlags = flags;
    this.#dataLength = length;
  }

  onDataBytes(buf: Buffer, s: number, e: number, last: boolean): void {
    const stream = this.#dataStream;
    if (stream === undefined) return;
    if (stream.closed) { this.#dataStream = undefined; return; }
    const n = e - s;
    if (n > 0) {
      stream.received += n;
      if (stream.contentLength >= 0 && stream.received > stream.contentLength) {
        this.#dataStream = undefined;
        this.#protocolReset(stream, PROTOCOL_ERROR, 'body longer than content-length');
        return;
      }
    }
    const endStream = last && (this.#dataFlags & FLAG_END_STREAM) !== 0;
    if (last) this.#dataStream = undefined;
    if (endStream) {
      if (stream.contentLength >= 0 && stream.received !== stream.contentLength) {
        this.#protocolReset(stream, PROTOCOL_ERROR, 'body shorter than content-length');
        return;
      }
      stream.remoteEnded = true;
    }
    if (n > 0 || endStream) stream.handler?.onData(stream, n === buf.length ? buf : buf.subarray(s, e), endStream);
    if (!last) return;
    if (endStream) this.#maybeClose(stream);
    else if (!stream.closed) this.#consumed(stream, this.#dataLength);
  }

  /** `n` bytes of the stream's window were used: credit them back unless reading is disabled. */
  #consumed(stream: H2Stream, n: number): void {
    if (n === 0) return;
    if (stream.readDisabled) { stream.recvHeld += n; return; }
    stream.recvUnacked += n;
    if (stream.recvUnacked >= this.#streamThreshold) this.#creditStream(stream);
  }

  #creditStream(stream: H2Stream): void {
    const n = stream.recvUnacked;
    stream.recvUnacked = 0;
    stream.recvWindow += n;
    this.#writer.windowUpdate(stream.id, n);
  }

  #onSettings(flags: number, id: number, buf: Buffer, s: number, e: number): void {
    if (id !== 0) { this.#connectionError(PROTOCOL_ERROR, 'SETTINGS on a stream'); return; }
    const len = e - s;
    if (flags & FLAG_ACK) {
      if (len !== 0) { this.#connectionError(FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload'); return; }
      if (this.#settingsAcked) return;
      this.#settingsAcked = true;
      // Streams opened before the peer knew our (smaller) window were allowed the default one.
      const shrink = DEFAULT_INITIAL_WINDOW_SIZE - this.#opts.streamWindow;
      if (shrink > 0) for (const st of this.streams.values()) st.recvWindow -= shrink;
      return;
    }
    if (len % 6 !== 0) { this.#connectionError(FRAME_SIZE_ERROR, 'SETTINGS length not a multiple of 6'); return; }
    if (this.#settingsReceived) {
      const calm = this.#flood.control();
      if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    }
    this.#settingsReceived = true;
    let windowGrew = false;
    for (let p = s; p < e; p += 6) {
      const key = buf.readUInt16BE(p);
      const v = buf.readUInt32BE(p + 2);
      switch (key) {
        case SETTINGS_HEADER_TABLE_SIZE:
          this.#encoder.setPeerMaxTableSize(v);
          break;
        case SETTINGS_ENABLE_PUSH:
          if (v > 1 || (!this.isServer && v !== 0)) { this.#connectionError(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${v}`); return; }
          break;
        case SETTINGS_MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrentStreams = v;
          break;
        case SETTINGS_INITIAL_WINDOW_SIZE: {
          if (v > MAX_WINDOW_SIZE) { this.#connectionError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${v}`); return; }
          const delta = v - this.#peerInitialWindow;
          this.#peerInitialWindow = v;
          if (delta > 0) windowGrew = true;
          for (const st of this.streams.values()) {
            st.sendWindow += delta;
            if (st.sendWindow > MAX_WINDOW_SIZE) { this.#connectionError(FLOW_CONTROL_ERROR, 'stream window overflow'); return; }
          }
          break;
        }
        case SETTINGS_MAX_FRAME_SIZE:
          if (v < DEFAULT_MAX_FRAME_SIZE || v > MAX_MAX_FRAME_SIZE) { this.#connectionError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${v}`); return; }
          this.#peerMaxFrameSize = v;
          break;
        default:
          break; // SETTINGS_MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored
      }
    }
    this.#writer.settingsAck();
    if (this.#controlQueued()) return;
    if (windowGrew && this.#sendList.length > 0) this.#writer.requestFlush();
  }

  #onWindowUpdate(id: number, buf: Buffer, s: number, e: number): void {
    if (e - s !== 4) { this.#connectionError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE length not 4'); return; }
    const inc = buf.readUInt32BE(s) & 0x7fffffff;
    const calm = this.#flood.windowUpdate();
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    if (id === 0) {
      if (inc === 0) { this.#connectionError(PROTOCOL_ERROR, 'WINDOW_UPDATE of 0'); return; }
      this.#sendWindow += inc;
      if (this.#sendWindow > MAX_WINDOW_SIZE) { this.#connectionError(FLOW_CONTROL_ERROR, 'connection window overflow'); return; }
      if (this.#sendList.length > 0) this.#writer.requestFlush();
      return;
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.#isIdle(id)) this.#connectionError(PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    if (inc === 0) { this.#protocolReset(stream, PROTOCOL_ERROR, 'WINDOW_UPDATE of 0'); return; }
    stream.sendWindow += inc;
    if (stream.sendWindow > MAX_WINDOW_SIZE) { this.#protocolReset(stream, FLOW_CONTROL_ERROR, 'stream window overflow'); return; }
    if (stream.inSendList) this.#writer.requestFlush();
  }

  #onRstStream(id: number, buf: Buffer, s: number, e: number): void {
    if (e - s !== 4) { this.#connectionError(FRAME_SIZE_ERROR, 'RST_STREAM length not 4'); return; }
    if (id === 0) { this.#connectionError(PROTOCOL_ERROR, 'RST_STREAM on stream 0'); return; }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.#isIdle(id)) this.#connectionError(PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
      return;
    }
    const code = buf.readUInt32BE(s);
    if (this.isServer && !stream.localEndSent) {
      // A request reset before its response was done: the rapid-reset pattern when it repeats.
      const calm = this.#flood.reset();
      if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    }
    this.#closeStream(stream);
    stream.handler?.onReset(stream, code, ResetCause.Remote);
  }

  #onPing(flags: number, id: number, buf: Buffer, s: number, e: number): void {
    if (e - s !== 8) { this.#connectionError(FRAME_SIZE_ERROR, 'PING length not 8'); return; }
    if (id !== 0) { this.#connectionError(PROTOCOL_ERROR, 'PING on a stream'); return; }
    if (flags & FLAG_ACK) return;
    const calm = this.#flood.control();
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    this.#writer.ping(true, buf, s);
    this.#controlQueued();
  }

  #onGoaway(id: number, buf: Buffer, s: number, e: number): void {
    if (id !== 0) { this.#connectionError(PROTOCOL_ERROR, 'GOAWAY on a stream'); return; }
    if (e - s < 8) { this.#connectionError(FRAME_SIZE_ERROR, 'GOAWAY shorter than 8 bytes'); return; }
    const last = buf.readUInt32BE(s) & 0x7fffffff;
    const code = buf.readUInt32BE(s + 4);
    this.#goawayReceived = true;
    if (!this.isServer) {
      // Our streams above `last` were never processed: refused, safe to retry elsewhere.
      for (const st of [...this.streams.values()]) {
        if (st.id > last && !st.closed) {
          this.#closeStream(st);
          st.handler?.onReset(st, REFUSED_STREAM, ResetCause.Refused);
        }
      }
    }
    this.#events.onGoaway?.(last, code);
    this.#maybeFinish();
  }

  #onPriority(id: number, buf: Buffer, s: number, e: number): void {
    if (id === 0) { this.#connectionError(PROTOCOL_ERROR, 'PRIORITY on stream 0'); return; }
    const stream = this.streams.get(id);
    if (e - s !== 5) {
      if (stream) this.#protocolReset(stream, FRAME_SIZE_ERROR, 'PRIORITY length not 5');
      else this.#connectionError(FRAME_SIZE_ERROR, 'PRIORITY length not 5');
      return;
    }
    const calm = this.#flood.priority();
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    if ((buf.readUInt32BE(s) & 0x7fffffff) !== id) return; // priorities are otherwise ignored (RFC 9113 §5.3.2)
    if (stream) this.#protocolReset(stream, PROTOCOL_ERROR, 'stream depends on itself');
    else this.#connectionError(PROTOCOL_ERROR, 'stream depends on itself');
  }

  // --- streams ---

  /** Client: starts a request. The stream's id is given now, its HEADERS go out in order. */
  request(pseudo: H2RequestPseudo, fields: readonly string[], endStream: boolean, handler: H2StreamHandler): H2Stream {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = new H2Stream(this, id, this.#peerInitialWindow, this.#recvInitial(), false);
    stream.handler = handler;
    stream.noResponseBody = pseudo.method === 'HEAD';
    this.streams.set(id, stream);
    const enc = this.#encoder;
    enc.begin();
    enc.field(':method', pseudo.method);
    if (pseudo.method !== 'CONNECT') enc.field(':scheme', pseudo.scheme);
    if (pseudo.authority.length > 0) enc.field(':authority', pseudo.authority);
    if (pseudo.method !== 'CONNECT') enc.field(':path', pseudo.path);
    this.#encodeFields(fields);
    this.#writeHeaders(stream, endStream);
    return stream;
  }

  /** @internal (H2Stream) */
  sendResponseHeaders(stream: H2Stream, status: number, fields: readonly string[], endStream: boolean): void {
    if (stream.closed || stream.headersSent || this.#closing) return;
    const enc = this.#encoder;
    enc.begin();
    enc.status(status);
    this.#encodeFields(fields);
    this.#writeHeaders(stream, endStream);
  }

  #encodeFields(fields: readonly string[]): void {
    const enc = this.#encoder;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (omitted(name, value)) continue;
      enc.field(name, value);
    }
  }

  #writeHeaders(stream: H2Stream, endStream: boolean): void {
    stream.headersSent = true;
    stream.idleTicks = 0;
    const enc = this.#encoder;
    this.#writer.headers(stream.id, endStream ? FLAG_END_STREAM : 0, enc.buffer, enc.length, this.#peerMaxFrameSize);
    if (endStream) this.#localEnd(stream);
  }

  /** @internal (H2Stream) */
  sendData(stream: H2Stream, chunk: Buffer, endStream: boolean): void {
    if (stream.closed || stream.localEnded || this.#closing) return;
    stream.idleTicks = 0;
    if (stream.queuedBytes === 0 && !this.#blocked) {
      const len = chunk.length;
      let off = 0;
      while (off < len) {
        const n = Math.min(len - off, stream.sendWindow, this.#sendWindow, this.#peerMaxFrameSize);
        if (n <= 0) break;
        stream.sendWindow -= n;
        this.#sendWindow -= n;
        off += n;
        const fin = endStream && off === len;
        if (fin) stream.localEnded = true;
        this.#flood.dataFrameSent();
        this.#writer.data(stream.id, fin ? FLAG_END_STREAM : 0, chunk, off - n, off);
        if (fin) { this.#localEnd(stream); return; }
        if (stream.closed) return;
      }
      if (off === len) {
        if (endStream) {
          stream.localEnded = true;
          this.#writer.data(stream.id, FLAG_END_STREAM, EMPTY, 0, 0);
          this.#localEnd(stream);
        }
        return;
      }
      if (off > 0) chunk = chunk.subarray(off);
    }
    if (chunk.length > 0) {
      (stream.queue ??= []).push(chunk);
      stream.queuedBytes += chunk.length;
    }
    if (endStream) { stream.endQueued = true; stream.localEnded = true; }
    this.#enqueue(stream);
  }

  /** @internal (H2Stream) */
  sendTrailers(stream: H2Stream, fields: readonly string[]): void {
    if (stream.closed || stream.localEnded || this.#closing) return;
    if (fields.length === 0) { this.sendData(stream, EMPTY, true); return; }
    stream.localEnded = true;
    if (stream.queuedBytes > 0) {
      // Encoded when sent: HPACK blocks must reach the peer in the order they were encoded.
      stream.trailersQueued = fields.slice();
      this.#enqueue(stream);
      return;
    }
    this.#writeTrailers(stream, fields);
  }

  #writeTrailers(stream: H2Stream, fields: readonly string[]): void {
    const enc = this.#encoder;
    enc.begin();
    this.#encodeFields(fields);
    this.#writeHeaders(stream, true);
  }

  /** END_STREAM went out. */
  #localEnd(stream: H2Stream): void {
    stream.localEnded = true;
    stream.localEndSent = true;
    if (stream.remoteEnded) { this.#closeStream(stream); return; }
    if (this.isServer) {
      // The response is complete: the rest of the request is not needed (RFC 9113 §8.1).
      this.#writer.rstStream(stream.id, NO_ERROR);
      this.#rememberReset(stream.id);
      this.#closeStream(stream);
    }
  }

  #maybeClose(stream: H2Stream): void {
    if (stream.remoteEnded && stream.localEndSent) this.#closeStream(stream);
  }

  #enqueue(stream: H2Stream): void {
    if (!stream.inSendList) {
      stream.inSendList = true;
      this.#sendList.push(stream);
    }
    if (!this.#blocked) this.#writer.requestFlush();
  }

  /** @internal (H2Stream) */
  resetStream(stream: H2Stream, code: number): void {
    if (stream.closed) return;
    if (!this.#closing) {
      this.#writer.rstStream(stream.id, code);
      this.#rememberReset(stream.id);
    }
    this.#closeStream(stream);
  }

  /** @internal (H2Stream) */
  readDisable(stream: H2Stream, disable: boolean): void {
    if (stream.closed || stream.readDisabled === disable) return;
    stream.readDisabled = disable;
    if (disable || stream.recvHeld === 0) return;
    stream.recvUnacked += stream.recvHeld;
    stream.recvHeld = 0;
    if (!stream.remoteEnded && stream.recvUnacked >= this.#streamThreshold) this.#creditStream(stream);
  }

  /** The peer broke the rules on this stream: RST_STREAM, and the handler hears of it. */
  #protocolReset(stream: H2Stream, code: number, why: string): void {
    if (stream.closed) return;
    this.#events.onStreamError?.(stream.id, code, why);
    const calm = this.#flood.reset();
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    this.#writer.rstStream(stream.id, code);
    this.#rememberReset(stream.id);
    this.#closeStream(stream);
    stream.handler?.onReset(stream, code, ResetCause.Protocol);
    this.#controlQueued();
  }

  /** Resets a stream we never took on. */
  #refuse(id: number, code: number, why: string): void {
    this.#events.onStreamError?.(id, code, why);
    const calm = this.#flood.reset();
    if (calm) { this.#connectionError(ENHANCE_YOUR_CALM, calm); return; }
    this.#writer.rstStream(id, code);
    this.#rememberReset(id);
    this.#controlQueued();
  }

  #rememberReset(id: number): void {
    const ids = this.#resetIds;
    ids.add(id);
    if (ids.size > RESET_MEMORY) ids.delete(ids.values().next().value!);
  }

  /** An answer was queued; too many for a peer that does not read ends the connection. */
  #controlQueued(): boolean {
    const calm = this.#flood.outboundControl(this.#blocked);
    if (!calm) return false;
    this.#connectionError(ENHANCE_YOUR_CALM, calm);
    return true;
  }

  #closeStream(stream: H2Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    if (this.isServer) this.#activePeer--;
    stream.queue = undefined;
    stream.queuedBytes = 0;
    stream.trailersQueued = undefined;
    if (this.#dataStream === stream) this.#dataStream = undefined;
    this.#events.onStreamClose?.(stream);
    this.#maybeFinish();
  }

  // --- output ---

  /** FlushOwner: queued DATA moves into the batch while windows and the socket allow. */
  beforeFlush(): void {
    const list = this.#sendList;
    if (this.#blocked || list.length === 0 || this.#closing) return;
    let budget = PUMP_BUDGET;
    const w = this.#writer;
    let progress = true;
    while (progress && budget > 0) {
      progress = false;
      for (let i = 0; i < list.length; i++) {
        const st = list[i]!;
        if (!st.inSendList) continue;
        if (st.closed) { st.inSendList = false; continue; }
        if (st.queuedBytes > 0) {
          const q = st.queue!;
          const head = q[0]!;
          const avail = head.length - st.queueHead;
          const n = Math.min(avail, st.sendWindow, this.#sendWindow, this.#peerMaxFrameSize, budget);
          if (n > 0) {
            st.sendWindow -= n;
            this.#sendWindow -= n;
            budget -= n;
            st.queuedBytes -= n;
            const start = st.queueHead;
            if (n === avail) { q.shift(); st.queueHead = 0; } else st.queueHead += n;
            const fin = st.queuedBytes === 0 && st.endQueued && st.trailersQueued === undefined;
            this.#flood.dataFrameSent();
            w.data(st.id, fin ? FLAG_END_STREAM : 0, head, start, start + n);
            st.idleTicks = 0;
            progress = true;
            if (fin) { st.inSendList = false; this.#localEnd(st); if (st.needDrain) this.#notify.push(st); continue; }
            if (st.needDrain && st.queuedBytes < STREAM_HIGH_WATER) this.#notify.push(st);
          }
        }
        if (st.queuedBytes === 0) {
          st.inSendList = false;
          const trailers = st.trailersQueued;
          if (trailers !== undefined) {
            st.trailersQueued = undefined;
            this.#writeTrailers(st, trailers);
          } else if (st.endQueued && !st.localEndSent) {
            w.data(st.id, FLAG_END_STREAM, EMPTY, 0, 0);
            this.#localEnd(st);
          }
          if (st.needDrain) this.#notify.push(st);
        }
      }
      if (this.#sendWindow <= 0) break;
    }
    let j = 0;
    for (let i = 0; i < list.length; i++) if (list[i]!.inSendList) list[j++] = list[i]!;
    list.length = j;
  }

  /** FlushOwner: the batch went to the socket. */
  afterFlush(bytes: number): void {
    if (bytes > 0) this.#events.onWrite?.(bytes);
    this.#blocked = this.socket.writableNeedDrain;
    if (!this.#blocked) this.#flushNotify();
  }

  #flushNotify(): void {
    const n = this.#notify;
    if (n.length === 0) return;
    this.#notify = [];
    for (const st of n) {
      if (st.closed || !st.needDrain || st.queuedBytes >= STREAM_HIGH_WATER) continue;
      st.needDrain = false;
      st.handler?.onWritable(st);
    }
  }

  readonly #onDrain = (): void => {
    this.#blocked = false;
    this.#flood.unblocked();
    if (this.#sendList.length > 0) this.#writer.flush();
    if (this.#blocked) return;
    for (const st of this.streams.values()) {
      if (st.needDrain && st.queuedBytes < STREAM_HIGH_WATER) this.#notify.push(st);
    }
    this.#flushNotify();
  };

  // --- connection lifecycle ---

  /**
   * Graceful shutdown (GOAWAY with the last stream we took): streams in progress finish,
   * then the connection closes.
   */
  goAway(code = NO_ERROR, debug = ''): void {
    if (this.#goawaySent || this.#closing || this.#closed) return;
    this.#goawaySent = true;
    this.#writer.goaway(this.#highestPeerId, code, debug);
    this.#maybeFinish();
  }

  /** Closes now: every open stream is reset (onReset with ResetCause.Connection). */
  destroy(): void {
    if (this.#closed) return;
    this.#writer.flush();
    this.#reader.stop();
    this.#writer.close();
    this.socket.destroy();
  }

  #maybeFinish(): void {
    if (this.streams.size > 0 || this.#closing || this.#closed) return;
    if (!this.#goawaySent && !this.#goawayReceived && !this.#peerEnded) return;
    this.#closing = true;
    this.#writer.flush();
    this.#reader.stop();
    this.#writer.close();
    endSocket(this.socket);
  }

  #connectionError(code: number, why: string): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    this.#reader.stop();
    this.#events.onConnectionError?.(code, why);
    const w = this.#writer;
    w.goaway(this.#highestPeerId, code, why);
    w.flush();
    w.close();
    endSocket(this.socket);
    this.#failStreams(code);
  }

  #failStreams(code: number): void {
    if (this.streams.size === 0) return;
    const all = [...this.streams.values()];
    for (const st of all) {
      this.#closeStream(st);
      st.handler?.onReset(st, code, ResetCause.Connection);
    }
  }

  readonly #onEnd = (): void => {
    // The peer will send nothing more: what it asked for can still be answered if the socket
    // stays writable; Node ends our side too (allowHalfOpen is off), so finish now.
    this.#peerEnded = true;
    if (!this.#closing) this.#writer.flush();
    this.#maybeFinish();
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    this.#reader.stop();
    this.#writer.close();
    this.#failStreams(CANCEL);
    this.#events.onClose?.();
  };
}

function noop(): void { /* errors are followed by 'close' */ }

/** Ends the socket after what is queued; destroys it if the peer does not read it in time. */
function endSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const t = setTimeout(() => socket.destroy(), 2000);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

/** Connection-specific fields (RFC 9113 §8.2.2) and the Host field (:authority carries it). */
function omitted(name: string, value: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
    case 'host':
      return true;
    case 'te':
      return value !== 'trailers';
    default:
      return false;
  }
}

