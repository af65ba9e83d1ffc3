import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpUpstream, type Upstream } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';
import { RawH2, frame, block, u32, settingsPayload, get, post, T, F, E } from '../../support/h2-raw.js';

// A strict HTTP/2 front: every broken peer below is written frame by frame over a real socket
// to the real proxy. Stream errors reset one stream (the connection keeps working), connection
// errors end the connection with GOAWAY; none of the broken requests reaches the upstream, and
// the proxy stays up.

let proxy: RunningProxy;
let h2only: RunningProxy;
let upstream: Upstream;
let port: number;
let h2Port: number;

before(async () => {
  upstream = await httpUpstream();
  port = await freePort();
  h2Port = await freePort();
  const hcm = `
max_request_headers_kb: 2
common_http_protocol_options: { max_headers_count: 30 }`;
  proxy = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: upstream.port, hcmExtra: hcm }));
  h2only = await startProxy(httpBootstrap({ listenPort: h2Port, upstreamPort: upstream.port, hcmExtra: 'codec_type: HTTP2' }));
});

after(async () => {
  await proxy?.stop();
  await h2only?.stop();
  await upstream?.close();
});

const good = (): [string, string][] => get('/good');

/** What the upstream saw other than the good requests the tests send to prove a connection still works. */
function badSeen(): string[] {
  return upstream.seen.filter((s) => s.url !== '/good').map((s) => `${s.method} ${s.url}`);
}

type Script = (c: RawH2) => void;

const h = (fields: [string, string][], endStream = true, id = 1): Script => (c) => c.headers(id, fields, endStream);

// [name, what the peer sends on stream 1, the RST_STREAM code expected]. (DATA beyond a stream's
// window is tested on the connection itself, test/proxy/http/h2/connection.test.ts: through the
// proxy the body is passed on and credited back as it arrives.)
const STREAM_ERRORS: [string, Script, number][] = [
  ['upper-case field name', h(get('/x', 'a', [['X-Upper', '1']])), E.PROTOCOL_ERROR],
  ['connection field', h(get('/x', 'a', [['connection', 'close']])), E.PROTOCOL_ERROR],
  ['keep-alive field', h(get('/x', 'a', [['keep-alive', '5']])), E.PROTOCOL_ERROR],
  ['proxy-connection field', h(get('/x', 'a', [['proxy-connection', 'x']])), E.PROTOCOL_ERROR],
  ['transfer-encoding field', h(post('/x', 'a', [['transfer-encoding', 'chunked']]), false), E.PROTOCOL_ERROR],
  ['upgrade field', h(get('/x', 'a', [['upgrade', 'websocket']])), E.PROTOCOL_ERROR],
  ['te other than trailers', h(get('/x', 'a', [['te', 'gzip']])), E.PROTOCOL_ERROR],
  ['pseudo-header after a regular field', h([[':method', 'GET'], [':scheme', 'http'], ['x', '1'], [':path', '/x'], [':authority', 'a']]), E.PROTOCOL_ERROR],
  ['no :method', h([[':scheme', 'http'], [':path', '/x'], [':authority', 'a']]), E.PROTOCOL_ERROR],
  ['no :path', h([[':method', 'GET'], [':scheme', 'http'], [':authority', 'a']]), E.PROTOCOL_ERROR],
  ['no :scheme', h([[':method', 'GET'], [':path', '/x'], [':authority', 'a']]), E.PROTOCOL_ERROR],
  ['duplicate :path', h([[':method', 'GET'], [':scheme', 'http'], [':path', '/x'], [':path', '/y'], [':authority', 'a']]), E.PROTOCOL_ERROR],
  ['duplicate :method', h([[':method', 'GET'], [':method', 'GET'], [':scheme', 'http'], [':path', '/x']]), E.PROTOCOL_ERROR],
  ['unknown pseudo-header', h([...get('/x'), [':foo', 'bar']]), E.PROTOCOL_ERROR],
  [':status in a request', h([[':status', '200'], ...get('/x')]), E.PROTOCOL_ERROR],
  [':protocol (extended CONNECT is not enabled)', h([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/x'], [':authority', 'a']]), E.PROTOCOL_ERROR],
  ['empty :path', h(get('')), E.PROTOCOL_ERROR],
  [':path not starting with /', h(get('x/y')), E.PROTOCOL_ERROR],
  [':path with a space', h(get('/a b')), E.PROTOCOL_ERROR],
  ['method with a space', h([[':method', 'G T'], [':scheme', 'http'], [':path', '/x'], [':authority', 'a']]), E.PROTOCOL_ERROR],
  ['CONNECT without :authority', h([[':method', 'CONNECT']]), E.PROTOCOL_ERROR],
  ['host differing from :authority', h(get('/x', 'a', [['host', 'b']])), E.PROTOCOL_ERROR],
  ['value with a line feed', h(get('/x', 'a', [['x-a', 'one\ntwo']])), E.PROTOCOL_ERROR],
  ['value with a carriage return', h(get('/x', 'a', [['x-a', 'one\rtwo']])), E.PROTOCOL_ERROR],
  ['value with NUL', h(get('/x', 'a', [['x-a', 'one\0two']])), E.PROTOCOL_ERROR],
  ['value with leading whitespace', h(get('/x', 'a', [['x-a', ' one']])), E.PROTOCOL_ERROR],
  ['name with a space', h(get('/x', 'a', [['x a', '1']])), E.PROTOCOL_ERROR],
  ['empty name', h(get('/x', 'a', [['', '1']])), E.PROTOCOL_ERROR],
  ['content-length larger than the body', (c) => { c.headers(1, post('/x', 'a', [['content-length', '5']]), false); c.data(1, 'abc', true); }, E.PROTOCOL_ERROR],
  ['content-length smaller than the body', (c) => { c.headers(1, post('/x', 'a', [['content-length', '2']]), false); c.data(1, 'abc', true); }, E.PROTOCOL_ERROR],
  ['content-length with END_STREAM on the head', h(post('/x', 'a', [['content-length', '5']]), true), E.PROTOCOL_ERROR],
  ['content-length that is not a number', h(post('/x', 'a', [['content-length', '5x']]), false), E.PROTOCOL_ERROR],
  ['two different content-length', h(post('/x', 'a', [['content-length', '1'], ['content-length', '2']]), false), E.PROTOCOL_ERROR],
  ['trailers without END_STREAM', (c) => { c.headers(1, post('/x'), false); c.data(1, 'abc', false); c.headers(1, [['x-t', '1']], false); }, E.PROTOCOL_ERROR],
  ['pseudo-header in trailers', (c) => { c.headers(1, post('/x'), false); c.data(1, 'abc', false); c.headers(1, [[':path', '/y']], true); }, E.PROTOCOL_ERROR],
  ['a stream that depends on itself', (c) => c.write(frame(T.HEADERS, F.END_HEADERS | F.END_STREAM | F.PRIORITY, 1, Buffer.concat([u32(1), Buffer.from([16]), block(get('/x'))]))), E.PROTOCOL_ERROR],
  ['WINDOW_UPDATE of 0 on a stream', (c) => { c.headers(1, post('/x'), false); c.write(frame(T.WINDOW_UPDATE, 0, 1, u32(0))); }, E.PROTOCOL_ERROR],
  ['stream send window overflow', (c) => { c.headers(1, post('/x'), false); c.write(frame(T.WINDOW_UPDATE, 0, 1, u32(0x7fffffff))); }, E.FLOW_CONTROL_ERROR],
  ['PRIORITY frame that depends on its own stream', (c) => { c.headers(1, post('/x'), false); c.write(frame(T.PRIORITY, 0, 1, Buffer.concat([u32(1), Buffer.from([1])]))); }, E.PROTOCOL_ERROR],
];

for (const [name, script, code] of STREAM_ERRORS) {
  test(`stream error: ${name} -> RST_STREAM ${code}; the connection goes on; nothing went upstream`, async () => {
    const c = await RawH2.connect(port);
    script(c);
    assert.equal(await c.rst(1), code);
    c.headers(3, good(), true);
    const r = await c.response(3);
    assert.equal(r.status, 200);
    assert.equal(c.frames.some((f) => f.type === T.GOAWAY), false);
    c.close();
    assert.deepEqual(badSeen(), []);
  });
}

test('stream error: DATA after END_STREAM -> RST_STREAM STREAM_CLOSED', async () => {
  const c = await RawH2.connect(port);
  c.write(frame(T.HEADERS, F.END_HEADERS, 1, block(post('/good'))), frame(T.DATA, F.END_STREAM, 1, 'x'), frame(T.DATA, 0, 1, 'y'));
  assert.equal(await c.rst(1), E.STREAM_CLOSED);
  c.close();
});

// [name, bytes after the preface and SETTINGS, the GOAWAY code expected].
const big = (n: number): Buffer => Buffer.alloc(n);
const CONNECTION_ERRORS: [string, Buffer[], number][] = [
  ['HEADERS on stream 0', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 0, block(get('/x')))], E.PROTOCOL_ERROR],
  ['HEADERS on an even (server) stream id', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 2, block(get('/x')))], E.PROTOCOL_ERROR],
  ['stream ids going down', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 5, block(good())), frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 3, block(get('/x')))], E.PROTOCOL_ERROR],
  ['DATA on an idle stream', [frame(T.DATA, 0, 9, 'x')], E.PROTOCOL_ERROR],
  ['DATA on stream 0', [frame(T.DATA, 0, 0, 'x')], E.PROTOCOL_ERROR],
  ['CONTINUATION without HEADERS', [frame(T.CONTINUATION, F.END_HEADERS, 1, block(get('/x')))], E.PROTOCOL_ERROR],
  ['another frame inside a field block', [frame(T.HEADERS, 0, 1, block(get('/x'))), frame(T.PING, 0, 0, big(8))], E.PROTOCOL_ERROR],
  ['CONTINUATION of another stream', [frame(T.HEADERS, 0, 1, block(get('/x'))), frame(T.CONTINUATION, F.END_HEADERS, 3, Buffer.alloc(0))], E.PROTOCOL_ERROR],
  ['HPACK index 0', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from('80', 'hex'))], E.COMPRESSION_ERROR],
  ['HPACK index beyond the tables', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from('8286ff00', 'hex'))], E.COMPRESSION_ERROR],
  ['HPACK bad Huffman (padding of zeros)', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from('828684418100', 'hex'))], E.COMPRESSION_ERROR],
  ['HPACK table size update after a field', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from('8220', 'hex'))], E.COMPRESSION_ERROR],
  ['HPACK table size update over the setting', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from('3fe21f', 'hex'))], E.COMPRESSION_ERROR],
  ['HPACK string longer than the block', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.from('82047f', 'hex'))], E.COMPRESSION_ERROR],
  ['frame over SETTINGS_MAX_FRAME_SIZE', [frame(T.HEADERS, F.END_HEADERS, 1, big(16385))], E.FRAME_SIZE_ERROR],
  ['SETTINGS length not a multiple of 6', [frame(T.SETTINGS, 0, 0, big(5))], E.FRAME_SIZE_ERROR],
  ['SETTINGS ACK with a payload', [frame(T.SETTINGS, F.ACK, 0, big(6))], E.FRAME_SIZE_ERROR],
  ['SETTINGS on a stream', [frame(T.SETTINGS, 0, 1)], E.PROTOCOL_ERROR],
  ['SETTINGS_ENABLE_PUSH 2', [frame(T.SETTINGS, 0, 0, settingsPayload([2, 2]))], E.PROTOCOL_ERROR],
  ['SETTINGS_INITIAL_WINDOW_SIZE 2^31', [frame(T.SETTINGS, 0, 0, settingsPayload([4, 0x80000000]))], E.FLOW_CONTROL_ERROR],
  ['SETTINGS_MAX_FRAME_SIZE too small', [frame(T.SETTINGS, 0, 0, settingsPayload([5, 100]))], E.PROTOCOL_ERROR],
  ['SETTINGS_MAX_FRAME_SIZE too large', [frame(T.SETTINGS, 0, 0, settingsPayload([5, 1 << 24]))], E.PROTOCOL_ERROR],
  ['PING of 7 bytes', [frame(T.PING, 0, 0, big(7))], E.FRAME_SIZE_ERROR],
  ['PING on a stream', [frame(T.PING, 0, 1, big(8))], E.PROTOCOL_ERROR],
  ['WINDOW_UPDATE of 0 on the connection', [frame(T.WINDOW_UPDATE, 0, 0, u32(0))], E.PROTOCOL_ERROR],
  ['connection send window overflow', [frame(T.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))], E.FLOW_CONTROL_ERROR],
  ['WINDOW_UPDATE of 3 bytes', [frame(T.WINDOW_UPDATE, 0, 0, big(3))], E.FRAME_SIZE_ERROR],
  ['WINDOW_UPDATE on an idle stream', [frame(T.WINDOW_UPDATE, 0, 7, u32(1))], E.PROTOCOL_ERROR],
  ['RST_STREAM on an idle stream', [frame(T.RST_STREAM, 0, 7, u32(0))], E.PROTOCOL_ERROR],
  ['RST_STREAM on stream 0', [frame(T.RST_STREAM, 0, 0, u32(0))], E.PROTOCOL_ERROR],
  ['RST_STREAM of 3 bytes', [frame(T.RST_STREAM, 0, 1, big(3))], E.FRAME_SIZE_ERROR],
  ['PUSH_PROMISE from a client', [frame(T.PUSH_PROMISE, F.END_HEADERS, 1, Buffer.concat([u32(2), block(get('/x'))]))], E.PROTOCOL_ERROR],
  ['GOAWAY on a stream', [frame(T.GOAWAY, 0, 1, u32(0, 0))], E.PROTOCOL_ERROR],
  ['GOAWAY shorter than 8 bytes', [frame(T.GOAWAY, 0, 0, u32(0))], E.FRAME_SIZE_ERROR],
  ['DATA padding longer than the frame', [frame(T.HEADERS, F.END_HEADERS, 1, block(post('/x'))), frame(T.DATA, F.PADDED, 1, Buffer.from([9, 1, 2]))], E.PROTOCOL_ERROR],
  ['HEADERS padding longer than the frame', [frame(T.HEADERS, F.END_HEADERS | F.PADDED, 1, Buffer.concat([Buffer.from([200]), block(get('/x'))]))], E.PROTOCOL_ERROR],
  ['PRIORITY of 4 bytes on an idle stream', [frame(T.PRIORITY, 0, 9, big(4))], E.FRAME_SIZE_ERROR],
  ['PRIORITY on stream 0', [frame(T.PRIORITY, 0, 0, big(5))], E.PROTOCOL_ERROR],
  ['HEADERS on a stream that has finished', [frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, block(get('/good')))], E.STREAM_CLOSED], // after the first, see below
  // Floods.
  ['empty DATA frames in a row', [frame(T.HEADERS, F.END_HEADERS, 1, block(post('/x'))), ...Array.from({ length: 12 }, () => frame(T.DATA, 0, 1))], E.ENHANCE_YOUR_CALM],
  ['empty CONTINUATION frames (CONTINUATION flood)', [frame(T.HEADERS, 0, 1, block(get('/x'))), ...Array.from({ length: 12 }, () => frame(T.CONTINUATION, 0, 1))], E.ENHANCE_YOUR_CALM],
  ['a field block larger than twice the limit', [frame(T.HEADERS, 0, 1, big(16384)), frame(T.CONTINUATION, 0, 1, big(16384))], E.ENHANCE_YOUR_CALM],
  ['PING flood', Array.from({ length: 1100 }, () => frame(T.PING, 0, 0, big(8))), E.ENHANCE_YOUR_CALM],
  ['SETTINGS flood', Array.from({ length: 1100 }, () => frame(T.SETTINGS, 0, 0)), E.ENHANCE_YOUR_CALM],
  ['PRIORITY flood', Array.from({ length: 150 }, (_, i) => frame(T.PRIORITY, 0, 2 * i + 1, Buffer.concat([u32(0), Buffer.from([1])]))), E.ENHANCE_YOUR_CALM],
  ['WINDOW_UPDATE flood', Array.from({ length: 200 }, () => frame(T.WINDOW_UPDATE, 0, 0, u32(1))), E.ENHANCE_YOUR_CALM],
];

for (const [name, frames, code] of CONNECTION_ERRORS) {
  test(`connection error: ${name} -> GOAWAY ${code} and close`, async () => {
    const c = await RawH2.connect(port);
    if (name.startsWith('HEADERS on a stream that has finished')) {
      c.headers(1, good(), true);
      assert.equal((await c.response(1)).status, 200);
    }
    c.write(...frames);
    const g = await c.goaway();
    assert.equal(g?.code, code, `GOAWAY ${JSON.stringify(g)}`);
    assert.equal(await c.waitClosed(), true, 'connection closed');
    assert.deepEqual(badSeen(), []);
  });
}

test('rapid reset: streams opened and reset at once draw from a bucket; past it, GOAWAY ENHANCE_YOUR_CALM', async () => {
  const c = await RawH2.connect(port);
  const bufs: Buffer[] = [];
  for (let id = 1; id < 2 * 1100; id += 2) bufs.push(frame(T.HEADERS, F.END_HEADERS, id, block(post('/rapid'))), frame(T.RST_STREAM, 0, id, u32(E.CANCEL)));
  c.write(...bufs);
  assert.equal((await c.goaway(10_000))?.code, E.ENHANCE_YOUR_CALM);
  assert.equal((await proxy.admin('/ready')).status, 200);
});

test('the first frame must be SETTINGS', async () => {
  const c = await RawH2.connect(port, { preface: false });
  c.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(T.PING, 0, 0, big(8)));
  assert.equal((await c.goaway())?.code, E.PROTOCOL_ERROR);
  assert.equal(await c.waitClosed(), true);
});

test('codec HTTP2: a bad preface closes the connection', async () => {
  const c = await RawH2.connect(h2Port, { preface: false });
  c.write(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
  assert.equal(await c.waitClosed(), true);
  assert.equal(c.frames.some((f) => f.type === T.HEADERS), false);
  const ok = await RawH2.connect(h2Port);
  ok.headers(1, good(), true);
  assert.equal((await ok.response(1)).status, 200);
  ok.close();
});

test('a header list over max_request_headers_kb is answered 431 and goes nowhere', async () => {
  const c = await RawH2.connect(port);
  c.headers(1, get('/x', 'a', [['x-big', 'v'.repeat(3000)]]), true);
  c.headers(3, get('/x', 'a', Array.from({ length: 31 }, (_, i): [string, string] => [`x-h${i}`, 'v'])), true);
  c.headers(5, post('/x', 'a', [['x-big', 'v'.repeat(3000)]]), false);
  assert.equal((await c.response(1)).status, 431);
  assert.equal((await c.response(3)).status, 431);
  assert.equal((await c.response(5)).status, 431);
  assert.equal(await c.rst(5), E.NO_ERROR, 'the body is not wanted');
  c.headers(7, good(), true);
  assert.equal((await c.response(7)).status, 200);
  c.close();
  assert.deepEqual(badSeen(), []);
});

test('a request split over CONTINUATION frames is fine', async () => {
  const c = await RawH2.connect(port);
  const b = block(get('/good', 'a', [['x-long', 'l'.repeat(1000)]]));
  c.write(frame(T.HEADERS, F.END_STREAM, 1, b.subarray(0, 10)), frame(T.CONTINUATION, 0, 1, b.subarray(10, 500)), frame(T.CONTINUATION, F.END_HEADERS, 1, b.subarray(500)));
  assert.equal((await c.response(1)).status, 200);
  c.close();
});

test('after all that, the proxy counted the protocol errors and still serves', async () => {
  const stats = (await proxy.admin('/stats')).body;
  const n = Number(/http\.ingress\.downstream_cx_protocol_error: (\d+)/.exec(stats)?.[1]);
  assert.ok(n >= CONNECTION_ERRORS.length, `downstream_cx_protocol_error ${n}`);
  assert.equal((await proxy.admin('/ready')).status, 200);
  assert.deepEqual(badSeen(), []);
});
