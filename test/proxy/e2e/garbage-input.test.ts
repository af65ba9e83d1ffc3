import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { freePort, httpUpstream, rawExchange, type Upstream } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// No input crashes the proxy: seeded random bytes and mutations of valid requests, on HTTP/1.1
// and HTTP/2, then the proxy must still be up and serving.
let upstream: Upstream;
let proxy: RunningProxy;
let port: number;

before(async () => {
  upstream = await httpUpstream();
  port = await freePort();
  proxy = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: upstream.port, hcmExtra: 'request_headers_timeout: 1s' }));
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

/** xorshift32: the same inputs on every run, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 0x100000000; };
}

const VALID = [
  'GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
  'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n',
  'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
];

function mutate(r: () => number, s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * b.length);
    const op = r();
    if (op < 0.4) b[at] = Math.floor(r() * 256);
    else if (op < 0.7) b[at] = [0x0d, 0x0a, 0x20, 0x3a, 0x00, 0x09][Math.floor(r() * 6)]!;
    else return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(r() * 8))]);
  }
  return b;
}

test('200 mutated or random HTTP/1.1 inputs: every answer is a well-formed status line or a close', async () => {
  const r = rng(0xC0FFEE);
  for (let i = 0; i < 200; i++) {
    const input = r() < 0.2 ? Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256))) : mutate(r, VALID[i % VALID.length]!);
    const res = await rawExchange(port, input, 80);
    if (res.text.length > 0) assert.match(res.text, /^HTTP\/1\.[01] [1-5]\d\d /, `input #${i}: ${JSON.stringify(input.toString('latin1'))}`);
  }
  assert.equal((await proxy.admin('/ready')).status, 200);
});

test('random bytes after an HTTP/2 preface do not hurt the proxy', async () => {
  const r = rng(42);
  for (let i = 0; i < 50; i++) {
    const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 100) }, () => Math.floor(r() * 256)));
    await rawExchange(port, [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), junk], 100);
  }
  // A real HTTP/2 client still works afterwards.
  const s = http2.connect(`http://127.0.0.1:${port}`);
  const status = await new Promise<number>((resolve, reject) => {
    const req = s.request({ ':path': '/after' });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.end();
  });
  s.close();
  assert.equal(status, 200);
});

test('connections that close at every point of a request leave the proxy healthy', async () => {
  const full = 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789';
  for (let cut = 1; cut < full.length; cut += 3) {
    await new Promise<void>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.write(full.slice(0, cut)); c.destroy(); resolve(); });
      c.on('error', () => resolve());
    });
  }
  const ok = await rawExchange(port, 'GET /still-ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(ok.text, /^HTTP\/1\.1 200 /);
  assert.equal((await proxy.admin('/ready')).status, 200);
});
