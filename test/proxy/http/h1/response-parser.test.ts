import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser } from '../../../../src/proxy/http/h1/parser.js';
import { LIMITS, errorOf, headAt, mergeBodies, responseParser, type ParseEvent } from './harness.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function summary(events: ParseEvent[]): string[] {
  return mergeBodies(events).map((e) => {
    if (e.type === 'head') return `head ${String(e.head.status)}`;
    if (e.type === 'body') return `body ${e.data}`;
    if (e.type === 'complete') return e.trailers ? `complete ${e.trailers.join('=')}` : 'complete';
    return `error ${e.code}`;
  });
}

function parse(methods: string[], raw: string): { events: ParseEvent[]; consumed: number; finish(): void } {
  const { parser, events } = responseParser();
  for (const m of methods) parser.expectResponseTo(m);
  const consumed = parser.execute(b(raw));
  return { events, consumed, finish: () => parser.finish() };
}

describe('ResponseParser framing', () => {
  it('parses a status line, fields and a Content-Length body', () => {
    const { events, consumed } = parse(['GET'], 'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nServer: x\r\n\r\nno');
    assert.equal(consumed, 58);
    assert.deepEqual(events[0], {
      type: 'head',
      head: { status: 404, reason: 'Not Found', versionMinor: 1, headers: ['content-length', '2', 'server', 'x'], contentLength: 2, chunked: false, keepAlive: true },
    });
    assert.deepEqual(summary(events), ['head 404', 'body no', 'complete']);
  });

  it('gives a HEAD response no body, whatever Content-Length says', () => {
    const r = parse(['HEAD', 'GET'], 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
    assert.deepEqual(summary(r.events), ['head 200', 'complete', 'head 200', 'body x', 'complete']);
    assert.equal(headAt(r.events).contentLength, 100);
  });

  it('gives 204 and 304 no body', () => {
    const r = parse(['DELETE', 'GET', 'GET'], 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(summary(r.events), ['head 204', 'complete', 'head 304', 'complete', 'head 200', 'complete']);
  });

  it('reads a body without length until the connection closes', () => {
    const r = parse(['GET'], 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ');
    assert.deepEqual(summary(r.events), ['head 200', 'body part one, ']);
    assert.equal(headAt(r.events).keepAlive, false);
    r.finish();
    assert.deepEqual(summary(r.events), ['head 200', 'body part one, ', 'complete']);
  });

  it('reads until close when chunked is not the final coding', () => {
    const r = parse(['GET'], 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n\x1f\x8b...');
    assert.deepEqual(summary(r.events), ['head 200', 'body \x1f\x8b...']);
    r.finish();
    assert.equal(summary(r.events).at(-1), 'complete');
  });

  it('passes unknown codings through when chunked is last', () => {
    const r = parse(['GET'], 'HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n');
    assert.deepEqual(summary(r.events), ['head 200', 'body zz', 'complete']);
  });

  it('decodes chunked with trailers', () => {
    const r = parse(['POST'], 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: grpc-status\r\n\r\n3\r\nabc\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n');
    assert.deepEqual(summary(r.events), ['head 200', 'body abc', 'complete grpc-status=0=grpc-message=ok']);
  });

  it('reports 100 Continue through onHead and then reads the final response', () => {
    const r = parse(['POST', 'HEAD'], 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n');
    assert.deepEqual(summary(r.events), ['head 100', 'head 103', 'head 200', 'body ok', 'complete', 'head 200', 'complete']);
  });

  it('goes on to the final response when paused at an interim one, and EOF after it is an error', () => {
    const events: ParseEvent[] = [];
    const parser: ResponseParser = new ResponseParser({
      onHead(h) { events.push({ type: 'head', head: { status: h.status } }); parser.pause(); },
      onBody(c) { events.push({ type: 'body', data: c.toString() }); },
      onComplete() { events.push({ type: 'complete', trailers: undefined }); },
      onError(e) { events.push({ type: 'error', code: e.code, status: e.status }); },
    }, LIMITS);
    parser.expectResponseTo('POST');
    const raw = b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    assert.equal(parser.execute(raw), raw.length);
    assert.deepEqual(summary(events), ['head 100', 'head 200', 'body ok', 'complete']);
    const cut = responseParser();
    cut.parser.expectResponseTo('POST');
    cut.parser.execute(b('HTTP/1.1 100 Continue\r\n\r\n'));
    cut.parser.finish();
    assert.deepEqual(errorOf(cut.events), { code: 'H1_EOF', status: 400 });
  });

  it('keeps HTTP/1.0 responses alive only with keep-alive', () => {
    const alive = parse(['GET'], 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx');
    assert.equal(headAt(alive.events).keepAlive, true);
    const first = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx';
    const closing = parse(['GET', 'GET'], `${first}HTTP/1.1 200 OK\r\n\r\n`);
    assert.equal(headAt(closing.events).keepAlive, false);
    assert.equal(closing.consumed, first.length);
    assert.deepEqual(summary(closing.events), ['head 200', 'body x', 'complete']);
  });

  it('accepts a status line without reason, with or without the space', () => {
    for (const line of ['HTTP/1.1 200 \r\n', 'HTTP/1.1 200\r\n']) {
      const r = parse(['GET'], `${line}Content-Length: 0\r\n\r\n`);
      assert.equal(errorOf(r.events), undefined, line);
      assert.equal(headAt(r.events).reason, '');
    }
  });

  it('finish() in the middle of a Content-Length or chunked body is H1_EOF', () => {
    for (const raw of ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', 'HTTP/1.1 200 OK\r\nCont']) {
      const r = parse(['GET'], raw);
      r.finish();
      assert.deepEqual(errorOf(r.events), { code: 'H1_EOF', status: 400 }, raw);
    }
  });
});

describe('ResponseParser tunnels', () => {
  it('stops after 101 Switching Protocols with the consumed count', () => {
    const headText = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n\r\n';
    const r = parse(['GET'], headText + '\x81\x05hello');
    assert.equal(r.consumed, headText.length);
    assert.deepEqual(summary(r.events), ['head 101', 'complete']);
  });

  it('stops after a 2xx to CONNECT, but a refused CONNECT has a body', () => {
    const ok = parse(['CONNECT'], 'HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x03');
    assert.equal(ok.consumed, 39);
    assert.deepEqual(summary(ok.events), ['head 200', 'complete']);
    const refused = parse(['CONNECT'], 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny');
    assert.deepEqual(summary(refused.events), ['head 407', 'body deny', 'complete']);
  });
});

describe('ResponseParser rejects', () => {
  const BAD: [string, string, string, number][] = [
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'H1_BAD_STATUS_LINE', 400],
    ['status 099', 'HTTP/1.1 099 X\r\n\r\n', 'H1_BAD_STATUS_LINE', 400],
    ['four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', 'H1_BAD_STATUS_LINE', 400],
    ['HTTP/2 without minor', 'HTTP/2 200 OK\r\n\r\n', 'H1_BAD_STATUS_LINE', 400],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', 'H1_BAD_VERSION', 505],
    ['garbage', 'hello\r\n\r\n', 'H1_BAD_STATUS_LINE', 400],
    ['control char in reason', 'HTTP/1.1 200 O\x01K\r\n\r\n', 'H1_BAD_STATUS_LINE', 400],
    ['bare LF after status line', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', 'H1_BARE_LF', 400],
    ['CL and TE', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 'H1_CL_AND_TE', 400],
    ['differing CL', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 'H1_MULTIPLE_CONTENT_LENGTH', 400],
    ['bad CL', 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n', 'H1_BAD_CONTENT_LENGTH', 400],
    ['TE in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'H1_BAD_TRANSFER_ENCODING', 400],
    ['chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'H1_BAD_TRANSFER_ENCODING', 400],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\r\n', 'H1_OBS_FOLD', 400],
    ['bad header name', 'HTTP/1.1 200 OK\r\nX Y: a\r\n\r\n', 'H1_BAD_HEADER_NAME', 400],
    ['NUL in value', 'HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n', 'H1_BAD_HEADER_VALUE', 400],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'H1_BAD_CHUNK', 400],
  ];
  for (const [name, raw, code, status] of BAD) {
    it(`${name} -> ${code}`, () => {
      assert.deepEqual(errorOf(parse(['GET'], raw).events), { code, status });
    });
  }

  it('rejects a head over the limit with 431', () => {
    const { parser, events } = responseParser({ maxHeaderBytes: 128, maxHeaderCount: 100 });
    parser.expectResponseTo('GET');
    parser.execute(b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}\r\n\r\n`));
    assert.deepEqual(errorOf(events), { code: 'H1_HEADERS_TOO_LARGE', status: 431 });
  });
});
