import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, rawExchange, request } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// HTTP/1.1 and HTTP/2 behaviour through the proxy, against a real node:http upstream.
let proxy: RunningProxy;
let port: number;
let upstream: http.Server;
let upstreamPort: number;
const upstreamConnections = new Set<number>();

before(async () => {
  upstream = http.createServer((req, res) => {
    upstreamConnections.add(req.socket.remotePort ?? 0);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/chunked') {
        res.write('part1-');
        setTimeout(() => res.end('part2'), 20);
        return;
      }
      res.setHeader('x-upstream-saw-host', req.headers.host ?? '');
      res.setHeader('x-upstream-saw-xff', String(req.headers['x-forwarded-for'] ?? ''));
      res.setHeader('x-upstream-saw-rid', String(req.headers['x-request-id'] ?? ''));
      res.setHeader('x-upstream-saw-te', String(req.headers['transfer-encoding'] ?? ''));
      res.end(`${req.method} ${req.url} ${body.length} ${body.toString().slice(0, 20)}`);
    });
  });
  upstream.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    if (head.length) socket.write(head);
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  upstream.keepAliveTimeout = 30_000;
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamPort = (upstream.address() as net.AddressInfo).port;
  port = await freePort();
  proxy = await startProxy(httpBootstrap({
    listenPort: port,
    upstreamPort,
    hcmExtra: `
use_remote_address: true
upgrade_configs: [ { upgrade_type: websocket } ]`,
  }));
});

after(async () => {
  await proxy.stop();
  upstream.closeAllConnections();
  upstream.close();
});

test('a GET goes through and the proxy adds Envoy headers', async () => {
  const r = await request(port, { path: '/hello?x=1' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'GET /hello?x=1 0 ');
  assert.equal(r.headers['server'], 'envoy');
  assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
  assert.equal(r.headers['x-upstream-saw-host'], `127.0.0.1:${port}`);
  assert.equal(r.headers['x-upstream-saw-xff'], '127.0.0.1');
  assert.match(String(r.headers['x-upstream-saw-rid']), /^[0-9a-f-]{36}$/);
});

test('keep-alive: many requests on one downstream connection reuse one upstream connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  upstreamConnections.clear();
  for (let i = 0; i < 20; i++) {
    const r = await request(port, { path: `/k${i}`, agent });
    assert.equal(r.body, `GET /k${i} 0 `);
  }
  agent.destroy();
  assert.equal(upstreamConnections.size, 1, `upstream saw ${upstreamConnections.size} connections`);
});

test('a chunked request body is forwarded whole', async () => {
  const body = 'x'.repeat(100_000);
  const r = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false }, (res) => {
      let s = '';
      res.on('data', (d) => (s += d));
      res.on('end', () => resolve(s));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write(body.slice(i * 10_000, (i + 1) * 10_000));
    req.end();
  });
  assert.equal(r, `POST /upload 100000 ${'x'.repeat(20)}`);
});

test('a chunked response streams through', async () => {
  const r = await request(port, { path: '/chunked' });
  assert.equal(r.body, 'part1-part2');
});

test('pipelined requests are answered in order, each once', async () => {
  const reqs = ['/p1', '/p2', '/p3'].map((p) => `GET ${p} HTTP/1.1\r\nHost: a\r\n\r\n`).join('') + 'GET /p4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
  const r = await rawExchange(port, reqs);
  const bodies = [...r.text.matchAll(/GET (\/p\d) 0 /g)].map((m) => m[1]);
  assert.deepEqual(bodies, ['/p1', '/p2', '/p3', '/p4']);
  assert.equal(r.closed, true);
});

test('Expect: 100-continue gets 100 Continue from the proxy, then the body goes up', async () => {
  const r = await rawExchange(port, [
    'POST /expect HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
  ], 500);
  assert.match(r.text, /^HTTP\/1\.1 100 Continue\r\n\r\n/);
  const r2 = await new Promise<string>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.includes('100 Continue') && !got.includes('200')) s.write('hello');
    });
    s.on('close', () => resolve(got));
    s.write('POST /expect HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
  });
  assert.match(r2, /HTTP\/1\.1 200 OK[\s\S]*POST \/expect 5 hello/);
});

test('HTTP/1.0 request gets a response and the connection closes', async () => {
  const r = await rawExchange(port, 'GET /old HTTP/1.0\r\nHost: a\r\n\r\n');
  assert.match(r.text, /^HTTP\/1\.0 200 /);
  assert.match(r.text, /GET \/old 0 $/);
  assert.equal(r.closed, true);
});

test('WebSocket upgrade passes through and bytes flow both ways', async () => {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  let got = '';
  s.on('data', (d) => {
    got += d;
    if (got.includes('101') && !got.includes('echo:')) s.write('ping');
  });
  for (let i = 0; i < 100 && !got.includes('echo:ping'); i++) await new Promise((r) => setTimeout(r, 20));
  s.destroy();
  assert.match(got, /^HTTP\/1\.1 101 /);
  assert.match(got, /echo:ping/);
});

test('HTTP/2 prior knowledge (codec AUTO) to an HTTP/1.1 upstream', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const get = (path: string, body?: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const r = session.request({ ':path': path, ':method': body ? 'POST' : 'GET' });
    let status = 0;
    let s = '';
    r.on('response', (h) => (status = Number(h[':status'])));
    r.on('data', (d) => (s += d));
    r.on('end', () => resolve({ status, body: s }));
    r.on('error', reject);
    r.end(body);
  });
  const results = await Promise.all([get('/h2/a'), get('/h2/b', 'data!'), get('/h2/c')]);
  session.close();
  assert.deepEqual(results.map((x) => x.status), [200, 200, 200]);
  assert.equal(results[0]!.body, 'GET /h2/a 0 ');
  assert.equal(results[1]!.body, 'POST /h2/b 5 data!');
});

test('HEAD gets headers and no body', async () => {
  const r = await rawExchange(port, 'HEAD /head HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(r.text, /^HTTP\/1\.1 200 /);
  assert.match(r.text, /\r\n\r\n$/);
});
