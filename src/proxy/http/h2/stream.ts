/**
 * One HTTP/2 stream (RFC 9113 §5.1): its state, both flow-control windows, the DATA waiting
 * for send window, and what it was told to do. The connection (connection.ts) runs the
 * protocol; the stream is the handle the codec adapters hold, and they call it to send.
 */
import type { Http2Connection } from './connection.js';
import type { H2ResponseHead } from './header-validation.js';

/** Why a stream was aborted (H2StreamHandler.onReset). */
export const ResetCause = {
  /** The peer sent RST_STREAM (`code` is its code). */
  Remote: 0,
  /** The peer broke the protocol on this stream (malformed message, flow control); we reset it. */
  Protocol: 1,
  /** The connection closed or failed. */
  Connection: 2,
  /** The peer's GOAWAY did not cover this stream: it was never processed (safe to retry). */
  Refused: 3,
} as const;
export type ResetCause = (typeof ResetCause)[keyof typeof ResetCause];

/** What a stream reports to whoever uses it. Calls stop after onReset or once both sides ended. */
export interface H2StreamHandler {
  /** Client: the final response head (interim 1xx are skipped). */
  onResponseHeaders(stream: H2Stream, head: H2ResponseHead, endStream: boolean): void;
  /** Body bytes (possibly empty when only `endStream`). The buffer is lent for the call. */
  onData(stream: H2Stream, chunk: Buffer, endStream: boolean): void;
  /** Trailers; the peer's side of the stream has ended. */
  onTrailers(stream: H2Stream, fields: string[]): void;
  /** The stream was aborted; `code` is the RST_STREAM / GOAWAY error code. */
  onReset(stream: H2Stream, code: number, cause: ResetCause): void;
  /** `writable` was false and is true again. */
  onWritable(stream: H2Stream): void;
}

/** A stream's send queue above this many bytes makes it unwritable (the caller should pause). */
export const STREAM_HIGH_WATER = 64 * 1024;

// Bits of H2Stream#flags (one number instead of eleven boolean fields: streams are many and
// short-lived, and every field is 8 bytes of garbage per request).
const LOCAL_ENDED = 1;
const LOCAL_END_SENT = 2;
const REMOTE_ENDED = 4;
const CLOSED = 8;
const HEADERS_RECEIVED = 16;
const HEADERS_SENT = 32;
const NO_RESPONSE_BODY = 64;
const READ_DISABLED = 128;
const END_QUEUED = 256;
const IN_SEND_LIST = 512;
const NEED_DRAIN = 1024;

export class H2Stream {
  readonly id: number;
  readonly conn: Http2Connection;
  handler: H2StreamHandler | undefined;
  flags = 0;

  /** Content-Length of what the peer sends, -1 if none; and what arrived so far. */
  contentLength = -1;
  received = 0;

  // --- flow control ---
  sendWindow: number;
  /** What the peer may still send us. */
  recvWindow: number;
  /** Consumed bytes not yet given back with WINDOW_UPDATE. */
  recvUnacked = 0;
  /** Bytes that arrived while reading was disabled: credited when it is enabled again. */
  recvHeld = 0;

  // --- send queue (DATA waiting for window, then END_STREAM or trailers) ---
  /** Allocated when a first chunk has to wait. */
  queue: Buffer[] | undefined;
  queueHead = 0;
  queuedBytes = 0;
  trailersQueued: string[] | undefined;

  /** Timer ticks without activity (the codec adapters' idle timers). */
  idleTicks = 0;

  constructor(conn: Http2Connection, id: number, sendWindow: number, recvWindow: number, headersReceived: boolean) {
    this.conn = conn;
    this.id = id;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    if (headersReceived) this.flags = HEADERS_RECEIVED;
  }

  #get(bit: number): boolean { return (this.flags & bit) !== 0; }
  #set(bit: number, on: boolean): void { this.flags = on ? this.flags | bit : this.flags & ~bit; }

  // --- state (maintained by the connection) ---
  /** END_STREAM was sent (or is queued behind data): we send nothing more. */
  get localEnded(): boolean { return this.#get(LOCAL_ENDED); }
  set localEnded(v: boolean) { this.#set(LOCAL_ENDED, v); }
  /** END_STREAM went out on the wire. */
  get localEndSent(): boolean { return this.#get(LOCAL_END_SENT); }
  set localEndSent(v: boolean) { this.#set(LOCAL_END_SENT, v); }
  get remoteEnded(): boolean { return this.#get(REMOTE_ENDED); }
  set remoteEnded(v: boolean) { this.#set(REMOTE_ENDED, v); }
  get closed(): boolean { return this.#get(CLOSED); }
  set closed(v: boolean) { this.#set(CLOSED, v); }
  /** Client: the final response head arrived. Server: always true. */
  get headersReceived(): boolean { return this.#get(HEADERS_RECEIVED); }
  set headersReceived(v: boolean) { this.#set(HEADERS_RECEIVED, v); }
  get headersSent(): boolean { return this.#get(HEADERS_SENT); }
  set headersSent(v: boolean) { this.#set(HEADERS_SENT, v); }
  /** The request was HEAD (client): a response body is not expected whatever Content-Length says. */
  get noResponseBody(): boolean { return this.#get(NO_RESPONSE_BODY); }
  set noResponseBody(v: boolean) { this.#set(NO_RESPONSE_BODY, v); }
  get readDisabled(): boolean { return this.#get(READ_DISABLED); }
  set readDisabled(v: boolean) { this.#set(READ_DISABLED, v); }
  /** END_STREAM waits behind queued data. */
  get endQueued(): boolean { return this.#get(END_QUEUED); }
  set endQueued(v: boolean) { this.#set(END_QUEUED, v); }
  /** In the connection's list of streams with queued data. */
  get inSendList(): boolean { return this.#get(IN_SEND_LIST); }
  set inSendList(v: boolean) { this.#set(IN_SEND_LIST, v); }
  /** `writable` answered false: onWritable is owed. */
  get needDrain(): boolean { return this.#get(NEED_DRAIN); }
  set needDrain(v: boolean) { this.#set(NEED_DRAIN, v); }

  /** Whether more data can be given to sendData now without piling up. */
  get writable(): boolean {
    if (this.queuedBytes < STREAM_HIGH_WATER && !this.conn.blocked) return true;
    this.needDrain = true;
    return false;
  }

  /** Server: the response head. `fields` are regular fields, names lower-case. */
  sendResponseHeaders(status: number, fields: readonly string[], endStream: boolean): void {
    this.conn.sendResponseHeaders(this, status, fields, endStream);
  }

  /** Body bytes; the buffer must not change afterwards. */
  sendData(chunk: Buffer, endStream: boolean): void {
    this.conn.sendData(this, chunk, endStream);
  }

  /** Trailers (ends the stream). An empty list ends it with an empty DATA frame instead. */
  sendTrailers(fields: readonly string[]): void {
    this.conn.sendTrailers(this, fields);
  }

  /** Aborts the stream with RST_STREAM; the handler is not called. */
  reset(code: number): void {
    this.conn.resetStream(this, code);
  }

  /** Stops (true) or resumes (false) granting the peer window: it stops sending once it is used. */
  readDisable(disable: boolean): void {
    this.conn.readDisable(this, disable);
  }
}
