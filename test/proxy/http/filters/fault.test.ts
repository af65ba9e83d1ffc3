import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { HTTPFaultSchema } from '../../../../src/envoy/generated/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { HttpFilterSchema } from '../../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { compileFaultSettings } from '../../../../src/proxy/http/filters/fault/config.js';
import { abortDecision, delayMs, faultMatches, headerPercentage, parseUnsigned, responseRateKbps } from '../../../../src/proxy/http/filters/fault/decide.js';
import { compileHttpFilters, loadHttpFilters } from '../../../../src/proxy/http/filters/registry.js';
import type { HttpFilterFactory } from '../../../../src/proxy/http/filters/types.js';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { ResponseFlag } from '../../../../src/proxy/admin/access-log/response-flags.js';
import { FakeCallbacks, request, routeFor, runtime, stat } from './harness.js';

// The proxy loads a filter's module when a config first names its type (registryFor).
before(() => loadHttpFilters(['envoy.extensions.filters.http.fault.v3.HTTPFault']));

const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const settings = (json: JsonValue) => compileFaultSettings(fromJson(HTTPFaultSchema, json, { registry: envoyRegistry }), 'f');

/** The fault filter as an HCM compiles it, bound to a runtime. */
function factory(json: JsonValue, rt = runtime(), random = () => 0): HttpFilterFactory {
  const [cfg] = compileHttpFilters([
    fromJson(HttpFilterSchema, { name: 'envoy.filters.http.fault', typedConfig: { '@type': FAULT, ...(json as object) } }, { registry: envoyRegistry }),
    fromJson(HttpFilterSchema, { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }, { registry: envoyRegistry }),
  ], 'http_filters');
  const f = cfg!.instantiate!(rt.ctx);
  (f as unknown as { random: () => number }).random = random;
  return f;
}

const ROUTES = (perRoute?: JsonValue): JsonValue => ({
  virtualHosts: [{
    name: 'all', domains: ['*'],
    routes: [
      { match: { prefix: '/special' }, route: { cluster: 'special' }, ...(perRoute ? { typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, ...(perRoute as object) } } } : {}) },
      { match: { prefix: '/' }, route: { cluster: 'app' } },
    ],
  }],
});

test('HTTPFault config errors name the field', () => {
  const rows: [JsonValue, RegExp][] = [
    [{ abort: { httpStatus: 600, percentage: { numerator: 1 } } }, /f\.abort\.http_status: must be in \[200, 600\), got 600$/],
    [{ abort: { percentage: { numerator: 1 } } }, /f\.abort: one of http_status, grpc_status or header_abort is required$/],
    [{ delay: { percentage: { numerator: 1 } } }, /f\.delay: one of fixed_delay or header_delay is required$/],
    [{ delay: { fixedDelay: '0s' } }, /f\.delay\.fixed_delay: must be greater than 0$/],
    [{ responseRateLimit: { fixedLimit: { limitKbps: '0' } } }, /f\.response_rate_limit\.fixed_limit\.limit_kbps: must be at least 1$/],
    [{ responseRateLimit: { percentage: { numerator: 1 } } }, /f\.response_rate_limit: one of fixed_limit or header_limit is required$/],
    [{ headers: [{ name: '' }] }, /f\.headers\[0\]\.name: must not be empty$/],
  ];
  for (const [json, re] of rows) assert.throws(() => settings(json), re, JSON.stringify(json));
});

test('parseUnsigned reads header numbers as absl::SimpleAtoi; header percentages are capped by the configured numerator', () => {
  const rows: [string | undefined, number | undefined][] = [['42', 42], [' 7 ', 7], ['+3', 3], ['-1', undefined], ['1.5', undefined], ['', undefined], ['x', undefined], [undefined, undefined]];
  for (const [v, n] of rows) assert.equal(parseUnsigned(v), n, String(v));
  assert.equal(parseUnsigned('4294967296', 0xffffffff), undefined);
  assert.deepEqual(headerPercentage({ numerator: 50, denominator: 100 }, '20'), { numerator: 20, denominator: 100 });
  assert.deepEqual(headerPercentage({ numerator: 50, denominator: 10000 }, '90'), { numerator: 50, denominator: 10000 });
  assert.deepEqual(headerPercentage({ numerator: 50, denominator: 100 }, 'lots'), { numerator: 50, denominator: 100 });
});

test('response rate limit decisions: fixed or from x-envoy-fault-throughput-response, by percentage', () => {
  const h = (o: Record<string, string>) => new HeaderMap(Object.entries(o).flat());
  const fixed = settings({ responseRateLimit: { fixedLimit: { limitKbps: '16' }, percentage: { numerator: 50 } } });
  assert.equal(responseRateKbps(fixed, h({}), 0.49), 16);
  assert.equal(responseRateKbps(fixed, h({}), 0.5), undefined);
  assert.equal(responseRateKbps(fixed, h({ 'x-envoy-fault-throughput-response': '1' }), 0), 16, 'the header only applies to header_limit');
  const byHeader = settings({ responseRateLimit: { headerLimit: {}, percentage: { numerator: 100 } } });
  const rows: [Record<string, string>, number | undefined][] = [
    [{}, undefined],
    [{ 'x-envoy-fault-throughput-response': '100' }, 100],
    [{ 'x-envoy-fault-throughput-response': '0' }, undefined],
    [{ 'x-envoy-fault-throughput-response': 'slow' }, undefined],
    [{ 'x-envoy-fault-throughput-response': '100', 'x-envoy-fault-throughput-response-percentage': '0' }, undefined],
  ];
  for (const [headers, want] of rows) assert.equal(responseRateKbps(byHeader, h(headers), 0.5), want, JSON.stringify(headers));
});

test('delay and abort decisions: fixed or from headers, by percentage', () => {
  const h = (o: Record<string, string>) => new HeaderMap(Object.entries(o).flat());
  const fixed = settings({ delay: { fixedDelay: '1.5s', percentage: { numerator: 50 } }, abort: { httpStatus: 503, percentage: { numerator: 50 } } });
  assert.equal(delayMs(fixed, h({}), 0.49), 1500);
  assert.equal(delayMs(fixed, h({}), 0.5), undefined);
  assert.equal(delayMs(fixed, h({ 'x-envoy-fault-delay-request-percentage': '0' }), 0), 1500, 'the percentage header only applies to header faults');
  assert.deepEqual(abortDecision(fixed, h({}), 0.1), { status: 503 });
  assert.equal(abortDecision(fixed, h({}), 0.9), undefined);
  const grpc = settings({ abort: { grpcStatus: 14, percentage: { numerator: 100 } } });
  assert.deepEqual(abortDecision(grpc, h({}), 0.99), { status: 200, grpcStatus: 14 });
  const byHeader = settings({ delay: { headerDelay: {}, percentage: { numerator: 100 } }, abort: { headerAbort: {}, percentage: { numerator: 100 } } });
  const rows: [Record<string, string>, number | undefined, object | undefined][] = [
    [{}, undefined, undefined],
    [{ 'x-envoy-fault-delay-request': '250' }, 250, undefined],
    [{ 'x-envoy-fault-delay-request': '0' }, undefined, undefined],
    [{ 'x-envoy-fault-delay-request': 'soon' }, undefined, undefined],
    [{ 'x-envoy-fault-delay-request': '250', 'x-envoy-fault-delay-request-percentage': '0' }, undefined, undefined],
    [{ 'x-envoy-fault-abort-request': '429' }, undefined, { status: 429 }],
    [{ 'x-envoy-fault-abort-request': '199' }, undefined, undefined],
    [{ 'x-envoy-fault-abort-request': '600', 'x-envoy-fault-abort-grpc-request': '8' }, undefined, { status: 200, grpcStatus: 8 }],
    [{ 'x-envoy-fault-abort-request': '500', 'x-envoy-fault-abort-grpc-request': '8' }, undefined, { status: 500 }],
    [{ 'x-envoy-fault-abort-request': '500', 'x-envoy-fault-abort-request-percentage': '0' }, undefined, undefined],
  ];
  for (const [hdrs, delay, abort] of rows) {
    assert.equal(delayMs(byHeader, h(hdrs), 0), delay, JSON.stringify(hdrs));
    assert.deepEqual(abortDecision(byHeader, h(hdrs), 0), abort, JSON.stringify(hdrs));
  }
});

test('faultMatches: upstream_cluster, downstream_nodes and headers must all accept the request', () => {
  const s = settings({ abort: { httpStatus: 503 }, upstreamCluster: 'app', downstreamNodes: ['n1', 'n2'], headers: [{ name: 'x-canary', exactMatch: 'yes' }] });
  const req = (o: Record<string, string>) => request('/', o);
  assert.equal(faultMatches(s, req({ 'x-envoy-downstream-service-node': 'n2', 'x-canary': 'yes' }), 'app'), true);
  assert.equal(faultMatches(s, req({ 'x-envoy-downstream-service-node': 'n2', 'x-canary': 'yes' }), 'other'), false);
  assert.equal(faultMatches(s, req({ 'x-envoy-downstream-service-node': 'n2', 'x-canary': 'yes' }), undefined), false);
  assert.equal(faultMatches(s, req({ 'x-envoy-downstream-service-node': 'n3', 'x-canary': 'yes' }), 'app'), false);
  assert.equal(faultMatches(s, req({ 'x-canary': 'yes' }), 'app'), false);
  assert.equal(faultMatches(s, req({ 'x-envoy-downstream-service-node': 'n1', 'x-canary': 'no' }), 'app'), false);
});

test('an abort answers with a local reply, flag FI, and counts aborts_injected', () => {
  const rt = runtime();
  const f = factory({ abort: { httpStatus: 503, percentage: { numerator: 100 } } }, rt);
  const cb = new FakeCallbacks(routeFor(ROUTES()), 'envoy.filters.http.fault');
  assert.equal(f.create(cb).decodeHeaders(request('/', { 'x-envoy-downstream-service-cluster': 'frontend' }), true), 'stop');
  assert.deepEqual(cb.replies, [{ status: 503, body: 'fault filter abort', details: 'fault_filter_abort', opts: { flags: ResponseFlag.FI } }]);
  assert.equal(stat(rt.store, 'http.ingress.fault.aborts_injected'), 1);
  assert.equal(stat(rt.store, 'http.ingress.fault.frontend.aborts_injected'), 1);
  assert.equal(stat(rt.store, 'http.ingress.fault.active_faults'), 1, 'active until the stream is destroyed');
});

test('a gRPC abort asks for 200 with the grpc-status', () => {
  const f = factory({ abort: { grpcStatus: 14, percentage: { numerator: 100 } } });
  const cb = new FakeCallbacks(routeFor(ROUTES()), 'envoy.filters.http.fault');
  f.create(cb).decodeHeaders(request('/'), true);
  assert.deepEqual(cb.replies[0]!.opts, { grpcStatus: 14, flags: ResponseFlag.FI });
  assert.equal(cb.replies[0]!.status, 200);
});

test('a delay stops the request, flags DI, then continues; a following abort is decided after the delay', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const rt = runtime();
  const f = factory({ delay: { fixedDelay: '2s', percentage: { numerator: 100 } } }, rt);
  const cb = new FakeCallbacks(routeFor(ROUTES()), 'envoy.filters.http.fault');
  const s = f.create(cb);
  assert.equal(s.decodeHeaders(request('/'), true), 'stop');
  assert.equal(cb.flags, ResponseFlag.DI);
  assert.equal(stat(rt.store, 'http.ingress.fault.delays_injected'), 1);
  assert.equal(stat(rt.store, 'http.ingress.fault.active_faults'), 1);
  t.mock.timers.tick(1999);
  assert.equal(cb.continued, 0);
  t.mock.timers.tick(1);
  assert.equal(cb.continued, 1);
  assert.equal(stat(rt.store, 'http.ingress.fault.active_faults'), 0, 'a finished delay is no longer an active fault');
  s.onDestroy!();
  assert.equal(stat(rt.store, 'http.ingress.fault.active_faults'), 0);

  const both = factory({ delay: { fixedDelay: '1s', percentage: { numerator: 100 } }, abort: { httpStatus: 502, percentage: { numerator: 100 } } }, rt);
  const cb2 = new FakeCallbacks(routeFor(ROUTES()), 'envoy.filters.http.fault');
  const s2 = both.create(cb2);
  assert.equal(s2.decodeHeaders(request('/'), true), 'stop');
  assert.equal(cb2.replies.length, 0, 'delay first');
  t.mock.timers.tick(1000);
  assert.equal(cb2.replies[0]!.status, 502);
  assert.equal(cb2.flags, ResponseFlag.DI | ResponseFlag.FI);
  assert.equal(cb2.continued, 0);
  s2.onDestroy!();
  assert.equal(stat(rt.store, 'http.ingress.fault.active_faults'), 0);
});

test('a stream destroyed during its delay cancels the timer and releases its active fault', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const rt = runtime();
  const f = factory({ delay: { fixedDelay: '1s', percentage: { numerator: 100 } } }, rt);
  const cb = new FakeCallbacks(routeFor(ROUTES()), 'envoy.filters.http.fault');
  const s = f.create(cb);
  s.decodeHeaders(request('/'), true);
  s.onDestroy!();
  t.mock.timers.tick(5000);
  assert.equal(cb.continued, 0);
  assert.equal(stat(rt.store, 'http.ingress.fault.active_faults'), 0);
});

test('max_active_faults is instance-wide: two threads with the same slots share one count', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const a = runtime();
  const b = runtime('ingress', a.slots);
  const cfg = { delay: { fixedDelay: '1s', percentage: { numerator: 100 } }, maxActiveFaults: 2 };
  const fa = factory(cfg, a), fb = factory(cfg, b);
  const route = routeFor(ROUTES());
  const results = [fa, fb, fa, fb].map((f) => f.create(new FakeCallbacks(route, 'envoy.filters.http.fault')).decodeHeaders(request('/'), true));
  assert.deepEqual(results, ['stop', 'stop', 'continue', 'continue']);
  assert.equal(stat(a.store, 'http.ingress.fault.faults_overflow') + stat(b.store, 'http.ingress.fault.faults_overflow'), 2);
});

test("a route's typed_per_filter_config replaces the filter's settings on that route", () => {
  const f = factory({ abort: { httpStatus: 503, percentage: { numerator: 100 } } });
  const routes = ROUTES({ abort: { httpStatus: 418, percentage: { numerator: 100 } } });
  const special = new FakeCallbacks(routeFor(routes, '/special'), 'envoy.filters.http.fault');
  f.create(special).decodeHeaders(request('/special'), true);
  const other = new FakeCallbacks(routeFor(routes, '/other'), 'envoy.filters.http.fault');
  f.create(other).decodeHeaders(request('/other'), true);
  assert.deepEqual([special.replies[0]!.status, other.replies[0]!.status], [418, 503]);
  const quiet = ROUTES({ abort: { httpStatus: 418, percentage: { numerator: 0 } } });
  const cb = new FakeCallbacks(routeFor(quiet, '/special'), 'envoy.filters.http.fault');
  assert.equal(f.create(cb).decodeHeaders(request('/special'), true), 'continue', 'no merging with the filter-level abort');
});

test('typed_per_filter_config of an unknown type is refused with its path', () => {
  assert.throws(() => routeFor({
    virtualHosts: [{ name: 'all', domains: ['*'], typedPerFilterConfig: { 'envoy.filters.http.router': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }, routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }],
  }), /route_config\.virtual_hosts\[0\]\.typed_per_filter_config\[envoy\.filters\.http\.router\]: no HTTP filter takes per-route config of type type\.googleapis\.com\/envoy\.extensions\.filters\.http\.router\.v3\.Router$/);
  assert.throws(() => routeFor(ROUTES({ abort: { httpStatus: 99 } })), /route_config\.virtual_hosts\[0\]\.routes\[0\]\.typed_per_filter_config\[envoy\.filters\.http\.fault\]\.abort\.http_status: must be in \[200, 600\)/);
});

