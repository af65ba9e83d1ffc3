import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Http2Connection, type H2ConnectionEvents, type H2ConnectionOptions } from '../../../../src/proxy/http/h2/connection.js';
import type { H2RequestHead, H2ResponseHead } from '../../../../src/proxy/http/h2/header-validation.js';
import { ResetCause, type H2Stream, type H2StreamHandler } from '../../../../src/proxy/http/h2/stream.js';
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from '../../../../src/proxy/http/h2/flood-guard.js';
import { RawH2, frame, u32, settingsPayload, get, post, T, F, E } from '../../../support/h2-raw.js';

// The connection core over real loopback sockets: a small server built on Http2Connection,
// driven by a scripted raw peer (test/support/h2-raw.ts) or by the core as a client.

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

const BASE: H2ConnectionOptions = { role: 'server', maxConcurrentStreams: 100, streamWindow: 65535, connectionWindow: 1 << 20, maxHeaderListSize: 16384, maxHeaderCount: 50 };

/** Answers every request: 200, the request body echoed, its length in x-len; trailers echoed as x-got-trailers. */
class Echo implements H2StreamHandler {
  chunks: Buffer[] = [];
  constructor(readonly stream: H2Stream, readonly head: H2RequestHead) {}
  onResponseHeaders(): void {}
  onData(_s: H2Stream, chunk: Buffer, end: boolean): void { this.chunks.push(Buffer.from(chunk)); if (end) this.answer(); }
  onTrailers(_s: H2Stream, fields: string[]): void { this.answer(fields); }
  onReset(): void {}
  onWritable(): void {}
  answer(trailers?: string[]): void {
    const body = Buffer.concat(this.chunks);
    this.stream.sendResponseHeaders(200, ['x-len', String(body.length), 'x-path', this.head.path], false);
    if (trailers) { this.stream.sendData(body, false); this.stream.sendTrailers(['x-got-trailers', trailers.join(',')]); } else this.stream.sendData(body, true);
  }
}

function echoApp(stream: H2Stream, head: H2RequestHead, end: boolean): void {
  const h = new Echo(stream, head);
  stream.handler = h;
  if (end) h.answer();
}

interface TestServer { port: number; conns: Http2Connection[]; events: string[]; close(): Promise<void> }

const servers: TestServer[] = [];
after(async () => { for (const s of servers) await s.close(); });

async function server(opts: Partial<H2ConnectionOptions> = {}, app?: (stream: H2Stream, head: H2RequestHead, end: boolean) => void, flood?: FloodLimits): Promise<TestServer> {
  const conns: Http2Connection[] = [];
  const events: string[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    const ev: H2ConnectionEvents = {
      onRequest(stream, head, end) {
        events.push(`request ${stream.id} ${head.method} ${head.path}`);
        if (app) { app(stream, head, end); return; }
        const h = new Echo(stream, head);
        stream.handler = h;
        if (end) h.answer();
      },
      onRequestHeadersTooLarge(stream) { events.push(`too large ${stream.id}`); stream.sendResponseHeaders(431, [], true); },
      onConnectionError(code, why) { events.push(`connection error ${code} ${why}`); },
      onGoaway(last, code) { events.push(`goaway ${last} ${code}`); },
    };
    conns.push(new Http2Connection(sock, { ...BASE, ...opts, flood: flood ?? DEFAULT_FLOOD_LIMITS }, ev));
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const s: TestServer = {
    port: (srv.address() as net.AddressInfo).port,
    conns,
    events,
    close: () => { for (const x of sockets) x.destroy(); return new Promise((r) => srv.close(() => r())); },
  };
  servers.push(s);
  return s;
}

describe('Http2Connection as a server, against a scripted peer', () => {
  it('answers a GET and a POST with trailers; the response leaves as HEADERS + DATA', async () => {
    const s = await server();
    const c = await RawH2.connect(s.port);
    c.headers(1, get('/a'), true);
    c.headers(3, post('/b'), false);
    c.data(3, 'hello', false);
    c.write(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 3, Buffer.from([0, 1, 0x78, 1, 0x79]))); // trailers x: y
    const r1 = await c.response(1);
    const r3 = await c.response(3);
    c.close();
    assert.equal(r1.status, 200);
    assert.deepEqual(r1.fields.slice(1), [['x-len', '0'], ['x-path', '/a']]);
    assert.equal(r3.body.toString(), 'hello');
    assert.deepEqual(r3.trailers, [['x-got-trailers', 'x,y']]);
    // The server's SETTINGS came first, then its ACK of ours.
    assert.equal(c.frames[0]!.type, T.SETTINGS);
  });

  it('answers PING with the same payload', async () => {
    const s = await server();
    const c = await RawH2.connect(s.port);
    c.write(frame(T.PING, 0, 0, Buffer.from('12345678')));
    const f = await c.waitFor((x) => x.type === T.PING);
    c.close();
    assert.equal(f?.flags, F.ACK);
    assert.equal(f?.payload.toString(), '12345678');
  });

  it('refuses streams over SETTINGS_MAX_CONCURRENT_STREAMS with REFUSED_STREAM; the connection goes on', async () => {
    const s = await server({ maxConcurrentStreams: 2 }, echoApp);
    const c = await RawH2.connect(s.port);
    const settings = await c.waitFor((x) => x.type === T.SETTINGS && !(x.flags & F.ACK));
    assert.match(settings!.payload.toString('hex'), /^0003000000020/);
    c.headers(1, post('/1'), false);
    c.headers(3, post('/3'), false);
    c.headers(5, post('/5'), false);
    assert.equal(await c.rst(5), E.REFUSED_STREAM);
    c.data(1, 'x', true);
    assert.equal((await c.response(1)).status, 200);
    c.headers(7, get('/7'), true); // a slot is free again
    assert.equal((await c.response(7)).status, 200);
    c.close();
  });

  it('a disabled reader gives no window back; the peer is held to one window; enabling credits it', async () => {
    let st: H2Stream | undefined;
    let got = 0;
    const s = await server({ streamWindow: 1000 }, (stream) => {
      st = stream;
      stream.readDisable(true);
      stream.handler = { onResponseHeaders() {}, onData(_s, c) { got += c.length; }, onTrailers() {}, onReset() {}, onWritable() {} };
    });
    const c = await RawH2.connect(s.port);
    await c.waitFor((x) => x.type === T.SETTINGS && (x.flags & F.ACK) !== 0);
    c.headers(1, post('/'), false);
    c.data(1, Buffer.alloc(600), false);
    c.data(1, Buffer.alloc(400), false);
    await until(() => got === 1000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.frames.filter((f) => f.type === T.WINDOW_UPDATE && f.streamId === 1).length, 0, 'no stream credit while disabled');
    st!.readDisable(false);
    const wu = await c.waitFor((f) => f.type === T.WINDOW_UPDATE && f.streamId === 1);
    assert.equal(wu?.payload.readUInt32BE(0), 1000);
    // One byte over the window is a stream FLOW_CONTROL_ERROR.
    c.headers(3, post('/'), false);
    c.data(3, Buffer.alloc(1001), false);
    assert.equal(await c.rst(3), E.FLOW_CONTROL_ERROR);
    c.close();
  });

  it('sends no more than the peer window; WINDOW_UPDATE and a larger SETTINGS_INITIAL_WINDOW_SIZE release the rest; writable / onWritable follow', async () => {
    const states: string[] = [];
    const s = await server({}, (stream) => {
      stream.handler = {
        onResponseHeaders() {}, onData() {}, onTrailers() {}, onReset() {},
        onWritable() { states.push('writable again'); stream.sendData(Buffer.alloc(0), true); },
      };
      stream.sendResponseHeaders(200, [], false);
      stream.sendData(Buffer.alloc(100_000, 1), false);
      states.push(`writable ${stream.writable}`);
    });
    const c = await RawH2.connect(s.port, { settings: [4, 100] });
    c.headers(1, get('/'), true);
    await new Promise((r) => setTimeout(r, 200));
    const dataBytes = (): number => c.frames.filter((f) => f.type === T.DATA).reduce((n, f) => n + f.payload.length, 0);
    assert.equal(dataBytes(), 100, 'only the 100-byte window');
    c.write(frame(T.WINDOW_UPDATE, 0, 1, u32(900)));
    await until(() => dataBytes() === 1000);
    assert.equal(dataBytes(), 1000);
    c.write(frame(T.SETTINGS, 0, 0, settingsPayload([4, 200_000])), frame(T.WINDOW_UPDATE, 0, 0, u32(200_000)));
    const end = await c.waitFor((f) => f.type === T.DATA && (f.flags & F.END_STREAM) !== 0);
    assert.ok(end);
    assert.equal(dataBytes(), 100_000);
    assert.deepEqual(states, ['writable false', 'writable again']);
    c.close();
  });

  it('GOAWAY drains: the stream in progress finishes, later streams are ignored, then the connection closes', async () => {
    let first: H2Stream | undefined;
    const s = await server({}, (stream, head) => {
      if (head.path === '/slow') { first = stream; stream.handler = new Echo(stream, head); return; }
      stream.sendResponseHeaders(200, [], true);
    });
    const c = await RawH2.connect(s.port);
    c.headers(1, post('/slow'), false);
    await until(() => first !== undefined);
    s.conns[0]!.goAway();
    const g = await c.goaway();
    assert.deepEqual([g?.lastStreamId, g?.code], [1, E.NO_ERROR]);
    c.headers(3, get('/late'), true);
    c.data(1, 'done', true);
    const r = await c.response(1);
    assert.equal(r.body.toString(), 'done');
    assert.equal(await c.waitClosed(), true);
    assert.equal(c.frames.some((f) => f.streamId === 3), false, 'stream 3 was ignored');
  });

  it('a request head over the list size or field count is handed over as too large (the adapter answers 431)', async () => {
    const s = await server({ maxHeaderListSize: 200, maxHeaderCount: 10 });
    const c = await RawH2.connect(s.port);
    c.headers(1, get('/', 'test', [['x-big', 'v'.repeat(300)]]), true);
    c.headers(3, get('/', 'test', Array.from({ length: 11 }, (_, i): [string, string] => [`x-${i}`, 'v'])), true);
    c.headers(5, get('/ok'), true);
    assert.equal((await c.response(1)).status, 431);
    assert.equal((await c.response(3)).status, 431);
    assert.equal((await c.response(5)).status, 200);
    c.close();
  });

  it('limits: rapid resets and PING floods end the connection with ENHANCE_YOUR_CALM', async () => {
    const tight: FloodLimits = { ...DEFAULT_FLOOD_LIMITS, resetBurst: 20, resetsPerSecond: 1, controlBurst: 20, controlPerSecond: 1 };
    const s = await server({}, echoApp, tight);
    const c = await RawH2.connect(s.port);
    const bufs: Buffer[] = [];
    for (let id = 1; id < 100; id += 2) bufs.push(frame(T.HEADERS, F.END_HEADERS, id, Buffer.from('828684', 'hex')), frame(T.RST_STREAM, 0, id, u32(E.CANCEL)));
    c.write(...bufs);
    assert.equal((await c.goaway())?.code, E.ENHANCE_YOUR_CALM);
    const c2 = await RawH2.connect(s.port);
    c2.write(...Array.from({ length: 30 }, () => frame(T.PING, 0, 0, Buffer.alloc(8))));
    assert.equal((await c2.goaway())?.code, E.ENHANCE_YOUR_CALM);
    assert.ok(c2.frames.filter((f) => f.type === T.PING).length <= 21);
  });
});

/** The core as a client: collects a response. */
class Collect implements H2StreamHandler {
  status = 0;
  fields: string[] = [];
  chunks: Buffer[] = [];
  trailers: string[] | undefined;
  reset: [number, ResetCause] | undefined;
  done: Promise<void>;
  #resolve!: () => void;
  onWritableCalls = 0;
  constructor(readonly slow = false) { this.done = new Promise((r) => (this.#resolve = r)); }
  onResponseHeaders(_s: H2Stream, head: H2ResponseHead, end: boolean): void { this.status = head.status; this.fields = head.fields; if (end) this.#resolve(); }
  onData(s: H2Stream, chunk: Buffer, end: boolean): void {
    this.chunks.push(Buffer.from(chunk));
    if (this.slow && !end) { s.readDisable(true); setTimeout(() => s.readDisable(false), 1); }
    if (end) this.#resolve();
  }
  onTrailers(_s: H2Stream, f: string[]): void { this.trailers = f; this.#resolve(); }
  onReset(_s: H2Stream, code: number, cause: ResetCause): void { this.reset = [code, cause]; this.#resolve(); }
  onWritable(): void { this.onWritableCalls++; }
}

async function client(port: number, opts: Partial<H2ConnectionOptions> = {}): Promise<Http2Connection> {
  const sock = net.connect(port, '127.0.0.1');
  const conn = new Http2Connection(sock, { ...BASE, role: 'client', ...opts }, {});
  await once(sock, 'connect');
  return conn;
}

/** Sends `body` on `stream` respecting `writable`, the way the proxy's streams do. */
async function pump(stream: H2Stream, h: Collect, body: Buffer, chunk: number): Promise<void> {
  for (let off = 0; off < body.length; off += chunk) {
    const end = off + chunk >= body.length;
    stream.sendData(body.subarray(off, off + chunk), end);
    if (!end && !stream.writable) {
      const before = h.onWritableCalls;
      while (h.onWritableCalls === before && !stream.closed) await new Promise((r) => setTimeout(r, 1));
    }
  }
}

describe('Http2Connection client <-> server', () => {
  it('200 concurrent streams with bodies both ways', async () => {
    const s = await server({ maxConcurrentStreams: 1000 });
    const conn = await client(s.port);
    const all = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const h = new Collect();
      const body = Buffer.alloc(i * 37, i & 0xff);
      const st = conn.request({ method: 'POST', scheme: 'http', authority: 'x', path: `/${i}` }, ['content-length', String(body.length)], body.length === 0, h);
      if (body.length) st.sendData(body, true);
      await h.done;
      return { i, h };
    }));
    for (const { i, h } of all) {
      assert.equal(h.status, 200, `stream ${i}`);
      assert.equal(Buffer.concat(h.chunks).length, i * 37);
    }
    conn.destroy();
  });

  it('8 MiB each way with small windows and a slow reader on both ends: every byte arrives, in order', async () => {
    const s = await server({ streamWindow: 16384, connectionWindow: 65535 }, (stream, head) => {
      const e = new Echo(stream, head);
      stream.handler = {
        ...e,
        onResponseHeaders() {},
        onData(st: H2Stream, chunk: Buffer, end: boolean) {
          e.chunks.push(Buffer.from(chunk));
          if (!end) { st.readDisable(true); setTimeout(() => st.readDisable(false), 1); } else e.answer();
        },
        onTrailers() {}, onReset() {}, onWritable() {},
      };
    });
    const conn = await client(s.port, { streamWindow: 16384, connectionWindow: 65535 });
    const body = Buffer.alloc(8 << 20);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i, i);
    const h = new Collect(true);
    const st = conn.request({ method: 'POST', scheme: 'http', authority: 'x', path: '/big' }, [], false, h);
    await pump(st, h, body, 100_000);
    await h.done;
    assert.equal(h.reset, undefined);
    assert.equal(Buffer.concat(h.chunks).equals(body), true);
    conn.destroy();
  });

  it('the server resetting a stream reaches the client handler as Remote; a GOAWAY refuses the streams it does not cover', async () => {
    const s = await server({}, (stream, head) => {
      if (head.path === '/reset') { stream.reset(E.INTERNAL_ERROR); return; }
      stream.handler = new Echo(stream, head);
    });
    const conn = await client(s.port);
    const h = new Collect();
    conn.request({ method: 'GET', scheme: 'http', authority: 'x', path: '/reset' }, [], true, h);
    await h.done;
    assert.deepEqual(h.reset, [E.INTERNAL_ERROR, ResetCause.Remote]);
    const open = new Collect();
    conn.request({ method: 'POST', scheme: 'http', authority: 'x', path: '/open' }, [], false, open); // stream 3
    await new Promise((r) => setTimeout(r, 50));
    // GOAWAY (last stream 3) and a new request cross on the wire: stream 5 is refused.
    s.conns[0]!.goAway();
    const late = new Collect();
    conn.request({ method: 'GET', scheme: 'http', authority: 'x', path: '/late' }, [], true, late);
    await late.done;
    assert.equal(late.reset?.[1], ResetCause.Refused);
    assert.equal(conn.canOpenStream, false);
    const st3 = conn.streams.get(3)!;
    st3.sendData(Buffer.from('z'), true);
    await open.done;
    assert.equal(open.status, 200);
  });
});
