/**
 * Micro-benchmark of the HTTP/2 codec (src/proxy/http/h2), one core, no syscalls: a server
 * connection over a stand-in socket answering h2load-style GETs (10 HEADERS frames per read,
 * the way `h2load -m10` sends them; a 200 with five fields and a 12-byte body each), and the
 * pieces alone: HPACK decode of the request block, HPACK encode of the response head, frame
 * reading. Prints numbers; never fails on time.
 *
 *   npx tsx bench/h2-codec.ts [seconds-per-case]   (best of 5 rounds is printed)
 *
 * TSMESH_H2_FLUSH=microtask compares the flush-at-end-of-callback variant of the frame writer.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { Http2Connection, type H2ConnectionOptions } from '../src/proxy/http/h2/connection.js';
import { HpackDecoder } from '../src/proxy/http/h2/hpack-decoder.js';
import { HpackEncoder } from '../src/proxy/http/h2/hpack-encoder.js';
import { FrameReader } from '../src/proxy/http/h2/frame-reader.js';
import type { H2Stream, H2StreamHandler } from '../src/proxy/http/h2/stream.js';
import { bestRate, bestSyncRate, report as reportLine } from './lib/best-rate.js';

const seconds = Number(process.argv[2] ?? '3');
let sink = 0;

/** What the proxy's downstream connection gets from h2load: the same fields every time. */
const REQUEST: [string, string][] = [
  [':method', 'GET'], [':path', '/'], [':scheme', 'http'], [':authority', '127.0.0.1:18082'],
  ['user-agent', 'h2load nghttp2/1.52.0'],
];
const RESPONSE_FIELDS = ['content-type', 'text/plain', 'date', 'Mon, 01 Jan 2024 00:00:00 GMT', 'x-envoy-upstream-service-time', '1', 'server', 'envoy', 'content-length', '12'];
const BODY = Buffer.from('hello world\n');

function frameHeader(len: number, type: number, flags: number, id: number): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(len, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return h;
}

// The request block as the peer's encoder sends it once everything is in its table.
const clientEnc = new HpackEncoder();
clientEnc.begin();
for (const [n, v] of REQUEST) clientEnc.field(n, v);
const FIRST_BLOCK = Buffer.from(clientEnc.buffer.subarray(0, clientEnc.length));
clientEnc.begin();
for (const [n, v] of REQUEST) clientEnc.field(n, v);
const BLOCK = Buffer.from(clientEnc.buffer.subarray(0, clientEnc.length));

/** A socket stand-in: swallows writes, counts bytes. */
class NullSocket extends EventEmitter {
  bytes = 0;
  writes = 0;
  destroyed = false;
  writable = true;
  writableNeedDrain = false;
  connecting = false;
  write(b: Buffer): boolean { this.bytes += b.length; this.writes++; return true; }
  cork(): void {}
  uncork(): void {}
  end(): void {}
  destroy(): void { this.destroyed = true; }
  setTimeout(): void {}
  setNoDelay(): void {}
}

/** Answers at once: 200, five fields, 12 bytes. */
const answer: H2StreamHandler = {
  onResponseHeaders() {}, onData() {}, onTrailers() {}, onReset() {}, onWritable() {},
};

const OPTS: H2ConnectionOptions = { role: 'server', maxConcurrentStreams: 1024, streamWindow: 256 * 1024, connectionWindow: 1 << 20, maxHeaderListSize: 60 * 1024, maxHeaderCount: 100 };

function serverSetup(): { conn: Http2Connection; sock: NullSocket; batch: Buffer; nextId: { v: number } } {
  const sock = new NullSocket();
  const conn = new Http2Connection(sock as unknown as net.Socket, OPTS, {
    onRequest(stream: H2Stream) {
      stream.handler = answer;
      stream.sendResponseHeaders(200, RESPONSE_FIELDS, false);
      stream.sendData(BODY, true);
      sink++;
    },
    onStreamError(id, code, why) { throw new Error(`stream ${id} error ${code}: ${why}`); },
    onConnectionError(code, why) { throw new Error(`connection error ${code}: ${why}`); },
  });
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  conn.receive(Buffer.concat([preface, frameHeader(0, 4, 0, 0), frameHeader(FIRST_BLOCK.length, 1, 5, 1), FIRST_BLOCK]));
  // Ten HEADERS frames, their stream ids rewritten every round, and the WINDOW_UPDATE a client
  // sends for the bodies it got (as h2load does), so the connection window stays open.
  const one = Buffer.concat([frameHeader(BLOCK.length, 1, 5, 0), BLOCK]);
  const wu = Buffer.concat([frameHeader(4, 8, 0, 0), Buffer.from([0, 0, 0, 10 * BODY.length])]);
  const batch = Buffer.concat([...Array.from({ length: 10 }, () => one), wu]);
  return { conn, sock, batch, nextId: { v: 3 } };
}

const PER = 9 + BLOCK.length;

function feedBatch(s: ReturnType<typeof serverSetup>): void {
  const per = PER;
  for (let i = 0; i < 10; i++) { s.batch.writeUInt32BE(s.nextId.v, i * per + 5); s.nextId.v += 2; }
  s.conn.receive(s.batch);
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Best of 5 rounds of `per`-message calls of fn, each followed by `settle` so setImmediate flushes can run. */
const measureAsync = (per: number, fn: () => void, settle: () => Promise<void>): Promise<number> =>
  bestRate({ seconds, per, warmup: 2000, batch: 200 }, async (n) => { for (let i = 0; i < n; i++) { fn(); await settle(); } });

const measure = (per: number, fn: () => void): Promise<number> => bestSyncRate(seconds, per, fn);

const report = (name: string, perSec: number): void => reportLine(name, perSec, 56);

async function main(): Promise<void> {
  console.log(`request block ${BLOCK.length} bytes (first ${FIRST_BLOCK.length}), ${seconds}s per case, node ${process.version}, flush ${process.env['TSMESH_H2_FLUSH'] ?? 'immediate'}`);

  const s = serverSetup();
  report('server: request in, response out (10 per read)', await measureAsync(10, () => feedBatch(s), turn));
  const perFlush = s.sock.writes > 0 ? Math.round(s.sock.bytes / s.sock.writes) : 0;
  console.log(`  ${s.sock.writes.toLocaleString('en-US')} socket writes, ${perFlush} bytes each (10 responses per write)`);
  const s1 = serverSetup();
  const oneFrame = Buffer.concat([s1.batch.subarray(0, PER), frameHeader(4, 8, 0, 0), Buffer.from([0, 0, 0, BODY.length])]);
  report('server: request in, response out (1 per read)', await measureAsync(1, () => { oneFrame.writeUInt32BE(s1.nextId.v, 5); s1.nextId.v += 2; s1.conn.receive(oneFrame); }, turn));

  const dec = new HpackDecoder();
  const out: string[] = [];
  dec.decode(FIRST_BLOCK, 0, FIRST_BLOCK.length, out);
  report('HPACK decode of the request block (all indexed)', await measure(1, () => { out.length = 0; dec.decode(BLOCK, 0, BLOCK.length, out); sink += out.length; }));
  const lit = (() => { const e = new HpackEncoder(); e.begin(); for (const [n, v] of REQUEST) e.field(n, `${v}x`); return Buffer.from(e.buffer.subarray(0, e.length)); })();
  report('HPACK decode, same fields as fresh literals (Huffman)', await measure(1, () => { const d = new HpackDecoder(); out.length = 0; d.decode(lit, 0, lit.length, out); sink += out.length; }));

  const enc = new HpackEncoder();
  report('HPACK encode of the response head (after the first)', await measure(1, () => {
    enc.begin();
    enc.status(200);
    for (let i = 0; i < RESPONSE_FIELDS.length; i += 2) enc.field(RESPONSE_FIELDS[i]!, RESPONSE_FIELDS[i + 1]!);
    sink += enc.length;
  }));

  const frames = Buffer.concat(Array.from({ length: 16 }, (_, i) => Buffer.concat([frameHeader(BLOCK.length, 1, 5, 2 * i + 1), BLOCK, frameHeader(12, 0, 1, 2 * i + 1), BODY])));
  const reader = new FrameReader({
    onFrame(_t, _f, _id, _b, st, e) { sink += e - st; },
    onDataHeader(_id, _f, l) { sink += l; },
    onDataBytes(_b, st, e) { sink += e - st; },
    onFrameError() { throw new Error('frame error'); },
  });
  report('frame reader: HEADERS + DATA pairs', await measure(16, () => reader.feed(frames)));
  if (sink === 42) console.log('');
}

void main();
