import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { H1Error } from '../../../../src/proxy/http/h1/errors.js';
import {
  CRLF, LAST_CHUNK, encodeChunk, encodeChunkHeader, reasonPhrase, serializeFields, serializeRequestHead,
  serializeResponseHead, serializeTrailers,
} from '../../../../src/proxy/http/h1/serialize.js';
import { mergeBodies, requestParser, responseParser } from './harness.js';

const invalidField = (e: unknown): boolean => e instanceof H1Error && e.code === 'H1_INVALID_FIELD' && e.status === 500;

describe('serializeRequestHead', () => {
  it('writes the request line, fields in order, and the empty line', () => {
    const h = new HeaderMap(['host', 'a.example', 'accept', '*/*', 'x-multi', '1', 'x-multi', '2']);
    assert.equal(serializeRequestHead('GET', '/p?q=1', h), 'GET /p?q=1 HTTP/1.1\r\nhost: a.example\r\naccept: */*\r\nx-multi: 1\r\nx-multi: 2\r\n\r\n');
  });

  it('puts the authority first as Host and drops any other host field', () => {
    const h = new HeaderMap(['accept', '*/*', 'host', 'stale', 'x', 'y']);
    assert.equal(serializeRequestHead('POST', '/', 'svc.ns:8080', h), 'POST / HTTP/1.1\r\nhost: svc.ns:8080\r\naccept: */*\r\nx: y\r\n\r\n');
  });

  it('refuses what would split the message', () => {
    const ok = new HeaderMap(['host', 'a']);
    assert.throws(() => serializeRequestHead('GET', '/a b', ok), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/a\r\nX: y', ok), invalidField);
    assert.throws(() => serializeRequestHead('GE T', '/', ok), invalidField);
    assert.throws(() => serializeRequestHead('', '/', ok), invalidField);
    assert.throws(() => serializeRequestHead('GET', '', ok), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', 'a\r\nX: y', ok), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', new HeaderMap(['x', 'a\r\nInjected: 1'])), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', new HeaderMap(['x', 'a\nb'])), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', new HeaderMap(['x', 'a\0b'])), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', new HeaderMap(['x y', 'a'])), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', new HeaderMap([':authority', 'a'])), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', new HeaderMap(['', 'a'])), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', new HeaderMap(['x', 'caf\u0113'])), invalidField);
  });

  it('checks every character of a value, short or long, the same way (HTAB, SP, VCHAR and obs-text only)', () => {
    for (let c = 0; c < 0x110; c++) {
      const allowed = c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
      // Short values are checked by a loop, long ones by a regular expression; the character first, in the middle, last.
      for (const value of [String.fromCharCode(c), `a${String.fromCharCode(c)}b`, `${'v'.repeat(40)}${String.fromCharCode(c)}`, `${String.fromCharCode(c)}${'v'.repeat(40)}`]) {
        const h = new HeaderMap(['x', value]);
        if (allowed) assert.equal(serializeRequestHead('GET', '/', h), `GET / HTTP/1.1\r\nx: ${value}\r\n\r\n`);
        else assert.throws(() => serializeRequestHead('GET', '/', h), invalidField, `U+${c.toString(16)} in ${JSON.stringify(value)}`);
      }
    }
  });
});

describe('a trusted value (the traceparent the tracer made)', () => {
  const tp = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`;

  it('is written like any other; the mark exempts only a value equal to it', () => {
    const h = new HeaderMap(['host', 'a', 'traceparent', tp]);
    h.trusted = tp;
    assert.equal(serializeRequestHead('GET', '/', 'a', h), `GET / HTTP/1.1\r\nhost: a\r\ntraceparent: ${tp}\r\n\r\n`);
    // Another header's bad value is still refused, whatever is marked, in both serializers.
    h.add('x-bad', `${'v'.repeat(20)}\r\nInjected: 1`);
    assert.throws(() => serializeRequestHead('GET', '/', 'a', h), invalidField);
    assert.throws(() => serializeRequestHead('GET', '/', h), invalidField);
    assert.throws(() => serializeFields(h), invalidField);
  });

  it('survives clone(), as the shadow and retries copy headers', () => {
    const h = new HeaderMap(['traceparent', tp]);
    h.trusted = tp;
    assert.equal(h.clone().trusted, tp);
    assert.equal(new HeaderMap().trusted, undefined);
  });
});

describe('serializeResponseHead', () => {
  it('uses the standard reason phrase by default', () => {
    const h = new HeaderMap(['content-length', '0']);
    assert.equal(serializeResponseHead(200, undefined, h), 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    assert.equal(serializeResponseHead(503, undefined, new HeaderMap()), 'HTTP/1.1 503 Service Unavailable\r\n\r\n');
    assert.equal(serializeResponseHead(431, undefined, new HeaderMap()), 'HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n');
    assert.equal(serializeResponseHead(599, undefined, new HeaderMap()), 'HTTP/1.1 599 \r\n\r\n');
    assert.equal(reasonPhrase(404), 'Not Found');
  });

  it('takes a custom reason and HTTP/1.0', () => {
    assert.equal(serializeResponseHead(200, 'Fine', new HeaderMap(), 0), 'HTTP/1.0 200 Fine\r\n\r\n');
    assert.equal(serializeResponseHead(200, undefined, new HeaderMap(), 0), 'HTTP/1.0 200 OK\r\n\r\n');
  });

  it('refuses bad status codes and reasons', () => {
    assert.throws(() => serializeResponseHead(99, undefined, new HeaderMap()), invalidField);
    assert.throws(() => serializeResponseHead(1000, undefined, new HeaderMap()), invalidField);
    assert.throws(() => serializeResponseHead(200.5, undefined, new HeaderMap()), invalidField);
    assert.throws(() => serializeResponseHead(200, 'OK\r\nX: y', new HeaderMap()), invalidField);
  });
});

describe('chunked encoding', () => {
  it('frames chunks and the end of the body', () => {
    assert.equal(encodeChunkHeader(255), 'ff\r\n');
    assert.equal(encodeChunkHeader(1), '1\r\n');
    assert.equal(CRLF.toString(), '\r\n');
    assert.equal(LAST_CHUNK.toString(), '0\r\n\r\n');
    assert.deepEqual(encodeChunk(Buffer.alloc(0)), []);
    assert.equal(Buffer.concat(encodeChunk(Buffer.from('hello'))).toString(), '5\r\nhello\r\n');
    assert.equal(serializeTrailers(new HeaderMap(['grpc-status', '0'])), '0\r\ngrpc-status: 0\r\n\r\n');
    assert.equal(serializeTrailers(new HeaderMap()), '0\r\n\r\n');
    assert.equal(serializeFields(new HeaderMap(['a', '1'])), 'a: 1\r\n');
  });
});

describe('round trip through the parsers', () => {
  it('a serialized chunked request parses back to the same head, body and trailers', () => {
    const headers = new HeaderMap(['user-agent', 'tsmesh', 'x-obs-text', 'caf\xe9', 'transfer-encoding', 'chunked']);
    const wire = Buffer.concat([
      Buffer.from(serializeRequestHead('PUT', '/obj', 'store:9000', headers), 'latin1'),
      ...encodeChunk(Buffer.from('first,')),
      ...encodeChunk(Buffer.alloc(300, 0x7a)),
      Buffer.from(serializeTrailers(new HeaderMap(['x-sum', '42'])), 'latin1'),
    ]);
    const { parser, events } = requestParser();
    assert.equal(parser.execute(wire), wire.length);
    const merged = mergeBodies(events);
    assert.deepEqual(merged[0]?.type === 'head' && merged[0].head.headers, ['host', 'store:9000', ...headers.list]);
    assert.deepEqual(merged.slice(1), [
      { type: 'body', data: 'first,' + 'z'.repeat(300) },
      { type: 'complete', trailers: ['x-sum', '42'] },
    ]);
  });

  it('a serialized response parses back', () => {
    const wire = Buffer.from(serializeResponseHead(201, undefined, new HeaderMap(['content-length', '2', 'location', '/x'])) + 'ok', 'latin1');
    const { parser, events } = responseParser();
    parser.expectResponseTo('POST');
    parser.execute(wire);
    assert.deepEqual(mergeBodies(events), [
      { type: 'head', head: { status: 201, reason: 'Created', versionMinor: 1, headers: ['content-length', '2', 'location', '/x'], contentLength: 2, chunked: false, keepAlive: true } },
      { type: 'body', data: 'ok' },
      { type: 'complete', trailers: undefined },
    ]);
  });
});
