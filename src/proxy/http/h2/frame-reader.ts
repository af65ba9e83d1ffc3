/**
 * Incremental HTTP/2 frame reader (RFC 9113 §4.1). Frames are cut from the socket's chunks
 * without copying when they lie inside one chunk (the common case); a frame split across
 * chunks is reassembled. DATA payloads are never reassembled: their bytes are handed on as
 * they arrive, so a large body passes through without a copy, and padding is stripped here.
 */
import { DATA, FLAG_PADDED, FRAME_HEADER_SIZE, FRAME_SIZE_ERROR, PROTOCOL_ERROR, DEFAULT_MAX_FRAME_SIZE } from './constants.js';

/** Where the frames go. After any call the reader checks `stopped` before going on. */
export interface FrameSink {
  /** A complete frame other than DATA; its payload is buf[start, end). */
  onFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, end: number): void;
  /** A DATA frame begins; `length` is its whole payload (pad length octet and padding included). */
  onDataHeader(streamId: number, flags: number, length: number): void;
  /** Bytes of the current DATA frame, padding excluded; `last` when the frame ends with them. */
  onDataBytes(buf: Buffer, start: number, end: number, last: boolean): void;
  /** A frame the reader cannot parse (too large, bad padding): a connection error. */
  onFrameError(code: number, message: string): void;
}

const HEADER = 0;
const PAYLOAD = 1;
const DATA_PAD_LENGTH = 2;
const DATA_PAYLOAD = 3;

export class FrameReader {
  readonly #sink: FrameSink;
  /** Our SETTINGS_MAX_FRAME_SIZE: larger frames are a FRAME_SIZE_ERROR. */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** Set (by the sink, or stop()) to end reading for good. */
  stopped = false;
  #state = HEADER;
  readonly #hdr = Buffer.alloc(FRAME_HEADER_SIZE);
  #hdrLen = 0;
  // The frame being read.
  #type = 0;
  #flags = 0;
  #streamId = 0;
  #length = 0;
  #partial: Buffer | undefined;
  #partialLen = 0;
  #dataLeft = 0;
  #padLeft = 0;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  stop(): void {
    this.stopped = true;
    this.#partial = undefined;
  }

  /** Reads buf[start...]; frames are delivered as they complete. */
  feed(buf: Buffer, start = 0): void {
    const n = buf.length;
    let i = start;
    const sink = this.#sink;
    while (i < n && !this.stopped) {
      switch (this.#state) {
        case HEADER: {
          let h: Buffer;
          let p: number;
          if (this.#hdrLen === 0 && n - i >= FRAME_HEADER_SIZE) {
            h = buf;
            p = i;
            i += FRAME_HEADER_SIZE;
          } else {
            const take = Math.min(FRAME_HEADER_SIZE - this.#hdrLen, n - i);
            buf.copy(this.#hdr, this.#hdrLen, i, i + take);
            this.#hdrLen += take;
            i += take;
            if (this.#hdrLen < FRAME_HEADER_SIZE) return;
            this.#hdrLen = 0;
            h = this.#hdr;
            p = 0;
          }
          const length = (h[p]! << 16) | (h[p + 1]! << 8) | h[p + 2]!;
          const type = h[p + 3]!;
          const flags = h[p + 4]!;
          const streamId = ((h[p + 5]! & 0x7f) * 0x1000000) + ((h[p + 6]! << 16) | (h[p + 7]! << 8) | h[p + 8]!);
          if (length > this.maxFrameSize) {
            sink.onFrameError(FRAME_SIZE_ERROR, `frame of ${length} bytes over the maximum ${this.maxFrameSize}`);
            this.stopped = true;
            return;
          }
          this.#type = type;
          this.#flags = flags;
          this.#streamId = streamId;
          this.#length = length;
          if (type === DATA) {
            sink.onDataHeader(streamId, flags, length);
            if (this.stopped) return;
            if (flags & FLAG_PADDED) {
              if (length === 0) {
                sink.onFrameError(FRAME_SIZE_ERROR, 'padded DATA frame without a pad length');
                this.stopped = true;
                return;
              }
              this.#state = DATA_PAD_LENGTH;
            } else {
              this.#dataLeft = length;
              this.#padLeft = 0;
              this.#state = DATA_PAYLOAD;
              if (length === 0) { this.#state = HEADER; sink.onDataBytes(buf, i, i, true); }
            }
          } else if (n - i >= length) {
            this.#state = HEADER;
            sink.onFrame(type, flags, streamId, buf, i, i + length);
            i += length;
          } else {
            this.#partial = Buffer.allocUnsafe(length);
            this.#partialLen = 0;
            this.#state = PAYLOAD;
          }
          break;
        }
        case PAYLOAD: {
          const p = this.#partial!;
          const take = Math.min(this.#length - this.#partialLen, n - i);
          buf.copy(p, this.#partialLen, i, i + take);
          this.#partialLen += take;
          i += take;
          if (this.#partialLen < this.#length) return;
          this.#partial = undefined;
          this.#state = HEADER;
          sink.onFrame(this.#type, this.#flags, this.#streamId, p, 0, p.length);
          break;
        }
        case DATA_PAD_LENGTH: {
          const pad = buf[i++]!;
          if (pad >= this.#length) {
            sink.onFrameError(PROTOCOL_ERROR, `DATA padding of ${pad} bytes in a ${this.#length}-byte frame`);
            this.stopped = true;
            return;
          }
          this.#dataLeft = this.#length - 1 - pad;
          this.#padLeft = pad;
          this.#state = DATA_PAYLOAD;
          if (this.#dataLeft === 0 && pad === 0) { this.#state = HEADER; sink.onDataBytes(buf, i, i, true); }
          break;
        }
        case DATA_PAYLOAD: {
          if (this.#dataLeft > 0) {
            const take = Math.min(this.#dataLeft, n - i);
            this.#dataLeft -= take;
            const s = i;
            i += take;
            const last = this.#dataLeft === 0 && this.#padLeft <= n - i;
            if (last) { i += this.#padLeft; this.#padLeft = 0; this.#state = HEADER; }
            sink.onDataBytes(buf, s, s + take, last);
          } else {
            const take = Math.min(this.#padLeft, n - i);
            this.#padLeft -= take;
            i += take;
            if (this.#padLeft === 0) { this.#state = HEADER; sink.onDataBytes(buf, i, i, true); }
          }
          break;
        }
      }
    }
  }
}
