import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import type { AccessLogContext } from '../../../src/proxy/admin/access-log/context.js';
import { DEFAULT_FORMAT, compileTextFormat } from '../../../src/proxy/admin/access-log/format.js';
import { LineEncoder } from '../../../src/proxy/admin/access-log/line-encoder.js';
import { compileStartTime } from '../../../src/proxy/admin/access-log/start-time.js';
import { ISTIO_TEXT_FORMAT } from '../../../src/control/translate/access-log-formats.js';

// Text formats write their lines as bytes (LineEncoder) instead of building a string: the bytes
// must be exactly the UTF-8 of the string the same format produces.

const encoded = (f: (e: LineEncoder) => void, size = 16): Buffer => {
  const e = new LineEncoder(Buffer.alloc(size));
  f(e);
  return Buffer.from(e.line());
};

test('LineEncoder.text: the bytes Buffer.from(s, "utf8") has, for every kind of string', () => {
  const table = [
    '', 'plain ascii', 'latin1 é ÿ \u0080', 'two-byte ✓ €', 'emoji 😀 pair', 'lone high \ud800 x', 'lone low \udc00', 'high at end \ud83d',
    'x'.repeat(64), 'y'.repeat(65), `long ${'ü'.repeat(300)}`, `${'a'.repeat(70)}😀`, '\u0000\u007f\u07ff\u0800\uffff',
  ];
  for (const s of table) {
    assert.deepEqual(encoded((e) => e.text(s)), Buffer.from(s, 'utf8'), JSON.stringify(s));
    // Several pieces in one line, growing past the buffer it started in.
    assert.deepEqual(encoded((e) => { e.text('['); e.text(s); e.text(s); e.text(']'); }, 4), Buffer.from(`[${s}${s}]`, 'utf8'), JSON.stringify(s));
  }
});

test('LineEncoder.number: as String(n) prints it', () => {
  for (const n of [0, 1, 9, 10, 99, 100, 12345, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -1, -0, 1.5, 0.1, 1e21, Number.NaN, Infinity]) {
    assert.equal(encoded((e) => e.number(n)).toString('utf8'), String(n), String(n));
  }
});

test('a line that outgrows its buffer moves to a new one, whole', () => {
  const start = Buffer.from('previous line\n');
  const buf = Buffer.alloc(20);
  start.copy(buf);
  const e = new LineEncoder();
  e.begin(buf, start.length);
  e.text('a line much longer than the room left');
  assert.notEqual(e.buf, buf);
  assert.equal(e.start, 0);
  assert.equal(e.line().toString(), 'a line much longer than the room left');
  assert.equal(buf.subarray(0, start.length).toString(), 'previous line\n');
});

const base: AccessLogContext = {
  startTimeMs: Date.UTC(2026, 10, 27, 13, 17, 19, 5),
  request: { method: 'GET', path: '/p', authority: 'svc', scheme: 'http', headers: new HeaderMap(['user-agent', 'wrk', 'x-request-id', '2dbb3a93-7642-40d5-a17a-a435b06a1a35']) },
  responseHeaders: new HeaderMap(['x-envoy-upstream-service-time', '3']),
  protocol: 'HTTP/1.1', responseCode: 200, responseCodeDetails: 'via_upstream', responseFlags: 0, bytesReceived: 0, bytesSent: 12, durationMs: 1.7,
  upstreamHost: { address: '10.0.0.2', port: 8080 }, upstreamCluster: 'app', downstreamRemoteAddress: { address: '::1', port: 40000 },
  downstreamLocalAddress: { address: '127.0.0.1', port: 15006 }, routeName: 'default',
};

test('text formats: encode writes exactly the UTF-8 of the formatted line', () => {
  const contexts: AccessLogContext[] = [
    base,
    { startTimeMs: 0, responseFlags: 0, bytesReceived: 0, bytesSent: 0 },
    { ...base, request: { ...base.request!, path: `/ü/${'€'.repeat(40)}/😀`, headers: new HeaderMap(['user-agent', `agent \ud800 ${'z'.repeat(100)}`]) }, responseFlags: 0x41, durationMs: 12345.9 },
    // Addresses are encoded without a string: IPv4 after IPv6 and back, port 0, a new host each time.
    { ...base, downstreamRemoteAddress: { address: '10.1.2.3', port: 1 }, upstreamHost: { address: 'fe80::1', port: 0 }, downstreamLocalAddress: undefined },
    { ...base, downstreamRemoteAddress: { address: '10.1.2.3', port: 65535 }, upstreamHost: { address: '10.0.0.9', port: 8080 } },
    // Each address op remembers whether the last address it printed was IPv6: the same address
    // again, the same port at another address, an IPv6 one after it, and the first one back.
    { ...base, downstreamRemoteAddress: { address: '10.1.2.3', port: 65535 }, upstreamHost: { address: '10.0.0.9', port: 8080 } },
    { ...base, downstreamRemoteAddress: { address: '10.1.2.4', port: 65535 }, upstreamHost: { address: '10.0.0.9', port: 8081 } },
    { ...base, downstreamRemoteAddress: { address: '2001:db8::4', port: 65535 }, upstreamHost: { address: '10.0.0.9', port: 8081 } },
    base,
  ];
  // Every operator the encoder reads itself (text-encoder.ts), beside ones it leaves to their extractor.
  const ops = '%REQ(:SCHEME)% %REQ(:NOPE)% %REQ(X-MISSING?USER-AGENT)% %REQ(X-MISSING?:AUTHORITY)% %REQUEST_HEADER(User-Agent)% '
    + '%RESP(X-MISSING?X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESPONSE_HEADER(x-envoy-upstream-service-time)% %RESP(:STATUS)% %RESP(X-A?:STATUS)% '
    + '%UPSTREAM_REMOTE_ADDRESS% %UPSTREAM_LOCAL_ADDRESS% %UPSTREAM_CLUSTER% %UPSTREAM_TRANSPORT_FAILURE_REASON% %REQUESTED_SERVER_NAME% '
    + '%CONNECTION_TERMINATION_DETAILS%%CONNECTION_TERMINATION_DETAILS% %HOSTNAME% %RESPONSE_FLAGS_LONG% %UPSTREAM_REQUEST_ATTEMPT_COUNT% '
    + '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %REQ(USER-AGENT):2% %START_TIME%';
  contexts.push(
    // Empty strings are unknown for some fields and printed as they are for others.
    { ...base, protocol: '', responseCodeDetails: '', upstreamCluster: '', routeName: '', requestedServerName: '', upstreamTransportFailureReason: '', request: { method: '', path: '', authority: '', scheme: '', headers: new HeaderMap(['user-agent', '']) }, responseHeaders: new HeaderMap([]) },
    { ...base, requestedServerName: 'sni.example', upstreamTransportFailureReason: 'tls ü', upstreamLocalAddress: { address: '::ffff:10.0.0.1', port: 5 }, responseHeaders: new HeaderMap(['x-a', 'first', 'x-envoy-upstream-service-time', '7']), responseCode: 503, startTimeMs: Date.UTC(1969, 11, 31, 23, 59, 59, 1) + 0.5 },
    { ...base, startTimeMs: Date.UTC(2026, 0, 1, 0, 0, 0, 99), durationMs: 0.2, responseCode: undefined, responseFlags: 0x3 },
    // Built in plain JavaScript without the byte counts its type requires: unknown, as the formatter prints them.
    { startTimeMs: 5, responseFlags: 0 } as unknown as AccessLogContext,
  );
  for (const format of [ISTIO_TEXT_FORMAT, DEFAULT_FORMAT, '%START_TIME(%s.%3f)% %REQ(:PATH):3% %%literal ü%% %DURATION%\n', '%START_TIME% %DOWNSTREAM_REMOTE_ADDRESS% %START_TIME%', ops, `€${ops}€`]) {
    for (const omitEmptyValues of [false, true]) {
      const f = compileTextFormat(format, 'x', { omitEmptyValues });
      assert.ok(f.encode);
      for (const ctx of contexts) assert.deepEqual(encoded((e) => f.encode!(ctx, e)), Buffer.from(f(ctx), 'utf8'));
    }
  }
});

test('text formats compile to code that holds nothing of the format: quotes, backslashes and template syntax are only data', () => {
  const literal = "'\"`${process.exit(7)}\\\\\n*/}); throw new Error('x'); //";
  // A header name is a token: of the characters that mean something in JavaScript it may hold these.
  const name = "it's`$a|b!#";
  const ctx: AccessLogContext = { ...base, request: { ...base.request!, headers: new HeaderMap([`x-${name.toLowerCase()}`, 'found', 'user-agent', literal]) } };
  // The literal text is longer than the few bytes written as constants, so it also goes through the copied-literal path.
  for (const format of [`${literal} %REQ(X-${name})% %REQ(USER-AGENT)% ${literal.slice(0, 5)}\n`, `%RESP(${name}?X-ENVOY-UPSTREAM-SERVICE-TIME)%`]) {
    const f = compileTextFormat(format, 'x');
    assert.deepEqual(encoded((e) => f.encode!(ctx, e)), Buffer.from(f(ctx), 'utf8'));
  }
  assert.equal(encoded((e) => compileTextFormat(`%REQ(X-${name})%`, 'x').encode!(ctx, e)).toString(), 'found');
});

test('default START_TIME, cached by the second, is toISOString in every millisecond', () => {
  const f = compileStartTime('', 'x');
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 58, 990);
  // Out of order, across second (and minute) boundaries, as lines finish under load.
  const times = [0, 5, 1, 12, 9, 10, 11, 1009, 1010, 999, 2010, 2011, 50, 1500.75, 123456].map((d) => t0 + d);
  for (const ms of times) assert.equal(f(ms), new Date(ms).toISOString(), String(ms));
  assert.equal(f(0), '1970-01-01T00:00:00.000Z');
  assert.equal(f(Date.UTC(10000, 0, 1, 0, 0, 0, 7)), '+010000-01-01T00:00:00.007Z');
});
