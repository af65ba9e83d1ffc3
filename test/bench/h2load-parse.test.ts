import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseH2loadSummary, parseH2loadLog, H2loadParseError } from '../../bench/lib/h2load.js';

// Real h2load 1.52.0 output (h2c, -c32 -m10 -D3), tail.
const SUMMARY = `Application protocol: h2c
Main benchmark duration is over for thread #0. Stopping all clients.

finished in 3.01s, 41464.67 req/s, 3.12MB/s
requests: 124394 total, 124714 started, 124394 done, 124394 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 124394 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 9.37MB (9828694) total, 5.81MB (6095306) headers (space savings 50.51%), 1.42MB (1492728) data
`;

test('h2load summary', () => {
  assert.deepEqual(parseH2loadSummary(SUMMARY), {
    requestsPerSecond: 41464.67, total: 124394, done: 124394, succeeded: 124394, failed: 0, errored: 0, timeout: 0, status2xx: 124394, protocol: 'h2c',
  });
  assert.throws(() => parseH2loadSummary('connect: Connection refused\n'), H2loadParseError);
});

test('h2load per-request log: 2xx times kept, the rest counted', () => {
  const log = parseH2loadLog('1795748884793846\t200\t488\n1795748884793856\t503\t120\n1795748884793863\t-1\t0\n1795748884793870\t200\t501\n');
  assert.deepEqual(log, { okMicros: [488, 501], notOk: 2 });
  assert.throws(() => parseH2loadLog('garbage\n'), H2loadParseError);
});
