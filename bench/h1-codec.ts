/**
 * Micro-benchmark of the HTTP/1.1 codec (src/proxy/http/h1): parsed requests per second for a
 * typical ~200-byte request, one request per execute() as they arrive on a keep-alive
 * connection, plus pipelined, a chunked response, and head serialization. For scale it also
 * runs Node's own llhttp binding on the same input. Prints numbers; never fails on time.
 *
 *   npx tsx bench/h1-codec.ts [seconds-per-case]   (best of 5 rounds is printed)
 */
import { createRequire } from 'node:module';
import { HeaderMap } from '../src/proxy/http/headers.js';
import { RequestParser, ResponseParser, type RequestHead, type ResponseHead } from '../src/proxy/http/h1/parser.js';
import { serializeResponseHead } from '../src/proxy/http/h1/serialize.js';
import { bestSyncRate, report } from './lib/best-rate.js';

const seconds = Number(process.argv[2] ?? '3');

const REQUEST = Buffer.from(
  'GET /api/v1/users/12345?include=profile HTTP/1.1\r\n' +
  'Host: users.default.svc.cluster.local\r\n' +
  'User-Agent: wrk/4.2.0\r\n' +
  'Accept: application/json\r\n' +
  'Accept-Encoding: gzip, deflate\r\n' +
  'X-Request-Id: 3f2a9c1e-8b7d-4e6f\r\n' +
  '\r\n',
  'latin1',
);
const PIPELINED = Buffer.concat(Array.from({ length: 16 }, () => REQUEST));
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n' +
  '40\r\n' + 'x'.repeat(64) + '\r\n40\r\n' + 'y'.repeat(64) + '\r\n0\r\n\r\n',
  'latin1',
);

let sink = 0;
const limits = { maxHeaderBytes: 60 * 1024, maxHeaderCount: 100 };
const reqParser = new RequestParser({
  onHead(h: RequestHead) { sink += h.headers.size; },
  onBody(b: Buffer) { sink += b.length; },
  onComplete() { sink++; },
  onError(e) { throw e; },
}, limits);
const resParser = new ResponseParser({
  onHead(h: ResponseHead) { sink += h.status; },
  onBody(b: Buffer) { sink += b.length; },
  onComplete() { sink++; },
  onError(e) { throw e; },
}, limits);

/** Messages per second of `fn` (which handles `per` messages): the best of 5 rounds. */
const measure = (per: number, fn: () => void): Promise<number> => bestSyncRate(seconds, per, fn);

console.log(`request: ${REQUEST.length} bytes, ${seconds}s per case, node ${process.version}`);
report('tsmesh request, one per execute()', await measure(1, () => { reqParser.execute(REQUEST); }));
report('tsmesh request, 16 pipelined per execute()', await measure(16, () => { reqParser.execute(PIPELINED); }));
report('tsmesh chunked response (2 chunks)', await measure(1, () => { resParser.expectResponseTo('GET'); resParser.execute(RESPONSE); }));
const headers = new HeaderMap(['content-type', 'application/json', 'content-length', '128', 'date', 'Mon, 01 Jan 2024 00:00:00 GMT', 'x-envoy-upstream-service-time', '3']);
report('tsmesh serializeResponseHead', await measure(1, () => { sink += serializeResponseHead(200, undefined, headers).length; }));

// Node's llhttp, for scale (an internal module: skipped if it is not there).
interface LlhttpParser {
  initialize(type: number, resource: object): void;
  execute(data: Buffer): number | Error;
  [key: number]: unknown;
}
interface LlhttpCtor { new (): LlhttpParser; REQUEST: number; kOnHeadersComplete: number; kOnMessageComplete: number }
try {
  const mod: unknown = createRequire(import.meta.url)('_http_common');
  const HTTPParser = (mod as { HTTPParser: LlhttpCtor }).HTTPParser;
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {});
  p[HTTPParser.kOnHeadersComplete] = (_vM: number, _vm: number, hdrs: string[]) => { sink += hdrs.length; return 0; };
  p[HTTPParser.kOnMessageComplete] = () => { sink++; };
  report('node llhttp request, one per execute()', await measure(1, () => { p.execute(REQUEST); }));
} catch (e) {
  console.log(`node llhttp: skipped (${(e as Error).message})`);
}
if (sink === 42) console.log('');
