import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpUpstream, rawExchange, type Upstream } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// Every malformed request is answered by the proxy and never reaches the upstream.
let upstream: Upstream;
let proxy: RunningProxy;
let port: number;

before(async () => {
  upstream = await httpUpstream();
  port = await freePort();
  proxy = await startProxy(httpBootstrap({
    listenPort: port,
    upstreamPort: upstream.port,
    hcmExtra: `
max_request_headers_kb: 4
request_headers_timeout: 0.5s
common_http_protocol_options: { idle_timeout: 1s }`,
  }));
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

const H = 'Host: a\r\n';
const cases: [string, string, number][] = [
  ['garbage request line', 'HELLO\r\n\r\n', 400],
  ['missing version', `GET /\r\n${H}\r\n`, 400],
  ['bad version', `GET / HTTP/2.7\r\n${H}\r\n`, 505],
  ['space in target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
  ['invalid method token', `G(T / HTTP/1.1\r\n${H}\r\n`, 400],
  ['invalid header name', `GET / HTTP/1.1\r\n${H}Bad Name: x\r\n\r\n`, 400],
  ['space before colon', `GET / HTTP/1.1\r\n${H}X-A : x\r\n\r\n`, 400],
  ['obs-fold', `GET / HTTP/1.1\r\n${H}X-A: x\r\n  folded\r\n\r\n`, 400],
  ['bare CR in a header value', `GET / HTTP/1.1\r\n${H}X-A: x\ry\r\n\r\n`, 400],
  ['NUL in a header value', `GET / HTTP/1.1\r\n${H}X-A: x\0y\r\n\r\n`, 400],
  ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['differing Content-Lengths', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 400],
  ['Content-Length list that differs', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\nhello!`, 400],
  ['non-numeric Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5x\r\n\r\nhello`, 400],
  ['negative Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400],
  ['invalid chunk size', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk size overflow', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n0\r\n\r\n`, 400],
  ['Transfer-Encoding not ending in chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400],
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n', 400],
  ['two Host headers', `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
];

for (const [name, raw, status] of cases) {
  test(`${name} → ${status}, connection closed, nothing forwarded`, async () => {
    const before = upstream.seen.length;
    const r = await rawExchange(port, raw);
    assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} `), r.text);
    assert.equal(r.closed, true, 'connection must be closed');
    assert.equal(upstream.seen.length, before, 'the request must not reach the upstream');
  });
}

test('a header section over max_request_headers_kb → 431', async () => {
  const before = upstream.seen.length;
  const r = await rawExchange(port, `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  assert.match(r.text, /^HTTP\/1\.1 431 /);
  assert.equal(r.closed, true);
  assert.equal(upstream.seen.length, before);
});

test('a smuggled second request inside a bad body is never forwarded', async () => {
  const before = upstream.seen.length;
  const smuggled = 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n';
  const r = await rawExchange(port, `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`);
  assert.match(r.text, /^HTTP\/1\.1 400 /);
  assert.equal(upstream.seen.length, before);
  assert.ok(!upstream.seen.some((s) => s.url === '/admin'));
});

test('a slow client cannot hold the connection past request_headers_timeout', async () => {
  const start = Date.now();
  // Send part of a head, then nothing: the proxy must answer 408 and close.
  const r = await rawExchange(port, `GET / HTTP/1.1\r\n${H}X-Slow: 1\r\n`, 5000);
  assert.match(r.text, /^HTTP\/1\.1 408 /);
  assert.equal(r.closed, true);
  assert.ok(Date.now() - start < 4500, 'closed by the proxy, not by our own wait');
});

test('an idle keep-alive connection is closed after the idle timeout', async () => {
  const r = await rawExchange(port, `GET /x HTTP/1.1\r\n${H}\r\n`, 5000);
  assert.match(r.text, /^HTTP\/1\.1 200 /);
  assert.equal(r.closed, true, 'closed by the proxy after idle_timeout');
});

test('the proxy is still healthy after all of that', async () => {
  const r = await rawExchange(port, `GET /ok HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  assert.match(r.text, /^HTTP\/1\.1 200 /);
  assert.equal((await proxy.admin('/ready')).status, 200);
});
