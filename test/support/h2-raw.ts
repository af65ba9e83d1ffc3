import net from 'node:net';
import { once } from 'node:events';
import { HpackDecoder } from '../../src/proxy/http/h2/hpack-decoder.js';

/**
 * A scriptable HTTP/2 peer for tests: writes whatever frames a test asks for (including
 * broken ones) and records every frame it receives. Its frame parsing is its own (a few lines
 * here), so tests of the codec do not rely on the codec's reader; response field blocks are
 * decoded with the HPACK decoder (tested on its own against RFC 7541's examples).
 */

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const F = { END_STREAM: 1, ACK: 1, END_HEADERS: 4, PADDED: 8, PRIORITY: 0x20 } as const;
export const E = {
  NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, STREAM_CLOSED: 5, FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11,
} as const;

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** HEADERS with END_HEADERS: the decoded fields. */
  fields?: [string, string][];
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, p]);
}

export function settingsPayload(pairs: number[]): Buffer {
  const b = Buffer.alloc(pairs.length * 3);
  for (let i = 0; i < pairs.length; i += 2) { b.writeUInt16BE(pairs[i]!, i * 3); b.writeUInt32BE(pairs[i + 1]!, i * 3 + 2); }
  return b;
}

export function u32(...v: number[]): Buffer {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
  return b;
}

/** A field block of literals without indexing and without Huffman: simple and stateless. */
export function block(fields: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [n, v] of fields) parts.push(Buffer.from([0]), str(n), str(v));
  return Buffer.concat(parts);
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  if (b.length < 127) return Buffer.concat([Buffer.from([b.length]), b]);
  const len: number[] = [127];
  let v = b.length - 127;
  while (v >= 128) { len.push((v & 0x7f) | 0x80); v >>= 7; }
  len.push(v);
  return Buffer.concat([Buffer.from(len), b]);
}

export function get(path = '/', authority = 'test', extra: [string, string][] = []): [string, string][] {
  return [[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', authority], ...extra];
}

export function post(path = '/', authority = 'test', extra: [string, string][] = []): [string, string][] {
  return [[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', authority], ...extra];
}

export class RawH2 {
  readonly frames: Frame[] = [];
  closed = false;
  /** DATA payload bytes received (also when DATA frames are not kept). */
  dataBytes = 0;
  /** Keep DATA frames in `frames` (off for bulk transfers). */
  keepData = true;
  #buf = Buffer.alloc(0);
  readonly #decoder = new HpackDecoder();
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.#buf = Buffer.concat([this.#buf, d]); this.#parse(); this.#wake(); });
    socket.on('close', () => { this.closed = true; this.#wake(); });
    socket.on('error', () => {});
  }

  /** Connects; by default sends the preface and an empty SETTINGS, and ACKs the server's. */
  static async connect(port: number, opts: { preface?: boolean; settings?: number[]; autoAck?: boolean } = {}): Promise<RawH2> {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    await once(s, 'connect');
    const c = new RawH2(s);
    c.autoAck = opts.autoAck ?? true;
    if (opts.preface ?? true) s.write(Buffer.concat([PREFACE, frame(T.SETTINGS, 0, 0, settingsPayload(opts.settings ?? []))]));
    return c;
  }

  autoAck = true;

  #parse(): void {
    while (this.#buf.length >= 9) {
      const len = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + len) return;
      const f: Frame = { type: this.#buf[3]!, flags: this.#buf[4]!, streamId: this.#buf.readUInt32BE(5) & 0x7fffffff, payload: this.#buf.subarray(9, 9 + len) };
      this.#buf = this.#buf.subarray(9 + len);
      if (this.#buf.length === 0) this.#buf = Buffer.alloc(0);
      if (f.type === T.HEADERS && (f.flags & F.END_HEADERS)) {
        let p = 0;
        let end = f.payload.length;
        if (f.flags & F.PADDED) { end -= f.payload[0]!; p = 1; }
        if (f.flags & F.PRIORITY) p += 5;
        const out: string[] = [];
        if (!this.#decoder.decode(f.payload, p, end, out)) throw new Error(`bad HPACK from the server: ${this.#decoder.error}`);
        f.fields = [];
        for (let i = 0; i < out.length; i += 2) f.fields.push([out[i]!, out[i + 1]!]);
      }
      if (this.autoAck && f.type === T.SETTINGS && !(f.flags & F.ACK)) this.socket.write(frame(T.SETTINGS, F.ACK, 0));
      if (f.type === T.DATA) { this.dataBytes += f.payload.length; if (!this.keepData) continue; }
      this.frames.push(f);
    }
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  write(...bufs: Buffer[]): void {
    this.socket.write(Buffer.concat(bufs));
  }

  headers(streamId: number, fields: [string, string][], endStream: boolean): void {
    this.write(frame(T.HEADERS, F.END_HEADERS | (endStream ? F.END_STREAM : 0), streamId, block(fields)));
  }

  data(streamId: number, data: Buffer | string, endStream: boolean): void {
    this.write(frame(T.DATA, endStream ? F.END_STREAM : 0, streamId, data));
  }

  /** Resolves with the first recorded frame matching `pred` (waiting for it), or undefined on close / timeout. */
  async waitFor(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.closed || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.closed;
  }

  /** The GOAWAY the server sent (waiting for it): its last stream id and error code. */
  async goaway(timeoutMs = 3000): Promise<{ lastStreamId: number; code: number; debug: string } | undefined> {
    const f = await this.waitFor((x) => x.type === T.GOAWAY, timeoutMs);
    if (!f) return undefined;
    return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString('latin1') };
  }

  /** The RST_STREAM code for a stream (waiting for it), or undefined. */
  async rst(streamId: number, timeoutMs = 3000): Promise<number | undefined> {
    const f = await this.waitFor((x) => x.type === T.RST_STREAM && x.streamId === streamId, timeoutMs);
    return f?.payload.readUInt32BE(0);
  }

  /** The response on a stream: status, fields, body, trailers; resolves when it ends (or is reset / closed). */
  async response(streamId: number, timeoutMs = 5000): Promise<{ status: number; fields: [string, string][]; body: Buffer; trailers?: [string, string][]; reset?: number }> {
    await this.waitFor((x) => x.streamId === streamId && ((x.flags & F.END_STREAM) !== 0 && (x.type === T.DATA || x.type === T.HEADERS) || x.type === T.RST_STREAM), timeoutMs);
    const mine = this.frames.filter((x) => x.streamId === streamId);
    const heads = mine.filter((x) => x.type === T.HEADERS);
    const fields = heads[0]?.fields ?? [];
    const status = Number(fields.find(([n]) => n === ':status')?.[1] ?? 0);
    const body = Buffer.concat(mine.filter((x) => x.type === T.DATA).map((x) => x.payload));
    const rst = mine.find((x) => x.type === T.RST_STREAM);
    const r: { status: number; fields: [string, string][]; body: Buffer; trailers?: [string, string][]; reset?: number } = { status, fields, body };
    if (heads.length > 1) r.trailers = heads[heads.length - 1]!.fields;
    if (rst) r.reset = rst.payload.readUInt32BE(0);
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}
