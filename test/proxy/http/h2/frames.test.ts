import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { FrameReader, type FrameSink } from '../../../../src/proxy/http/h2/frame-reader.js';
import { FrameWriter, type FlushOwner } from '../../../../src/proxy/http/h2/frame-writer.js';
import { frame, u32, settingsPayload, T, F } from '../../../support/h2-raw.js';

type Ev = string;

/** Records reader events as strings; DATA bytes are merged per frame, as cuts must not matter. */
function recorder(): { sink: FrameSink; events: Ev[] } {
  const events: Ev[] = [];
  let data = '';
  const sink: FrameSink = {
    onFrame(type, flags, id, buf, s, e) { events.push(`frame ${type} ${flags} ${id} ${buf.subarray(s, e).toString('hex')}`); },
    onDataHeader(id, flags, length) { data = ''; events.push(`data ${id} ${flags} ${length}`); },
    onDataBytes(buf, s, e, last) { data += buf.subarray(s, e).toString('latin1'); if (last) events.push(`bytes ${JSON.stringify(data)}`); },
    onFrameError(code, msg) { events.push(`error ${code} ${msg}`); },
  };
  return { sink, events };
}

function padded(type: number, flags: number, id: number, body: string, pad: number): Buffer {
  return frame(type, flags | F.PADDED, id, Buffer.concat([Buffer.from([pad]), Buffer.from(body, 'latin1'), Buffer.alloc(pad)]));
}

const STREAM = Buffer.concat([
  frame(T.SETTINGS, 0, 0, settingsPayload([4, 65535, 5, 16384])),
  frame(T.HEADERS, F.END_HEADERS, 1, Buffer.from('828684', 'hex')),
  frame(T.DATA, 0, 1, 'hello'),
  padded(T.DATA, 0, 1, ' world', 7),
  frame(T.DATA, 0, 3, ''),
  padded(T.DATA, F.END_STREAM, 1, '', 3),
  frame(T.PING, 0, 0, Buffer.alloc(8, 1)),
  frame(T.WINDOW_UPDATE, 0, 0, u32(1000)),
  frame(0xfa, 0, 0, 'unknown type'),
]);

describe('FrameReader', () => {
  it('reads a stream of frames; DATA padding is stripped', () => {
    const { sink, events } = recorder();
    new FrameReader(sink).feed(STREAM);
    assert.deepEqual(events, [
      'frame 4 0 0 000400' + '00ffff' + '0005' + '00004000',
      'frame 1 4 1 828684',
      'data 1 0 5', 'bytes "hello"',
      'data 1 8 14', 'bytes " world"',
      'data 3 0 0', 'bytes ""',
      'data 1 9 4', 'bytes ""',
      'frame 6 0 0 0101010101010101',
      'frame 8 0 0 000003e8',
      'frame 250 0 0 ' + Buffer.from('unknown type').toString('hex'),
    ]);
  });

  it('gives the same events whatever the chunks: every single cut, and one byte at a time', () => {
    const whole = recorder();
    new FrameReader(whole.sink).feed(STREAM);
    for (let cut = 1; cut < STREAM.length; cut++) {
      const r = recorder();
      const reader = new FrameReader(r.sink);
      reader.feed(STREAM.subarray(0, cut));
      reader.feed(STREAM.subarray(cut));
      assert.deepEqual(r.events, whole.events, `cut at ${cut}`);
    }
    const r = recorder();
    const reader = new FrameReader(r.sink);
    for (let i = 0; i < STREAM.length; i++) reader.feed(STREAM.subarray(i, i + 1));
    assert.deepEqual(r.events, whole.events);
  });

  it('feed(buf, start) skips the bytes before start', () => {
    const r = recorder();
    new FrameReader(r.sink).feed(Buffer.concat([Buffer.from('xyz'), frame(T.PING, 0, 0, Buffer.alloc(8))]), 3);
    assert.deepEqual(r.events, ['frame 6 0 0 0000000000000000']);
  });

  it('a frame over the maximum size is a FRAME_SIZE_ERROR, and reading stops', () => {
    const r = recorder();
    const reader = new FrameReader(r.sink);
    reader.feed(Buffer.concat([frame(T.HEADERS, 4, 1, Buffer.alloc(16385)), frame(T.PING, 0, 0, Buffer.alloc(8))]));
    assert.equal(r.events.length, 1);
    assert.match(r.events[0]!, /^error 6 /);
    assert.equal(reader.stopped, true);
    const r2 = recorder();
    const big = new FrameReader(r2.sink);
    big.maxFrameSize = 20000;
    big.feed(frame(T.HEADERS, 4, 1, Buffer.alloc(16385)));
    assert.match(r2.events[0]!, /^frame 1 4 1 /);
  });

  it('DATA padding as long as the frame is a PROTOCOL_ERROR; a padded frame without a pad length a FRAME_SIZE_ERROR', () => {
    const r = recorder();
    new FrameReader(r.sink).feed(frame(T.DATA, F.PADDED, 1, Buffer.from([5, 1, 2, 3, 4])));
    assert.deepEqual(r.events.slice(1).map((e) => e.split(' ').slice(0, 2).join(' ')), ['error 1']);
    const r2 = recorder();
    new FrameReader(r2.sink).feed(frame(T.DATA, F.PADDED, 1));
    assert.deepEqual(r2.events.slice(1).map((e) => e.split(' ').slice(0, 2).join(' ')), ['error 6']);
  });

  it('a large DATA frame is handed on in pieces as it arrives, without waiting for the whole frame', () => {
    const chunks: number[] = [];
    const reader = new FrameReader({
      onFrame() {}, onFrameError() {}, onDataHeader() {},
      onDataBytes(_b, s, e, last) { chunks.push(last ? -(e - s) : e - s); },
    });
    const f = frame(T.DATA, 0, 1, Buffer.alloc(16000, 7));
    reader.feed(f.subarray(0, 5000));
    reader.feed(f.subarray(5000, 12000));
    reader.feed(f.subarray(12000));
    assert.deepEqual(chunks, [4991, 7000, -4009]);
  });
});

/** A socket stand-in that records writes (and whether they were corked together). */
class FakeSocket extends EventEmitter {
  writes: Buffer[][] = [];
  /** Undefined: never claims to have written through (the writer then never reuses its slab). */
  writableLength: number | undefined;
  #corked = 0;
  #group: Buffer[] = [];
  destroyed = false;
  writable = true;
  writableNeedDrain = false;
  cork(): void { this.#corked++; }
  uncork(): void { if (--this.#corked === 0) { this.writes.push(this.#group); this.#group = []; } }
  write(b: Buffer): boolean {
    const copy = Buffer.from(b);
    if (this.#corked) this.#group.push(copy);
    else this.writes.push([copy]);
    return true;
  }
}

const owner: FlushOwner = { beforeFlush() {}, afterFlush() {} };
const turn = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));

describe('FrameWriter', () => {
  it('reuses its slab from the start once a write went through at once', async () => {
    const sock = new FakeSocket();
    sock.writableLength = 0;
    const handed: Buffer[] = [];
    sock.write = (b: Buffer): boolean => { handed.push(b); return true; };
    const w = new FrameWriter(sock as unknown as net.Socket, owner);
    for (let i = 0; i < 5000; i++) { w.ping(false, Buffer.alloc(8, i & 0xff), 0); w.flush(); }
    assert.equal(new Set(handed.map((b) => b.buffer)).size, 1, 'one slab for all');
    assert.equal(handed[handed.length - 1]!.toString('hex'), frame(T.PING, 0, 0, Buffer.alloc(8, 4999 & 0xff)).toString('hex'));
  });

  it('frames produced in one turn leave in one write, in order and byte-exact', async () => {
    const sock = new FakeSocket();
    const w = new FrameWriter(sock as unknown as net.Socket, owner);
    w.settings([3, 100, 4, 65535]);
    w.settingsAck();
    w.ping(true, Buffer.alloc(8, 2), 0);
    w.windowUpdate(0, 1000);
    w.rstStream(3, 8);
    w.data(1, F.END_STREAM, Buffer.from('abc'), 0, 3);
    w.goaway(7, 0, 'bye');
    assert.equal(sock.writes.length, 0, 'nothing before the end of the turn');
    await turn();
    assert.equal(sock.writes.length, 1);
    assert.equal(sock.writes[0]!.length, 1);
    const expected = Buffer.concat([
      frame(T.SETTINGS, 0, 0, settingsPayload([3, 100, 4, 65535])),
      frame(T.SETTINGS, F.ACK, 0),
      frame(T.PING, F.ACK, 0, Buffer.alloc(8, 2)),
      frame(T.WINDOW_UPDATE, 0, 0, u32(1000)),
      frame(T.RST_STREAM, 0, 3, u32(8)),
      frame(T.DATA, F.END_STREAM, 1, 'abc'),
      frame(T.GOAWAY, 0, 0, Buffer.concat([u32(7, 0), Buffer.from('bye')])),
    ]);
    assert.equal(sock.writes[0]![0]!.toString('hex'), expected.toString('hex'));
  });

  it('large DATA payloads are referenced, not copied: one corked writev', async () => {
    const sock = new FakeSocket();
    const w = new FrameWriter(sock as unknown as net.Socket, owner);
    const big = Buffer.alloc(16384, 9);
    w.data(1, 0, big, 0, big.length);
    w.data(3, F.END_STREAM, Buffer.from('x'), 0, 1);
    await turn();
    assert.equal(sock.writes.length, 1);
    assert.equal(sock.writes[0]!.length, 3);
    assert.equal(Buffer.concat(sock.writes[0]!).toString('hex'), Buffer.concat([frame(T.DATA, 0, 1, big), frame(T.DATA, F.END_STREAM, 3, 'x')]).toString('hex'));
  });

  it('an empty END_STREAM right after DATA of the same stream sets the flag on that frame', async () => {
    const sock = new FakeSocket();
    const w = new FrameWriter(sock as unknown as net.Socket, owner);
    w.data(1, 0, Buffer.from('abc'), 0, 3);
    w.data(1, F.END_STREAM, Buffer.alloc(0), 0, 0);
    const big = Buffer.alloc(10000, 1);
    w.data(3, 0, big, 0, big.length);
    w.data(3, F.END_STREAM, Buffer.alloc(0), 0, 0);
    w.data(5, 0, Buffer.from('x'), 0, 1);
    w.windowUpdate(0, 1);
    w.data(5, F.END_STREAM, Buffer.alloc(0), 0, 0); // not right after: a frame of its own
    w.data(7, 0, Buffer.from('y'), 0, 1);
    w.data(9, F.END_STREAM, Buffer.alloc(0), 0, 0); // another stream: a frame of its own
    await turn();
    assert.equal(Buffer.concat(sock.writes.flat()).toString('hex'), Buffer.concat([
      frame(T.DATA, F.END_STREAM, 1, 'abc'),
      frame(T.DATA, F.END_STREAM, 3, big),
      frame(T.DATA, 0, 5, 'x'),
      frame(T.WINDOW_UPDATE, 0, 0, u32(1)),
      frame(T.DATA, F.END_STREAM, 5),
      frame(T.DATA, 0, 7, 'y'),
      frame(T.DATA, F.END_STREAM, 9),
    ]).toString('hex'));
  });

  it('a field block over the peer frame size is split into HEADERS and CONTINUATION frames', async () => {
    const sock = new FakeSocket();
    const w = new FrameWriter(sock as unknown as net.Socket, owner);
    const blk = Buffer.alloc(40000, 0x82);
    w.headers(5, F.END_STREAM, blk, blk.length, 16384);
    await turn();
    const out = Buffer.concat(sock.writes.flat());
    assert.equal(out.toString('hex'), Buffer.concat([
      frame(T.HEADERS, F.END_STREAM, 5, blk.subarray(0, 16384)),
      frame(T.CONTINUATION, 0, 5, blk.subarray(16384, 32768)),
      frame(T.CONTINUATION, F.END_HEADERS, 5, blk.subarray(32768)),
    ]).toString('hex'));
  });

  it('bytes already handed to the socket are never overwritten (the slab only moves forward)', async () => {
    const handed: Buffer[] = [];
    const sock = new FakeSocket();
    sock.write = (b: Buffer): boolean => { handed.push(b); return true; }; // keeps the buffer, like a socket that could not write yet
    const w = new FrameWriter(sock as unknown as net.Socket, owner);
    const snapshots: string[] = [];
    for (let i = 0; i < 3000; i++) {
      w.ping(false, Buffer.alloc(8, i & 0xff), 0);
      w.flush();
      snapshots.push(handed[handed.length - 1]!.toString('hex'));
    }
    assert.deepEqual(handed.map((b) => b.toString('hex')), snapshots);
  });
});
