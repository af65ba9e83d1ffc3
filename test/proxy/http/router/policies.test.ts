import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { RetryPolicySchema } from '../../../../src/envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { CircuitBreakersSchema } from '../../../../src/envoy/generated/envoy/config/cluster/v3/circuit_breaker_pb.js';
import {
  backoffMs, compileRetryPolicy, effectiveRetryPolicy, parseRetryOn, retriableFailure, retriableResponse, RetryOn,
} from '../../../../src/proxy/http/router/retry-policy.js';
import { parseGrpcTimeout, requestTimeouts, type RouteTimeoutSpec } from '../../../../src/proxy/http/router/timeouts.js';
import { shadowAuthority } from '../../../../src/proxy/http/router/mirror-policy.js';
import { compileCircuitBreakers } from '../../../../src/proxy/upstream/circuit-breakers.js';

const req = (h: string[] = []) => ({ method: 'GET', path: '/', authority: 'a', headers: new HeaderMap(h) });

test('back-off: retry N waits in [0, (2^N - 1) * base), capped at the maximum', () => {
  const table: [number, number, number, number, number][] = [
    // retry, base, max, random, expected
    [1, 25, 250, 0.999, 24],
    [2, 25, 250, 0.999, 74],
    [3, 25, 250, 0.999, 174],
    [4, 25, 250, 0.999, 249],
    [9, 25, 250, 0.5, 125],
    [1, 25, 250, 0, 0],
  ];
  for (const [n, base, max, r, want] of table) assert.equal(backoffMs(n, base, max, () => r), want, `retry ${n}`);
});

test('retry_on names: HTTP and gRPC conditions; unknown names refused in config, ignored in headers', () => {
  assert.equal(parseRetryOn('5xx,reset', 'p'), RetryOn.FIVE_XX | RetryOn.RESET);
  assert.equal(parseRetryOn(' unavailable , cancelled', 'p'), RetryOn.GRPC_UNAVAILABLE | RetryOn.GRPC_CANCELLED);
  assert.throws(() => parseRetryOn('5xx,bogus', 'route.retry_policy.retry_on'), /route\.retry_policy\.retry_on: unknown retry condition "bogus"/);
  assert.equal(parseRetryOn('bogus,5xx', undefined), RetryOn.FIVE_XX);
});

test('retriable responses and failures per policy', () => {
  const p = (on: string) => effectiveRetryPolicy(compileRetryPolicy(create(RetryPolicySchema, { retryOn: on, retriableStatusCodes: [418] }), 'r'), req())!;
  const h = (...kv: string[]) => new HeaderMap(kv);
  const rows: [string, number, HeaderMap, boolean][] = [
    ['5xx', 500, h(), true],
    ['5xx', 404, h(), false],
    ['gateway-error', 500, h(), false],
    ['gateway-error', 503, h(), true],
    ['retriable-4xx', 409, h(), true],
    ['retriable-status-codes', 418, h(), true],
    ['5xx', 503, h('x-envoy-ratelimited', 'true'), false],
    ['envoy-ratelimited', 429, h('x-envoy-ratelimited', 'true'), true],
    ['unavailable', 200, h('grpc-status', '14'), true],
    ['unavailable', 200, h('grpc-status', '13'), false],
    ['internal', 200, h('grpc-status', '13'), true],
  ];
  for (const [on, status, headers, want] of rows) assert.equal(retriableResponse(p(on), status, headers), want, `${on} ${status}`);
  assert.equal(retriableFailure(p('connect-failure'), 'connect_failure'), true);
  assert.equal(retriableFailure(p('connect-failure'), 'reset'), false);
  assert.equal(retriableFailure(p('reset'), 'per_try_timeout'), true);
  assert.equal(retriableFailure(p('refused-stream'), 'refused_stream'), true);
  assert.equal(retriableFailure(p('retriable-4xx'), 'reset'), false);
});

test('x-envoy-max-retries overrides num_retries; no policy and no header means no retries', () => {
  const spec = compileRetryPolicy(create(RetryPolicySchema, { retryOn: '5xx', numRetries: 3 }), 'r');
  assert.equal(effectiveRetryPolicy(spec, req())!.numRetries, 3);
  assert.equal(effectiveRetryPolicy(spec, req(['x-envoy-max-retries', '1']))!.numRetries, 1);
  assert.equal(effectiveRetryPolicy(undefined, req()), undefined);
  assert.equal(effectiveRetryPolicy(undefined, req(['x-envoy-retry-on', 'gateway-error']))!.numRetries, 1);
});

test('timeouts: grpc-timeout under max_grpc_timeout, header overrides, per-try not above global', () => {
  assert.equal(parseGrpcTimeout('200m'), 200);
  assert.equal(parseGrpcTimeout('2S'), 2000);
  assert.equal(parseGrpcTimeout('1H'), 3_600_000);
  assert.equal(parseGrpcTimeout('123456789S'), undefined);
  assert.equal(parseGrpcTimeout('5x'), undefined);
  const spec: RouteTimeoutSpec = { timeoutMs: 15000, maxGrpcTimeoutMs: 1000, grpcTimeoutOffsetMs: 0, perTryTimeoutMs: 0 };
  const g = (h: string[], grpc: boolean, s = spec) => requestTimeouts(s, new HeaderMap(h), grpc);
  assert.deepEqual(g(['grpc-timeout', '200m'], true), { globalMs: 200, perTryMs: 0 });
  assert.deepEqual(g(['grpc-timeout', '5S'], true), { globalMs: 1000, perTryMs: 0 });
  assert.deepEqual(g([], true), { globalMs: 1000, perTryMs: 0 });
  assert.deepEqual(g(['grpc-timeout', '5S'], false), { globalMs: 15000, perTryMs: 0 });
  assert.deepEqual(g(['grpc-timeout', '5S'], true, { ...spec, maxGrpcTimeoutMs: undefined }), { globalMs: 15000, perTryMs: 0 });
  assert.deepEqual(g(['x-envoy-upstream-rq-timeout-ms', '300', 'x-envoy-upstream-rq-per-try-timeout-ms', '100'], false), { globalMs: 300, perTryMs: 100 });
  assert.deepEqual(g(['x-envoy-upstream-rq-per-try-timeout-ms', '20000'], false), { globalMs: 15000, perTryMs: 0 });
});

test('shadow host: -shadow before any port', () => {
  assert.equal(shadowAuthority('svc'), 'svc-shadow');
  assert.equal(shadowAuthority('svc.ns:8080'), 'svc.ns-shadow:8080');
  assert.equal(shadowAuthority('[::1]:80'), '[::1]-shadow:80');
});

test('circuit breakers: defaults, both priorities, bad values refused with the path', () => {
  const d = compileCircuitBreakers(undefined, 'c');
  assert.equal(d.default.maxConnections, 1024);
  assert.equal(d.default.maxRetries, 3);
  const cb = compileCircuitBreakers(create(CircuitBreakersSchema, { thresholds: [{ priority: 1, maxRequests: 7, retryBudget: {} }] }), 'c');
  assert.equal(cb.high.maxRequests, 7);
  assert.deepEqual(cb.high.retryBudget, { percent: 20, minConcurrency: 3 });
  assert.equal(cb.default.maxRequests, 1024);
  assert.throws(() => compileCircuitBreakers(create(CircuitBreakersSchema, { thresholds: [{}, {}] }), 'clusters[0].circuit_breakers'), /clusters\[0\]\.circuit_breakers\.thresholds\[1\]\.priority: DEFAULT is given twice/);
  assert.throws(() => compileCircuitBreakers(create(CircuitBreakersSchema, { perHostThresholds: [{}] }), 'c'), /per_host_thresholds/);
});
