/**
 * Outgoing frames of one connection, batched: every frame produced in one event-loop turn
 * leaves in ONE socket write (a writev when large DATA payloads ride along by reference).
 *
 * Frames are serialized into a slab. Bytes handed to the socket are never overwritten while
 * the socket may still hold them: the slab moves forward, a full one is replaced by a new one,
 * and it is reused from the start only when a write went through to the kernel at once. DATA payloads up to COPY_LIMIT are copied next to their frame header; larger ones
 * are referenced, not copied.
 *
 * Flushes are deferred to setImmediate (after the poll phase: the frames caused by every
 * socket read of this turn, on every connection, go out together), with one Immediate for all
 * connections. TSMESH_H2_FLUSH=microtask flushes at the end of each callback instead (for
 * measuring the difference; see bench/h2-codec.ts and the report).
 */
import type net from 'node:net';
import {
  CONTINUATION, DATA, FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FRAME_HEADER_SIZE, GOAWAY, HEADERS, PING, RST_STREAM, SETTINGS,
  WINDOW_UPDATE,
} from './constants.js';

const SLAB_SIZE = 16 * 1024;
/** DATA payloads up to this size are copied into the batch; larger ones are referenced. */
const COPY_LIMIT = 8 * 1024;
/** A batch this large is written at once instead of at the end of the turn. */
const EAGER_FLUSH = 64 * 1024;

const MICROTASK = process.env['TSMESH_H2_FLUSH'] === 'microtask';

/** Who owns the writer: told just before a flush (to add queued DATA) and after it. */
export interface FlushOwner {
  beforeFlush(): void;
  afterFlush(bytes: number): void;
}

let queue: FrameWriter[] = [];
let spare: FrameWriter[] = [];
let scheduled = false;

function runFlushes(): void {
  scheduled = false;
  const q = queue;
  queue = spare;
  for (let i = 0; i < q.length; i++) q[i]!.flush();
  q.length = 0;
  spare = q;
}

function schedule(w: FrameWriter): void {
  queue.push(w);
  if (scheduled) return;
  scheduled = true;
  if (MICROTASK) queueMicrotask(runFlushes);
  else setImmediate(runFlushes);
}

export class FrameWriter {
  readonly #socket: net.Socket;
  readonly #owner: FlushOwner;
  // Small at first (from Node's shared pool): an idle connection holds little; busy ones move to
  // full-size slabs as soon as one fills up.
  #slab: Buffer = Buffer.allocUnsafe(512);
  #pos = 0;
  /** Start of the slab bytes not yet cut into #chunks. */
  #segStart = 0;
  readonly #chunks: Buffer[] = [];
  #pending = 0;
  /** Where the flags of the last frame in the batch are, when it is a DATA frame: an empty
   * END_STREAM for the same stream that follows it right away becomes that frame's flag. */
  #lastDataSlab: Buffer | undefined;
  #lastDataFlags = 0;
  #lastDataStream = 0;
  #scheduled = false;
  #flushing = false;
  #closed = false;

  constructor(socket: net.Socket, owner: FlushOwner) {
    this.#socket = socket;
    this.#owner = owner;
  }

  /** Bytes waiting for the next flush. */
  get pendingBytes(): number { return this.#pending; }

  /** Drops everything and writes nothing more. */
  close(): void {
    this.#closed = true;
    this.#lastDataSlab = undefined;
    this.#chunks.length = 0;
    this.#pending = 0;
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#slab.length) return;
    this.#cut();
    this.#slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
    this.#pos = 0;
    this.#segStart = 0;
  }

  #cut(): void {
    if (this.#pos > this.#segStart) {
      this.#chunks.push(this.#slab.subarray(this.#segStart, this.#pos));
      this.#segStart = this.#pos;
    }
  }

  #header(length: number, type: number, flags: number, streamId: number): void {
    const b = this.#slab;
    let p = this.#pos;
    this.#lastDataSlab = undefined;
    b[p++] = length >>> 16;
    b[p++] = length >>> 8;
    b[p++] = length;
    b[p++] = type;
    b[p++] = flags;
    b.writeUInt32BE(streamId, p);
    this.#pos = p + 4;
  }

  #added(n: number): void {
    this.#pending += n;
    if (this.#flushing) return;
    if (this.#pending >= EAGER_FLUSH) { this.flush(); return; }
    if (!this.#scheduled && !this.#closed) { this.#scheduled = true; schedule(this); }
  }

  /** Makes sure a flush comes at the end of this turn (the owner has queued DATA to add). */
  requestFlush(): void {
    if (!this.#scheduled && !this.#closed && !this.#flushing) { this.#scheduled = true; schedule(this); }
  }

  settings(pairs: readonly number[]): void {
    const len = pairs.length * 3;
    this.#reserve(FRAME_HEADER_SIZE + len);
    this.#header(len, SETTINGS, 0, 0);
    const b = this.#slab;
    for (let i = 0; i < pairs.length; i += 2) {
      b.writeUInt16BE(pairs[i]!, this.#pos);
      b.writeUInt32BE(pairs[i + 1]!, this.#pos + 2);
      this.#pos += 6;
    }
    this.#added(FRAME_HEADER_SIZE + len);
  }

  settingsAck(): void {
    this.#reserve(FRAME_HEADER_SIZE);
    this.#header(0, SETTINGS, FLAG_ACK, 0);
    this.#added(FRAME_HEADER_SIZE);
  }

  ping(ack: boolean, payload: Buffer, start: number): void {
    this.#reserve(FRAME_HEADER_SIZE + 8);
    this.#header(8, PING, ack ? FLAG_ACK : 0, 0);
    payload.copy(this.#slab, this.#pos, start, start + 8);
    this.#pos += 8;
    this.#added(FRAME_HEADER_SIZE + 8);
  }

  goaway(lastStreamId: number, code: number, debug: string): void {
    const dbg = debug.length > 0 ? Buffer.from(debug, 'latin1') : undefined;
    const len = 8 + (dbg?.length ?? 0);
    this.#reserve(FRAME_HEADER_SIZE + len);
    this.#header(len, GOAWAY, 0, 0);
    this.#slab.writeUInt32BE(lastStreamId, this.#pos);
    this.#slab.writeUInt32BE(code, this.#pos + 4);
    this.#pos += 8;
    if (dbg) { dbg.copy(this.#slab, this.#pos); this.#pos += dbg.length; }
    this.#added(FRAME_HEADER_SIZE + len);
  }

  windowUpdate(streamId: number, increment: number): void {
    this.#reserve(FRAME_HEADER_SIZE + 4);
    this.#header(4, WINDOW_UPDATE, 0, streamId);
    this.#slab.writeUInt32BE(increment, this.#pos);
    this.#pos += 4;
    this.#added(FRAME_HEADER_SIZE + 4);
  }

  rstStream(streamId: number, code: number): void {
    this.#reserve(FRAME_HEADER_SIZE + 4);
    this.#header(4, RST_STREAM, 0, streamId);
    this.#slab.writeUInt32BE(code, this.#pos);
    this.#pos += 4;
    this.#added(FRAME_HEADER_SIZE + 4);
  }

  /** One DATA frame with payload buf[start, end) (no larger than the peer's max frame size). */
  data(streamId: number, flags: number, buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len === 0 && flags === FLAG_END_STREAM && this.#lastDataSlab !== undefined && this.#lastDataStream === streamId) {
      // "...data" then "end": one frame, not two.
      this.#lastDataSlab[this.#lastDataFlags]! |= FLAG_END_STREAM;
      this.#lastDataSlab = undefined;
      return;
    }
    if (len <= COPY_LIMIT) {
      this.#reserve(FRAME_HEADER_SIZE + len);
      this.#header(len, DATA, flags, streamId);
      if (len > 0) { buf.copy(this.#slab, this.#pos, start, end); this.#pos += len; }
    } else {
      this.#reserve(FRAME_HEADER_SIZE);
      this.#header(len, DATA, flags, streamId);
      this.#cut();
      this.#chunks.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
    }
    if ((flags & FLAG_END_STREAM) === 0) {
      this.#lastDataSlab = this.#slab;
      this.#lastDataFlags = this.#pos - len - FRAME_HEADER_SIZE + 4;
      if (len > COPY_LIMIT) this.#lastDataFlags = this.#pos - FRAME_HEADER_SIZE + 4;
      this.#lastDataStream = streamId;
    }
    this.#added(FRAME_HEADER_SIZE + len);
  }

  /**
   * A field block: a HEADERS frame and as many CONTINUATION frames as `maxFrameSize` needs.
   * `flags` may hold END_STREAM; END_HEADERS is set on the last frame.
   */
  headers(streamId: number, flags: number, block: Buffer, length: number, maxFrameSize: number): void {
    let off = 0;
    let type = HEADERS;
    let total = 0;
    do {
      const n = Math.min(maxFrameSize, length - off);
      const last = off + n === length;
      this.#reserve(FRAME_HEADER_SIZE + n);
      this.#header(n, type, (type === HEADERS ? flags : 0) | (last ? FLAG_END_HEADERS : 0), streamId);
      block.copy(this.#slab, this.#pos, off, off + n);
      this.#pos += n;
      off += n;
      total += FRAME_HEADER_SIZE + n;
      type = CONTINUATION;
    } while (off < length);
    this.#added(total);
  }

  /** Raw bytes (the client connection preface). */
  raw(bytes: Buffer): void {
    this.#reserve(bytes.length);
    bytes.copy(this.#slab, this.#pos);
    this.#pos += bytes.length;
    this.#added(bytes.length);
  }

  /** Writes the batch now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    this.#flushing = true;
    try {
      this.#owner.beforeFlush();
    } finally {
      this.#flushing = false;
    }
    this.#cut();
    this.#lastDataSlab = undefined;
    const chunks = this.#chunks;
    const bytes = this.#pending;
    if (chunks.length === 0) { this.#owner.afterFlush(0); return; }
    const s = this.#socket;
    this.#pending = 0;
    if (!s.destroyed && s.writable) {
      if (chunks.length === 1) {
        s.write(chunks[0]!);
      } else {
        s.cork();
        for (let i = 0; i < chunks.length; i++) s.write(chunks[i]!);
        s.uncork();
      }
    }
    chunks.length = 0;
    // Written through to the kernel at once (the usual case): nothing refers to the slab any
    // more, so the next batch reuses it from the start instead of moving on.
    if (s.writableLength === 0) { this.#pos = 0; this.#segStart = 0; }
    this.#owner.afterFlush(bytes);
  }
}
