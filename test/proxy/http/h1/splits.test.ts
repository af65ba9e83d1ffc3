import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { feed, mergeBodies, prng, requestParser, responseParser, type ParseEvent } from './harness.js';

/*
 * Whatever the reads look like, the parsers must report the same thing: every split point,
 * byte by byte, and random splits, against the result of one read.
 */

const REQUESTS = Buffer.from(
  'POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\nTransfer-Encoding: chunked\r\nX-Pad:  v \r\n\r\n' +
  '7;ext=1;q="x \\"y\\""\r\nchunk-1\r\n' + '1a\r\nabcdefghijklmnopqrstuvwxyz\r\n' + '0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n' +
  'GET /next HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nbody' +
  '\r\n' + // an empty line between requests is allowed
  'PUT /empty-trailers HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
  'DELETE /x HTTP/1.1\r\nHost: e\r\n\r\n',
  'latin1',
);

const RESPONSES = Buffer.from(
  'HTTP/1.1 100 Continue\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nGrpc-Status: 0\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n' + // HEAD: no body
  'HTTP/1.1 204 No Content\r\n\r\n' +
  'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' +
  'HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc' +
  'HTTP/1.1 200 OK\r\nX-Close: yes\r\n\r\nuntil the end',
  'latin1',
);
const RESPONSE_METHODS = ['POST', 'HEAD', 'GET', 'GET', 'PUT', 'GET'];

function parseRequests(cuts: number[]): { events: ParseEvent[]; consumed: number } {
  const { parser, events } = requestParser();
  const consumed = feed(parser, REQUESTS, cuts);
  parser.finish();
  return { events: mergeBodies(events), consumed };
}

function parseResponses(cuts: number[]): { events: ParseEvent[]; consumed: number } {
  const { parser, events } = responseParser();
  for (const m of RESPONSE_METHODS) parser.expectResponseTo(m);
  const consumed = feed(parser, RESPONSES, cuts);
  parser.finish();
  return { events: mergeBodies(events), consumed };
}

function randomCuts(rand: () => number, len: number): number[] {
  const n = 1 + Math.floor(rand() * 24);
  return Array.from({ length: n }, () => Math.floor(rand() * (len + 1))).sort((x, y) => x - y);
}

for (const [name, input, parse] of [['requests', REQUESTS, parseRequests], ['responses', RESPONSES, parseResponses]] as const) {
  describe(`split ${name}`, () => {
    const reference = parse([]);

    it('parses the whole stream in one read', () => {
      assert.equal(reference.consumed, input.length);
      assert.ok(!reference.events.some((e) => e.type === 'error'), JSON.stringify(reference.events));
      assert.ok(reference.events.filter((e) => e.type === 'complete').length >= 4);
    });

    it('gives the same events for every single split point', () => {
      for (let k = 0; k <= input.length; k++) {
        const got = parse([k]);
        assert.deepEqual(got.events, reference.events, `split at ${k}`);
        assert.equal(got.consumed, input.length);
      }
    });

    it('gives the same events byte by byte', () => {
      const got = parse(Array.from({ length: input.length }, (_, i) => i));
      assert.deepEqual(got.events, reference.events);
    });

    it('gives the same events for 1000 random splits', () => {
      const rand = prng(name.length * 7919);
      for (let round = 0; round < 1000; round++) {
        const cuts = randomCuts(rand, input.length);
        assert.deepEqual(parse(cuts).events, reference.events, `cuts ${cuts.join(',')}`);
      }
    });
  });
}

describe('split requests with a caller that pauses per request', () => {
  /** Feeds like a connection: pause in onHead, hold unconsumed bytes, resume when the message completes. */
  function run(cuts: number[]): ParseEvent[] {
    let done = false;
    let parserRef: { pause(): void } | undefined;
    const { parser, events } = requestParser(undefined, () => parserRef!.pause());
    parserRef = parser;
    let held = Buffer.alloc(0);
    let prev = 0;
    for (const cut of [...cuts, REQUESTS.length]) {
      held = Buffer.concat([held, REQUESTS.subarray(prev, Math.max(prev, cut))]);
      prev = Math.max(prev, cut);
      for (;;) {
        const before = events.filter((e) => e.type === 'complete').length;
        const n = parser.execute(held);
        held = held.subarray(n);
        done = events.filter((e) => e.type === 'complete').length > before;
        if (parser.paused && done) {
          parser.resume(); // the response went out
          if (held.length > 0) continue;
        }
        break;
      }
    }
    assert.equal(held.length, 0);
    return mergeBodies(events);
  }

  it('handles one request at a time under random splits', () => {
    const reference = mergeBodies(parseRequests([]).events);
    assert.deepEqual(run([]), reference);
    const rand = prng(12345);
    for (let round = 0; round < 300; round++) {
      const cuts = randomCuts(rand, REQUESTS.length);
      assert.deepEqual(run(cuts), reference, `cuts ${cuts.join(',')}`);
    }
  });
});
