import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { freePort, httpUpstream, rawUpstream, request } from '../../support/net.js';
import { startProxy, httpBootstrap, writeTemp, type RunningProxy } from '../../support/proxy.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { RawH2, frame, u32, get, post, T, F, E } from '../../support/h2-raw.js';

// HTTP/2 through the proxy with real peers: nghttp and h2load (nghttp2), node:http2 clients
// and servers, and scripted raw peers. Downstream h2c to HTTP/1.1 and to h2c upstreams.

const H2_CLUSTER = `
typed_extension_protocol_options:
  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    explicit_http_config: { http2_protocol_options: {} }`;

let h1up: { port: number; close(): Promise<void> };
let h2up: FaultyUpstream;
let toH1: RunningProxy;
let toH2: RunningProxy;
let p1: number;
let p2: number;
let bigSha = '';
const BIG = 32 * 1024 * 1024;

before(async () => {
  // HTTP/1.1 upstream: /big answers 32 MiB; anything else echoes the body's length and hash.
  const big = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i += 4) big.writeUInt32BE(i, i);
  bigSha = createHash('sha256').update(big).digest('hex');
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; hash.update(d); });
    req.on('end', () => {
      if (req.url === '/big') { res.setHeader('content-length', String(BIG)); res.end(big); return; }
      res.setHeader('x-len', String(n));
      res.setHeader('x-sha', hash.digest('hex'));
      res.end(`${req.method} ${req.url}`);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  h1up = { port: (server.address() as net.AddressInfo).port, close: () => { server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())); } };
  h2up = await faultyUpstream({ name: 'h2up', http2: true });
  p1 = await freePort();
  p2 = await freePort();
  toH1 = await startProxy(httpBootstrap({ listenPort: p1, upstreamPort: h1up.port, routeExtra: 'timeout: 0s' }));
  toH2 = await startProxy(httpBootstrap({ listenPort: p2, upstreamPort: h2up.port, clusterExtra: H2_CLUSTER }));
});

after(async () => {
  await toH1?.stop();
  await toH2?.stop();
  await h1up?.close();
  await h2up?.close();
});

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

async function stat(p: RunningProxy, name: string): Promise<number> {
  const body = (await p.admin('/stats')).body;
  const m = new RegExp(`^${name.replaceAll('.', '\\.')}: (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : NaN;
}

function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers?: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const r = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let status = 0;
    let hs: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    r.on('response', (h) => { status = Number(h[':status']); hs = h; });
    r.on('trailers', (t) => { trailers = t; });
    r.on('data', (d: Buffer) => chunks.push(d));
    r.on('end', () => resolve({ status, headers: hs, body: Buffer.concat(chunks), ...(trailers ? { trailers } : {}) }));
    r.on('error', reject);
    if (body !== undefined) r.end(body);
  });
}

test('nghttp -v: the SETTINGS exchange, a GET and a POST with a body', async () => {
  const r = await run('nghttp', ['-v', '-n', `http://127.0.0.1:${p1}/hello`]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /recv SETTINGS frame <length=\d+, flags=0x00, stream_id=0>/);
  assert.match(r.out, /SETTINGS_MAX_CONCURRENT_STREAMS\(0x03\):1024/);
  assert.match(r.out, /recv SETTINGS frame <length=0, flags=0x01, stream_id=0>/);
  assert.match(r.out, /recv \(stream_id=13\) :status: 200/);
  assert.match(r.out, /recv \(stream_id=13\) server: envoy/);
  assert.match(r.out, /recv DATA frame <length=\d+, flags=0x01, stream_id=13>/, 'the last DATA frame ends the stream');
  const file = writeTemp('body.bin', 'z'.repeat(100_000));
  const post = await run('nghttp', ['-v', '-d', file, `http://127.0.0.1:${p1}/upload`]);
  assert.equal(post.code, 0, post.out);
  assert.match(post.out, /recv \(stream_id=13\) x-len: 100000/);
  assert.match(post.out, /POST \/upload/);
});

test('h2load: 600 requests on 6 connections, 10 streams each, to an HTTP/1.1 and to an h2c upstream: no errors', async () => {
  for (const port of [p1, p2]) {
    const r = await run('h2load', ['-n600', '-c6', '-m10', `http://127.0.0.1:${port}/load`]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /requests: 600 total, 600 started, 600 done, 600 succeeded, 0 failed, 0 errored, 0 timeout/, r.out);
    assert.match(r.out, /status codes: 600 2xx/);
  }
});

test('h2load with a tiny window (-w 10: 1 KiB) still gets every byte of 100 KiB responses', async () => {
  const up = await httpUpstream((_req, res) => res.end(Buffer.alloc(100_000, 'q')));
  const port = await freePort();
  const p = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: up.port }));
  try {
    const r = await run('h2load', ['-n40', '-c2', '-m4', '-w10', '-W16', `http://127.0.0.1:${port}/`]);
    assert.match(r.out, /requests: 40 total, 40 started, 40 done, 40 succeeded/, r.out);
    const bytes = Number(/\((\d+)\) data/.exec(r.out)?.[1]);
    assert.equal(bytes, 40 * 100_000);
  } finally {
    await p.stop();
    await up.close();
  }
});

test('500 concurrent streams on one connection (node:http2 client)', async () => {
  const s = http2.connect(`http://127.0.0.1:${p1}`);
  const rs = await Promise.all(Array.from({ length: 500 }, (_, i) => h2request(s, { ':path': `/c/${i}`, ':method': 'POST' }, `body${i}`)));
  s.close();
  rs.forEach((r, i) => {
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), `POST /c/${i}`);
    assert.equal(r.headers['x-len'], String(`body${i}`.length));
  });
});

test('32 MiB up (h2 client -> HTTP/1.1 upstream) and down (HTTP/1.1 upstream -> h2 client), byte-exact', async () => {
  const big = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i += 4) big.writeUInt32BE(i, i);
  const s = http2.connect(`http://127.0.0.1:${p1}`);
  const up = await h2request(s, { ':path': '/upload', ':method': 'POST' }, big);
  assert.equal(up.status, 200);
  assert.equal(up.headers['x-len'], String(BIG));
  assert.equal(up.headers['x-sha'], bigSha);
  const down = await h2request(s, { ':path': '/big' });
  s.close();
  assert.equal(down.body.length, BIG);
  assert.equal(createHash('sha256').update(down.body).digest('hex'), bigSha);
});

test('32 MiB both ways through an h2c upstream (node:http2 server), byte-exact', async () => {
  const big = Buffer.alloc(BIG, 'b');
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/big') { stream.respond({ ':status': 200 }); stream.end(big); return; }
    const hash = createHash('sha256');
    let n = 0;
    stream.on('data', (d: Buffer) => { n += d.length; hash.update(d); });
    stream.on('end', () => { stream.respond({ ':status': 200, 'x-len': String(n), 'x-sha': hash.digest('hex') }); stream.end(); });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = await freePort();
  const p = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: (server.address() as net.AddressInfo).port, clusterExtra: H2_CLUSTER, routeExtra: 'timeout: 0s' }));
  try {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    const up = await h2request(s, { ':path': '/upload', ':method': 'POST' }, big);
    assert.equal(up.headers['x-len'], String(BIG));
    assert.equal(up.headers['x-sha'], createHash('sha256').update(big).digest('hex'));
    const down = await h2request(s, { ':path': '/big' });
    s.close();
    assert.equal(down.body.length, BIG);
    assert.equal(down.body.equals(big), true);
  } finally {
    await p.stop();
    server.close();
  }
});

test('flow control: an h2 client that stops granting window holds the upstream back; granting again gets every byte', async () => {
  const TOTAL = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  let upstreamSocket: net.Socket | undefined;
  const up = await rawUpstream((s) => {
    upstreamSocket = s;
    s.once('data', () => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${TOTAL}\r\n\r\n`);
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!s.write(chunk)) { s.once('drain', pump); return; }
        }
      };
      pump();
    });
  });
  const port = await freePort();
  const p = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: up.port, routeExtra: 'timeout: 0s' }));
  try {
    // Default windows (64 KiB), and no WINDOW_UPDATE from this client until told.
    const c = await RawH2.connect(port);
    c.keepData = false;
    c.headers(1, get('/big'), true);
    await new Promise((r) => setTimeout(r, 1000));
    const w1 = upstreamSocket!.bytesWritten;
    await new Promise((r) => setTimeout(r, 1000));
    const w2 = upstreamSocket!.bytesWritten;
    assert.equal(c.dataBytes, 65535, 'exactly one window');
    assert.equal(w2 - w1, 0, `the upstream kept writing (${w2 - w1} bytes) while the client granted nothing`);
    assert.ok(w2 < 32 * 1024 * 1024, `${w2} bytes left the upstream`);
    // Open the windows wide: the rest flows.
    c.write(frame(T.WINDOW_UPDATE, 0, 0, u32(0x7fffffff - 65535)), frame(T.WINDOW_UPDATE, 0, 1, u32(0x7fffffff - 65535)));
    const deadline = Date.now() + 30_000;
    while (c.dataBytes < TOTAL && Date.now() < deadline && !c.closed) await new Promise((r) => setTimeout(r, 20));
    assert.equal(c.dataBytes, TOTAL);
    c.close();
  } finally {
    await p.stop();
    await up.close();
  }
});

test('flow control: an upstream that stops reading an upload stops the proxy crediting the client', async () => {
  let upstreamSocket: net.Socket | undefined;
  const up = await rawUpstream((s) => { upstreamSocket = s; s.once('data', () => s.pause()); });
  const port = await freePort();
  const p = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: up.port, routeExtra: 'timeout: 0s' }));
  try {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    const req = s.request({ ':path': '/up', ':method': 'POST' });
    req.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    let stop = false;
    const pump = (): void => {
      while (!stop && written < 512 * 1024 * 1024) {
        written += chunk.length;
        if (!req.write(chunk)) { req.once('drain', pump); return; }
      }
    };
    pump();
    await new Promise((r) => setTimeout(r, 1500));
    const rx1 = await stat(p, 'http.ingress.downstream_cx_rx_bytes_total');
    await new Promise((r) => setTimeout(r, 1000));
    const rx2 = await stat(p, 'http.ingress.downstream_cx_rx_bytes_total');
    assert.ok(upstreamSocket, 'the upstream got the request');
    assert.equal(rx2 - rx1, 0, `the proxy kept reading (${rx2 - rx1} bytes) from the client`);
    assert.ok(rx2 < 64 * 1024 * 1024, `${rx2} bytes read by the proxy while the upstream read nothing`);
    stop = true;
    s.destroy();
  } finally {
    await p.stop();
    await up.close();
  }
});

test('h2c upstream: one connection is reused across sequential and concurrent requests', async () => {
  const before = h2up.connections;
  const s = http2.connect(`http://127.0.0.1:${p2}`);
  for (let i = 0; i < 10; i++) assert.equal((await h2request(s, { ':path': `/seq/${i}` })).status, 200);
  const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => h2request(s, { ':path': `/par/${i}` })));
  s.close();
  rs.forEach((r) => assert.equal(r.status, 200));
  // An HTTP/1.1 client through the same proxy multiplexes onto the same upstream connection.
  const r = await request(p2, { path: '/h1' });
  assert.equal(r.status, 200);
  assert.ok(h2up.connections - before <= 1, `${h2up.connections - before} new upstream connections`);
  assert.equal(await stat(toH2, 'cluster.app.upstream_cx_active'), 1);
});

test('h2c upstream: gRPC status in trailers, a reset, and a dropped connection map to the usual answers', async () => {
  const s = http2.connect(`http://127.0.0.1:${p2}`);
  h2up.script({ kind: 'grpc', grpcStatus: 7, message: 'nope' });
  const g = await h2request(s, { ':path': '/pkg.Svc/M', ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' }, Buffer.alloc(5));
  assert.equal(g.status, 200);
  assert.equal(g.trailers?.['grpc-status'], '7');
  assert.equal(g.trailers?.['grpc-message'], 'nope');
  h2up.script({ kind: 'reset' });
  const reset = await h2request(s, { ':path': '/reset' });
  assert.equal(reset.status, 503);
  assert.match(reset.body.toString(), /reset reason: remote reset/);
  h2up.script({ kind: 'close' });
  const closed = await h2request(s, { ':path': '/close' });
  assert.equal(closed.status, 503);
  assert.match(closed.body.toString(), /connection termination/);
  assert.equal((await h2request(s, { ':path': '/after' })).status, 200);
  s.close();
});

/** A scripted h2c upstream: SETTINGS, then `answer(streamId)` for each request HEADERS frame. */
async function rawH2Upstream(answer: (id: number) => Buffer): Promise<net.Server> {
  const up = net.createServer((sock) => {
    sock.write(frame(T.SETTINGS, 0, 0));
    let buf = Buffer.alloc(0);
    let prefaceDone = false;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!prefaceDone) { if (buf.length < 24) return; buf = buf.subarray(24); prefaceDone = true; }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) return;
        const type = buf[3]!;
        const id = buf.readUInt32BE(5);
        buf = buf.subarray(9 + len);
        if (type === T.HEADERS && !sock.destroyed) sock.write(answer(id));
      }
    });
    sock.on('error', () => {});
  });
  up.listen(0, '127.0.0.1');
  await once(up, 'listening');
  return up;
}

const lit = (n: string, v: string): Buffer => Buffer.concat([Buffer.from([0, n.length]), Buffer.from(n), Buffer.from([v.length]), Buffer.from(v)]);

// [name, the upstream's answer to a request, the upstream connection protocol errors expected].
const BAD_UPSTREAMS: [string, (id: number) => Buffer, number][] = [
  ['a connection-specific field (malformed response: stream error)', (id) => frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, id, Buffer.concat([Buffer.from([0x88]), lit('connection', 'close')])), 0],
  ['no :status', (id) => frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, id, lit('x', 'y')), 0],
  ['DATA before the response head', (id) => frame(T.DATA, F.END_STREAM, id, 'body'), 0],
  ['bad HPACK (connection error)', (id) => frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, id, Buffer.from([0x80])), 1],
  ['a frame over the maximum size (connection error)', (id) => frame(T.DATA, 0, id, Buffer.alloc(16385)), 1],
];

test('h2c upstream sending a body longer than its content-length: the response is cut (it had started), none of the extra bytes pass', async () => {
  const up = await rawH2Upstream((id) => Buffer.concat([frame(T.HEADERS, F.END_HEADERS, id, Buffer.concat([Buffer.from([0x88]), lit('content-length', '2')])), frame(T.DATA, F.END_STREAM, id, 'body')]));
  const port = await freePort();
  const p = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: (up.address() as net.AddressInfo).port, clusterExtra: H2_CLUSTER }));
  try {
    const c = await RawH2.connect(port);
    c.headers(1, get('/x'), true);
    const r = await c.response(1);
    assert.equal(r.reset, E.INTERNAL_ERROR);
    assert.equal(r.body.length, 0);
    c.close();
  } finally {
    await p.stop();
    up.close();
  }
});

for (const [name, answer, cxErrors] of BAD_UPSTREAMS) {
  test(`h2c upstream answering with ${name}: 502 protocol error, nothing of it passed on`, async () => {
    const up = await rawH2Upstream(answer);
    const port = await freePort();
    const p = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: (up.address() as net.AddressInfo).port, clusterExtra: H2_CLUSTER }));
    try {
      const r = await request(port, { path: '/x' });
      assert.equal(r.status, 502);
      assert.match(r.body, /protocol error/);
      assert.equal(r.headers['x-upstream'], undefined);
      assert.equal(await stat(p, 'cluster.app.upstream_cx_protocol_error'), cxErrors);
    } finally {
      await p.stop();
      up.close();
    }
  });
}

test('h2c upstream GOAWAY: the request in flight finishes, the next one gets a new connection', async () => {
  let sessions = 0;
  const server = http2.createServer();
  server.on('session', () => sessions++);
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/goaway') {
      stream.session!.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id!);
      setTimeout(() => { stream.respond({ ':status': 200 }); stream.end('after goaway'); }, 50);
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = await freePort();
  const p = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: (server.address() as net.AddressInfo).port, clusterExtra: H2_CLUSTER }));
  try {
    assert.equal((await request(port, { path: '/one' })).body, 'ok');
    assert.equal((await request(port, { path: '/goaway' })).body, 'after goaway');
    assert.equal((await request(port, { path: '/two' })).body, 'ok');
    assert.equal(sessions, 2);
    assert.equal(await stat(p, 'cluster.app.upstream_cx_total'), 2);
  } finally {
    await p.stop();
    server.close();
  }
});

test('a client GOAWAY: the request in flight is still answered, then the connection closes', async () => {
  h2up.script({ kind: 'slow', delayMs: 200 });
  const c = await RawH2.connect(p2);
  c.headers(1, get('/slow'), true);
  await new Promise((r) => setTimeout(r, 50));
  c.write(frame(T.GOAWAY, 0, 0, u32(0, E.NO_ERROR)));
  const r = await c.response(1);
  assert.equal(r.status, 200);
  assert.equal(await c.waitClosed(), true);
});

test('idle downstream connection: GOAWAY (NO_ERROR, last stream) then close; a stream idle timeout answers 504', async () => {
  const port = await freePort();
  const hang = await faultyUpstream({ name: 'hang' });
  hang.setDefault({ kind: 'hang' });
  const p = await startProxy(httpBootstrap({
    listenPort: port,
    upstreamPort: hang.port,
    routeExtra: 'timeout: 0s',
    hcmExtra: `
common_http_protocol_options: { idle_timeout: 0.4s }
stream_idle_timeout: 0.3s`,
  }));
  try {
    const c = await RawH2.connect(port);
    c.headers(1, get('/hang'), true);
    const r = await c.response(1);
    assert.equal(r.status, 504);
    assert.match(r.body.toString(), /stream timeout/);
    const g = await c.goaway(3000);
    assert.deepEqual([g?.lastStreamId, g?.code], [1, E.NO_ERROR]);
    assert.equal(await c.waitClosed(), true);
    assert.equal(await stat(p, 'http.ingress.downstream_cx_idle_timeout'), 1);
    assert.equal(await stat(p, 'http.ingress.downstream_rq_idle_timeout'), 1);
  } finally {
    await p.stop();
    await hang.close();
  }
});

test('stats: h2 connections and requests are counted, bytes both ways', async () => {
  const s = http2.connect(`http://127.0.0.1:${p1}`);
  await h2request(s, { ':path': '/stats-probe' });
  s.close();
  assert.ok((await stat(toH1, 'http.ingress.downstream_cx_http2_total')) >= 1);
  assert.ok((await stat(toH1, 'http.ingress.downstream_rq_http2_total')) >= 1);
  assert.ok((await stat(toH1, 'http.ingress.downstream_cx_rx_bytes_total')) > 0);
  assert.ok((await stat(toH1, 'http.ingress.downstream_cx_tx_bytes_total')) > 0);
  assert.ok((await stat(toH2, 'cluster.app.upstream_cx_rx_bytes_total')) > 0);
  assert.equal(await stat(toH1, 'http.ingress.downstream_cx_protocol_error'), 0);
});

test('a reset from the client reaches the upstream request (it is cancelled)', async () => {
  h2up.script({ kind: 'hang' });
  const c = await RawH2.connect(p2);
  c.headers(1, post('/cancel-me'), false);
  await new Promise((r) => setTimeout(r, 200));
  c.write(frame(T.RST_STREAM, 0, 1, u32(E.CANCEL)));
  await new Promise((r) => setTimeout(r, 200));
  c.headers(3, get('/ok'), true);
  assert.equal((await c.response(3)).status, 200);
  c.close();
  assert.ok((await stat(toH2, 'http.ingress.downstream_rq_rx_reset')) >= 1);
  assert.ok((await stat(toH2, 'cluster.app.upstream_rq_tx_reset')) >= 1);
});
