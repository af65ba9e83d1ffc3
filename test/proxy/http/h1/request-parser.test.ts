import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser } from '../../../../src/proxy/http/h1/parser.js';
import { LIMITS, errorOf, mergeBodies, requestParser, type ParseEvent } from './harness.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function head(events: ParseEvent[], i = 0): Record<string, unknown> {
  const heads = events.filter((e) => e.type === 'head');
  const h = heads[i];
  assert.ok(h?.type === 'head', `no head #${i}: ${JSON.stringify(events)}`);
  return h.head;
}

describe('RequestParser heads', () => {
  it('parses a request line and fields: names lower-case, values trimmed, order kept', () => {
    const { parser, events } = requestParser();
    const raw = 'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Custom-Thing:  v1 \t\r\nACCEPT:\t*/*\r\nEmpty:\r\nx-custom-thing: v2\r\n\r\n';
    assert.equal(parser.execute(b(raw)), raw.length);
    assert.deepEqual(events, [
      {
        type: 'head',
        head: {
          method: 'GET', target: '/a?b=c', versionMinor: 1,
          headers: ['host', 'example.com', 'x-custom-thing', 'v1', 'accept', '*/*', 'empty', '', 'x-custom-thing', 'v2'],
          contentLength: -1, chunked: false, keepAlive: true, upgrade: undefined, expectContinue: false,
        },
      },
      { type: 'complete', trailers: undefined },
    ]);
  });

  it('keeps obs-text in values byte for byte (latin1)', () => {
    const { parser, events } = requestParser();
    parser.execute(b('GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xe9 \xff\r\n\r\n'));
    assert.deepEqual(head(events).headers, ['host', 'a', 'x-name', 'caf\xe9 \xff']);
  });

  it('takes every request-target form and any token method as sent', () => {
    const cases: [string, string][] = [
      ['GET', 'http://example.com:8080/x?y#z'],
      ['CONNECT', 'example.com:443'],
      ['OPTIONS', '*'],
      ['M-SEARCH', '/'],
      ['purge', '/cache/x'],
    ];
    for (const [method, target] of cases) {
      const { parser, events } = requestParser();
      parser.execute(b(`${method} ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`));
      assert.equal(head(events).method, method);
      assert.equal(head(events).target, target);
    }
  });

  it('recognises framing fields whatever their case', () => {
    const { parser, events } = requestParser();
    parser.execute(b('POST / HTTP/1.1\r\nhOsT: a\r\nCONTENT-LENGTH: 3\r\n\r\nabc'));
    assert.equal(head(events).contentLength, 3);
    assert.deepEqual(head(events).headers, ['host', 'a', 'content-length', '3']);
    assert.deepEqual(mergeBodies(events).slice(1), [{ type: 'body', data: 'abc' }, { type: 'complete', trailers: undefined }]);
  });

  it('does not mistake near names for framing fields', () => {
    const { parser, events } = requestParser();
    parser.execute(b('GET / HTTP/1.1\r\nHost: a\r\nContent-Lengths: 3\r\nTransfer-Encodinx: chunked\r\nXost: b\r\n\r\nGET'));
    assert.equal(head(events).contentLength, -1);
    assert.equal(head(events).chunked, false);
    assert.equal(events[1]?.type, 'complete');
  });

  it('collapses identical Content-Length values to one field', () => {
    for (const fields of ['Content-Length: 5\r\nContent-Length: 5\r\n', 'Content-Length: 5, 5\r\n', 'Content-Length: 5 ,5\r\nContent-Length: 005\r\n']) {
      const { parser, events } = requestParser();
      parser.execute(b(`POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\nhello`));
      assert.equal(errorOf(events), undefined, fields);
      assert.deepEqual(head(events).headers, ['host', 'a', 'content-length', '5'], fields);
      assert.deepEqual(mergeBodies(events)[1], { type: 'body', data: 'hello' });
    }
  });

  it('sets keepAlive from the version and Connection tokens', () => {
    const cases: [string, string, boolean][] = [
      ['1.1', '', true],
      ['1.1', 'Connection: close\r\n', false],
      ['1.1', 'Connection: Keep-Alive, CLOSE\r\n', false],
      ['1.1', 'Connection: foo\r\nConnection: close\r\n', false],
      ['1.1', 'Connection: closed\r\n', true],
      ['1.0', '', false],
      ['1.0', 'Connection: keep-alive\r\n', true],
      ['1.0', 'Connection: x, Keep-Alive\r\n', true],
      ['1.0', 'Connection: keep-alive, close\r\n', false],
    ];
    for (const [v, fields, keepAlive] of cases) {
      const { parser, events } = requestParser();
      parser.execute(b(`GET / HTTP/${v}\r\nHost: a\r\n${fields}\r\n`));
      assert.equal(head(events).keepAlive, keepAlive, `${v} ${fields}`);
      assert.equal(head(events).versionMinor, v === '1.1' ? 1 : 0);
    }
  });

  it('reports Expect: 100-continue on HTTP/1.1 only', () => {
    const one = requestParser();
    one.parser.execute(b('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n'));
    assert.equal(head(one.events).expectContinue, true);
    const ten = requestParser();
    ten.parser.execute(b('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n'));
    assert.equal(head(ten.events).expectContinue, false);
  });

  it('accepts HTTP/1.0 without Host and TE codings ending in chunked', () => {
    const ten = requestParser();
    ten.parser.execute(b('GET / HTTP/1.0\r\n\r\n'));
    assert.equal(errorOf(ten.events), undefined);
    const te = requestParser();
    te.parser.execute(b('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: ,Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
    assert.equal(head(te.events).chunked, true);
    assert.deepEqual(mergeBodies(te.events).slice(1), [{ type: 'body', data: 'abc' }, { type: 'complete', trailers: undefined }]);
  });

  it('gathers a large head that arrives in small pieces', () => {
    const fields = Array.from({ length: 60 }, (_, i) => `X-Field-${i}: ${'v'.repeat(90)}\r\n`).join('');
    const raw = b(`GET /big HTTP/1.1\r\nHost: a\r\n${fields}\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n`);
    const { parser, events } = requestParser();
    let consumed = 0;
    for (let i = 0; i < raw.length; i += 7) consumed += parser.execute(raw.subarray(i, i + 7));
    assert.equal(consumed, raw.length);
    assert.equal(errorOf(events), undefined);
    assert.equal((head(events).headers as string[]).length, 122);
    assert.equal(head(events, 1).target, '/after');
  });

  it('skips empty lines before a request line, also split between reads', () => {
    const { parser, events } = requestParser();
    assert.equal(parser.execute(b('\r\n\r\n')), 4);
    assert.equal(parser.execute(b('\r')), 1);
    assert.equal(parser.execute(b('\nGET / HTTP/1.1\r\nHost: a\r\n\r\n')), 28);
    assert.equal(head(events).target, '/');
    parser.finish();
    assert.equal(errorOf(events), undefined);
  });
});

describe('RequestParser bodies', () => {
  it('decodes chunked bodies with extensions and trailers', () => {
    const { parser, events } = requestParser();
    const raw = 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value;q="a \\"b\\"" ;flag\r\nhello\r\n' + 'A\r\n, world!!!\r\n' + '0\r\nX-Checksum: abc\r\nX-Other:  1 \r\n\r\n';
    assert.equal(parser.execute(b(raw)), raw.length);
    assert.deepEqual(mergeBodies(events).slice(1), [
      { type: 'body', data: 'hello, world!!!' },
      { type: 'complete', trailers: ['x-checksum', 'abc', 'x-other', '1'] },
    ]);
  });

  it('lends body bytes as subarrays of the input', () => {
    const raw = b('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    const chunks: Buffer[] = [];
    const parser = new RequestParser({ onHead() {}, onBody: (c) => chunks.push(c), onComplete() {}, onError(e) { throw e; } }, LIMITS);
    parser.execute(raw);
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]!.buffer, raw.buffer);
    assert.equal(chunks[0]!.byteOffset, raw.byteOffset + raw.length - 5);
  });

  it('handles a zero Content-Length and a large one spread over reads', () => {
    const { parser, events } = requestParser();
    parser.execute(b('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'));
    assert.deepEqual(events.map((e) => e.type), ['head', 'complete']);
    const big = requestParser();
    big.parser.execute(b('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n'));
    let total = 0;
    for (let i = 0; i < 10; i++) {
      assert.equal(big.parser.execute(Buffer.alloc(10000, 0x61)), 10000);
      total += 10000;
    }
    assert.equal(total, 100000);
    assert.equal(big.events.at(-1)?.type, 'complete');
  });
});

describe('RequestParser pipelining, pause and resume', () => {
  const two = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n' + 'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' +
    'PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n';

  it('reports several requests in one read, in order', () => {
    const { parser, events } = requestParser();
    assert.equal(parser.execute(b(two)), two.length);
    assert.deepEqual(mergeBodies(events).map((e) => (e.type === 'head' ? e.head.target : e.type === 'body' ? e.data : e.type)), [
      '/1', 'complete', '/2', 'abc', 'complete', '/3', 'z', 'complete',
    ]);
  });

  it('stops after the current message when paused, and continues where the caller re-feeds', () => {
    let parserRef: { pause(): void } | undefined;
    const { parser, events } = requestParser(undefined, () => parserRef!.pause());
    parserRef = parser;
    const input = b(two);
    const n1 = parser.execute(input);
    assert.equal(n1, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n'.length);
    assert.deepEqual(events.map((e) => e.type), ['head', 'complete']);
    assert.equal(parser.paused, true);
    // Still paused: nothing consumed.
    assert.equal(parser.execute(input.subarray(n1)), 0);
    parser.resume();
    const n2 = parser.execute(input.subarray(n1));
    // The body of the paused message is still delivered before execute() returns.
    assert.equal(input.subarray(n1, n1 + n2).toString(), 'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc');
    assert.deepEqual(mergeBodies(events).slice(2).map((e) => e.type), ['head', 'body', 'complete']);
    parser.resume();
    assert.equal(parser.execute(input.subarray(n1 + n2)), input.length - n1 - n2);
    assert.equal(events.filter((e) => e.type === 'complete').length, 3);
  });

  it('pauses with the next request only partly received', () => {
    let parserRef: { pause(): void } | undefined;
    const { parser, events } = requestParser(undefined, () => parserRef!.pause());
    parserRef = parser;
    const first = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n';
    assert.equal(parser.execute(b(first + 'GET /2 HT')), first.length);
    parser.resume();
    assert.equal(parser.execute(b('GET /2 HT')), 9);
    assert.equal(parser.execute(b('TP/1.1\r\nHost: a\r\n\r\n')), 19);
    assert.equal(head(events, 1).target, '/2');
  });

  it('consumes nothing after a request that closes the connection', () => {
    const { parser, events } = requestParser();
    const first = 'GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    assert.equal(parser.execute(b(first + 'GET /2 HTTP/1.1\r\nHost: a\r\n\r\n')), first.length);
    assert.equal(events.filter((e) => e.type === 'head').length, 1);
    const ten = requestParser();
    assert.equal(ten.parser.execute(b('GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n')), 18);
  });
});

describe('RequestParser tunnels', () => {
  it('stops after an Upgrade request and hands over the remaining bytes', () => {
    const { parser, events } = requestParser();
    const headText = 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const frame = '\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58';
    assert.equal(parser.execute(b(headText + frame)), headText.length);
    assert.equal(head(events).upgrade, 'websocket');
    assert.deepEqual(events.map((e) => e.type), ['head', 'complete']);
    assert.equal(parser.paused, true);
    assert.equal(parser.execute(b(frame)), 0);
  });

  it('reads the body of an Upgrade request before stopping, and goes on as HTTP when resumed', () => {
    const { parser, events } = requestParser();
    const req = 'POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 4\r\n\r\nbody';
    const next = 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n';
    assert.equal(parser.execute(b(req + next)), req.length);
    assert.equal(head(events).upgrade, 'h2c');
    parser.resume(); // the upgrade was declined
    assert.equal(parser.execute(b(next)), next.length);
    assert.equal(head(events, 1).target, '/next');
  });

  it('ignores Upgrade without the Connection token, and in HTTP/1.0', () => {
    for (const raw of ['GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n', 'GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n']) {
      const { parser, events } = requestParser();
      const more = 'GET /2 HTTP/1.0\r\n\r\n';
      assert.equal(parser.execute(b(raw + more)), raw.length + (raw.includes('1.0') ? 0 : more.length));
      assert.equal(head(events).upgrade, undefined);
      assert.equal(parser.paused, false);
    }
  });

  it('stops right after a CONNECT head: the rest is the tunnel', () => {
    const { parser, events } = requestParser();
    const headText = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';
    const hello = '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03';
    assert.equal(parser.execute(b(headText + hello)), headText.length);
    assert.equal(head(events).method, 'CONNECT');
    assert.equal(head(events).target, 'example.com:443');
    assert.deepEqual(events.map((e) => e.type), ['head', 'complete']);
    assert.equal(parser.execute(b(hello)), 0);
  });
});

describe('RequestParser end of input', () => {
  it('finish() between messages is quiet; in a head or body it is H1_EOF', () => {
    const idle = requestParser();
    idle.parser.execute(b('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    idle.parser.finish();
    assert.equal(errorOf(idle.events), undefined);
    for (const partial of ['G', 'GET / HTTP/1.1\r\nHost: a\r\n', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n']) {
      const { parser, events } = requestParser();
      parser.execute(b(partial));
      parser.finish();
      assert.deepEqual(errorOf(events), { code: 'H1_EOF', status: 400 }, partial);
    }
  });

  it('reset() makes a failed parser usable again', () => {
    const { parser, events } = requestParser();
    parser.execute(b('BAD\r\n\r\n'));
    assert.ok(errorOf(events));
    parser.reset();
    parser.execute(b('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n'));
    assert.equal(head(events, 0).target, '/ok');
    assert.equal(events.at(-1)?.type, 'complete');
  });
});
