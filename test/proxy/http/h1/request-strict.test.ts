import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorOf, requestParser } from './harness.js';

const H = 'Host: a\r\n';

/** [name, raw request, expected code, expected status]. Each must fail, and fail this way. */
const BAD: [string, string, string, number][] = [
  // request line
  ['lower-case version', `GET / http/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['no version', `GET /\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['no target', `GET\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['trailing space after version', `GET / HTTP/1.1 \r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['leading space', ` GET / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['two spaces before target', `GET  / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET', 400],
  ['two spaces before version', `GET /  HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['space inside target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['tab as separator', `GET\t/ HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD', 400],
  ['method with (', `GE(T / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD', 400],
  ['method with 8-bit byte', `G\xffT / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD', 400],
  ['method with NUL', `G\x00T / HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_METHOD', 400],
  ['target with control char', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET', 400],
  ['target with DEL', `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET', 400],
  ['target with tab', `GET /a\tb HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET', 400],
  ['target with NUL', `GET /\x00 HTTP/1.1\r\n${H}\r\n`, 'H1_BAD_TARGET', 400],
  ['bare LF ends request line', `GET / HTTP/1.1\n${H}\r\n`, 'H1_BARE_LF', 400],
  ['bare CR ends request line', `GET / HTTP/1.1\r${H}\r\n`, 'H1_BARE_CR', 400],
  ['HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`, 'H1_BAD_VERSION', 505],
  ['HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`, 'H1_BAD_VERSION', 505],
  ['HTTP/0.9', `GET / HTTP/0.9\r\n${H}\r\n`, 'H1_BAD_VERSION', 505],
  ['HTTP/1.10', `GET / HTTP/1.10\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['HTTP/1.x', `GET / HTTP/1.x\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  ['HTTPS/1.1', `GET / HTTPS/1.1\r\n${H}\r\n`, 'H1_BAD_REQUEST_LINE', 400],
  // field lines
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'H1_BAD_HEADER_NAME', 400],
  ['tab before colon', `GET / HTTP/1.1\r\n${H}X\t: a\r\n\r\n`, 'H1_BAD_HEADER_NAME', 400],
  ['empty name', `GET / HTTP/1.1\r\n${H}: a\r\n\r\n`, 'H1_BAD_HEADER_NAME', 400],
  ['name with (', `GET / HTTP/1.1\r\n${H}X(a): b\r\n\r\n`, 'H1_BAD_HEADER_NAME', 400],
  ['name with 8-bit byte', `GET / HTTP/1.1\r\n${H}X-\xc4: b\r\n\r\n`, 'H1_BAD_HEADER_NAME', 400],
  ['line without colon', `GET / HTTP/1.1\r\n${H}Foo\r\n\r\n`, 'H1_BAD_HEADER_NAME', 400],
  ['value with NUL', `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`, 'H1_BAD_HEADER_VALUE', 400],
  ['value with \\x01', `GET / HTTP/1.1\r\n${H}X: a\x01b\r\n\r\n`, 'H1_BAD_HEADER_VALUE', 400],
  ['value with \\x1f', `GET / HTTP/1.1\r\n${H}X: \x1f\r\n\r\n`, 'H1_BAD_HEADER_VALUE', 400],
  ['value with DEL', `GET / HTTP/1.1\r\n${H}X: a\x7f\r\n\r\n`, 'H1_BAD_HEADER_VALUE', 400],
  ['value with bare CR', `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, 'H1_BARE_CR', 400],
  ['value with bare LF', `GET / HTTP/1.1\r\n${H}X: a\nb: c\r\n\r\n`, 'H1_BARE_LF', 400],
  ['field line ends in bare LF', `GET / HTTP/1.1\r\nX: a\n${H}\r\n`, 'H1_BARE_LF', 400],
  ['line starting with CR', `GET / HTTP/1.1\r\n${H}\rX: a\r\n\r\n`, 'H1_BARE_CR', 400],
  ['line starting with LF', `GET / HTTP/1.1\r\n${H}\nX: a\r\n\r\n`, 'H1_BARE_LF', 400],
  ['obs-fold with SP', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, 'H1_OBS_FOLD', 400],
  ['obs-fold with HTAB', `GET / HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n`, 'H1_OBS_FOLD', 400],
  ['whitespace before first field', `GET / HTTP/1.1\r\n ${H}\r\n`, 'H1_OBS_FOLD', 400],
  // framing
  ['Content-Length and Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, 'H1_CL_AND_TE', 400],
  ['Transfer-Encoding and Content-Length', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`, 'H1_CL_AND_TE', 400],
  ['two different Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, 'H1_MULTIPLE_CONTENT_LENGTH', 400],
  ['Content-Length list that differs', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\n`, 'H1_MULTIPLE_CONTENT_LENGTH', 400],
  ['Content-Length list then other header', `POST / HTTP/1.1\r\n${H}Content-Length: 5,5\r\nContent-Length: 6\r\n\r\n`, 'H1_MULTIPLE_CONTENT_LENGTH', 400],
  ['Content-Length -1', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length +5', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length 5a', `POST / HTTP/1.1\r\n${H}Content-Length: 5a\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length 0x5', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length 1e3', `POST / HTTP/1.1\r\n${H}Content-Length: 1e3\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length "5 5"', `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length empty', `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length trailing comma', `POST / HTTP/1.1\r\n${H}Content-Length: 5,\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length overflow', `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['Content-Length 2^53', `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, 'H1_BAD_CONTENT_LENGTH', 400],
  ['TE gzip only', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING', 400],
  ['TE chunked not last', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING', 400],
  ['TE chunked twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING', 400],
  ['TE chunked twice in two fields', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING', 400],
  ['TE with parameter', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING', 400],
  ['TE empty', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n`, 'H1_BAD_TRANSFER_ENCODING', 400],
  ['TE unknown coding', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: foo, chunked\r\n\r\n`, 'H1_UNSUPPORTED_TRANSFER_ENCODING', 501],
  ['TE xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, 'H1_UNSUPPORTED_TRANSFER_ENCODING', 501],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'H1_BAD_TRANSFER_ENCODING', 400],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 'H1_MISSING_HOST', 400],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n', 'H1_MULTIPLE_HOST', 400],
  ['two Host fields in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n', 'H1_MULTIPLE_HOST', 400],
  ['CONNECT with a body', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 5\r\n\r\nhello', 'H1_CONNECT_BODY', 400],
  // chunked bodies
  ['chunk size not hex', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\ng\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size empty', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size negative', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size 0x prefix', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size 17 hex digits', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n00000000000000005\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size overflows', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size then space', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size then bare LF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk size then bare CR', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk extension with control char', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\x01\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk extension with bare LF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk extension with empty name', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk extension with empty value', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk extension unterminated quote', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk extension too long', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=${'b'.repeat(5000)}\r\nhello\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk data longer than size', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk data then bare LF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`, 'H1_BAD_CHUNK', 400],
  ['chunk data then CR only', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r0\r\n\r\n`, 'H1_BAD_CHUNK', 400],
  ['trailer with obs-fold', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n`, 'H1_OBS_FOLD', 400],
  ['trailer with bare CR', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\rb\r\n\r\n`, 'H1_BARE_CR', 400],
  ['trailer with bad name', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX Y: a\r\n\r\n`, 'H1_BAD_HEADER_NAME', 400],
];

describe('RequestParser rejects', () => {
  for (const [name, raw, code, status] of BAD) {
    it(`${name} -> ${code} ${status}`, () => {
      const input = Buffer.from(raw, 'latin1');
      const { parser, events } = requestParser();
      parser.execute(input);
      assert.deepEqual(errorOf(events), { code, status }, JSON.stringify(events));
      // The same fault whatever the reads: byte by byte gives the same error.
      const byByte = requestParser();
      for (let i = 0; i < input.length; i++) byByte.parser.execute(input.subarray(i, i + 1));
      assert.deepEqual(errorOf(byByte.events), { code, status });
      // After an error the parser takes nothing more.
      const before = events.length;
      assert.equal(parser.execute(Buffer.from(`GET / HTTP/1.1\r\n${H}\r\n`)), 0);
      assert.equal(events.length, before);
    });
  }
});

describe('RequestParser size limits', () => {
  const limits = { maxHeaderBytes: 256, maxHeaderCount: 5 };
  const headOf = (size: number): string => {
    const base = `GET / HTTP/1.1\r\n${H}X: \r\n\r\n`;
    return `GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(size - base.length)}\r\n\r\n`;
  };

  it('accepts a head of exactly maxHeaderBytes, in one read or byte by byte', () => {
    const raw = Buffer.from(headOf(256));
    assert.equal(raw.length, 256);
    const one = requestParser(limits);
    assert.equal(one.parser.execute(raw), 256);
    assert.equal(errorOf(one.events), undefined);
    const byByte = requestParser(limits);
    for (let i = 0; i < raw.length; i++) byByte.parser.execute(raw.subarray(i, i + 1));
    assert.deepEqual(byByte.events, one.events);
  });

  it('rejects a head one byte over with 431', () => {
    const { parser, events } = requestParser(limits);
    parser.execute(Buffer.from(headOf(257)));
    assert.deepEqual(errorOf(events), { code: 'H1_HEADERS_TOO_LARGE', status: 431 });
  });

  it('rejects an unfinished head as soon as it is over the limit, without buffering more', () => {
    const { parser, events } = requestParser(limits);
    const chunk = Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}`);
    parser.execute(chunk);
    assert.equal(errorOf(events), undefined);
    parser.execute(Buffer.from('b'.repeat(100)));
    assert.equal(errorOf(events), undefined);
    parser.execute(Buffer.from('c'.repeat(100)));
    assert.deepEqual(errorOf(events), { code: 'H1_HEADERS_TOO_LARGE', status: 431 });
  });

  it('rejects an unfinished head larger than the limit in a single read', () => {
    const { parser, events } = requestParser(limits);
    parser.execute(Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(1000)}`));
    assert.deepEqual(errorOf(events), { code: 'H1_HEADERS_TOO_LARGE', status: 431 });
  });

  it('allows maxHeaderCount fields and rejects one more with 431', () => {
    const fields = (n: number): string => H + Array.from({ length: n - 1 }, (_, i) => `X-${i}: v\r\n`).join('');
    const ok = requestParser(limits);
    ok.parser.execute(Buffer.from(`GET / HTTP/1.1\r\n${fields(5)}\r\n`));
    assert.equal(errorOf(ok.events), undefined);
    const bad = requestParser(limits);
    bad.parser.execute(Buffer.from(`GET / HTTP/1.1\r\n${fields(6)}\r\n`));
    assert.deepEqual(errorOf(bad.events), { code: 'H1_TOO_MANY_HEADERS', status: 431 });
  });

  it('applies the limits to trailer sections', () => {
    const big = requestParser(limits);
    big.parser.execute(Buffer.from(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX: ${'a'.repeat(300)}\r\n\r\n`));
    assert.deepEqual(errorOf(big.events), { code: 'H1_HEADERS_TOO_LARGE', status: 431 });
    const many = requestParser(limits);
    many.parser.execute(Buffer.from(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n${'T: 1\r\n'.repeat(6)}\r\n`));
    assert.deepEqual(errorOf(many.events), { code: 'H1_TOO_MANY_HEADERS', status: 431 });
  });

  it('refuses nonsensical limits', () => {
    assert.throws(() => requestParser({ maxHeaderBytes: 0, maxHeaderCount: 100 }), RangeError);
    assert.throws(() => requestParser({ maxHeaderBytes: 8192, maxHeaderCount: Number.NaN }), RangeError);
  });
});
