import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk, parseWrkDurationMs, wrkErrorCount, WrkParseError } from '../../bench/lib/wrk.js';

// Real wrk 4.1.0 output (Debian), trimmed of nothing.
const CLEAN = `Running 3s test @ http://127.0.0.1:18080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   838.56us    1.78ms  19.48ms   92.03%
    Req/Sec    59.48k    25.55k  111.77k    66.67%
  Latency Distribution
     50%  290.00us
     75%  484.00us
     90%    1.93ms
     99%    9.81ms
  177938 requests in 3.02s, 27.15MB read
Requests/sec:  58848.74
Transfer/sec:      8.98MB
`;

const WITH_ERRORS = `Running 5s test @ http://127.0.0.1:18086/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20s   400.00ms   2.00s    70.00%
    Req/Sec     1.00k   100.00      1.20k    80.00%
  Latency Distribution
     50%    1.10s
     75%    1.50s
     90%    1.90s
     99%    2.00s
  5012 requests in 5.10s, 0.98MB read
  Socket errors: connect 3, read 7, write 1, timeout 40
  Non-2xx or 3xx responses: 12
Requests/sec:    982.75
Transfer/sec:    196.55KB
`;

test('parses requests, rate and the latency distribution in milliseconds', () => {
  const r = parseWrk(CLEAN);
  assert.equal(r.requests, 177938);
  assert.equal(r.durationSeconds, 3.02);
  assert.equal(r.requestsPerSecond, 58848.74);
  assert.deepEqual([...r.latencyMs], [[50, 0.29], [75, 0.484], [90, 1.93], [99, 9.81]]);
  assert.equal(wrkErrorCount(r), 0);
});

test('parses socket errors and non-2xx responses; seconds become milliseconds', () => {
  const r = parseWrk(WITH_ERRORS);
  assert.deepEqual(r.socketErrors, { connect: 3, read: 7, write: 1, timeout: 40 });
  assert.equal(r.non2xx3xx, 12);
  assert.equal(wrkErrorCount(r), 63);
  assert.equal(r.latencyMs.get(50), 1100);
  assert.equal(r.latencyMs.get(99), 2000);
});

test('durations in every unit wrk prints', () => {
  const cases: Array<[string, number]> = [['296.00us', 0.296], ['1.93ms', 1.93], ['2.00s', 2000], ['1.50m', 90_000], ['1.00h', 3_600_000], [' 12us ', 0.012]];
  for (const [text, ms] of cases) assert.ok(Math.abs(parseWrkDurationMs(text) - ms) < 1e-9, text);
  assert.throws(() => parseWrkDurationMs('12 parsecs'), WrkParseError);
});

test('output without --latency or without a summary is refused with what is missing', () => {
  const noLatency = CLEAN.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}177938)/, '');
  assert.throws(() => parseWrk(noLatency), /Latency Distribution/);
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:18999 Connection refused\n'), /requests in/);
  assert.throws(() => parseWrk(CLEAN.replace('     99%    9.81ms\n', '')), /99%/);
});
