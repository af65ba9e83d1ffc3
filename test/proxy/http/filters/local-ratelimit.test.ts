import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { LocalRateLimitSchema } from '../../../../src/envoy/generated/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { HttpFilterSchema } from '../../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { compileLocalRateLimit } from '../../../../src/proxy/http/filters/local-ratelimit/config.js';
import { LocalRateLimiter } from '../../../../src/proxy/http/filters/local-ratelimit/limiter.js';
import { requestDescriptors } from '../../../../src/proxy/http/filters/local-ratelimit/descriptors.js';
import { compileHttpFilters, loadHttpFilters } from '../../../../src/proxy/http/filters/registry.js';
import type { HttpFilterFactory } from '../../../../src/proxy/http/filters/types.js';
import { descriptorKey } from '../../../../src/proxy/http/route/rate-limits.js';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { ResponseFlag } from '../../../../src/proxy/admin/access-log/response-flags.js';
import { CONN, FakeCallbacks, request, routeFor, runtime, stat } from './harness.js';

// The proxy loads a filter's module when a config first names its type (registryFor).
before(() => loadHttpFilters(['envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit']));

const LRL = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const NAME = 'envoy.filters.http.local_ratelimit';
const settings = (json: JsonValue, perRoute = false) => compileLocalRateLimit(fromJson(LocalRateLimitSchema, json, { registry: envoyRegistry }), 'f', perRoute);
const ON = { defaultValue: { numerator: 100 } };
const bucket = (max: number, interval = '3600s', perFill = 1) => ({ maxTokens: max, tokensPerFill: perFill, fillInterval: interval });

function factory(json: JsonValue, rt = runtime()): HttpFilterFactory {
  const [cfg] = compileHttpFilters([
    fromJson(HttpFilterSchema, { name: NAME, typedConfig: { '@type': LRL, ...(json as object) } }, { registry: envoyRegistry }),
    fromJson(HttpFilterSchema, { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }, { registry: envoyRegistry }),
  ], 'http_filters');
  return cfg!.instantiate!(rt.ctx);
}

const key = (...e: [string, string][]) => descriptorKey(e);

test('LocalRateLimit config errors name the field', () => {
  const rows: [JsonValue, boolean, RegExp][] = [
    [{}, false, /f\.stat_prefix: must not be empty/],
    [{ statPrefix: 'p' }, true, /f\.token_bucket: local rate limit token bucket must be set for per filter configs/],
    [{ statPrefix: 'p', tokenBucket: { maxTokens: 0, fillInterval: '1s' } }, false, /f\.token_bucket\.max_tokens: must be greater than 0/],
    [{ statPrefix: 'p', tokenBucket: { maxTokens: 1, fillInterval: '0.049s' } }, false, /f\.token_bucket\.fill_interval: local rate limit token bucket fill timer must be >= 50ms/],
    [{ statPrefix: 'p', tokenBucket: { maxTokens: 1 } }, false, /f\.token_bucket\.fill_interval: required/],
    [{ statPrefix: 'p', tokenBucket: { maxTokens: 1, tokensPerFill: 0, fillInterval: '1s' } }, false, /f\.token_bucket\.tokens_per_fill: must be greater than 0/],
    [{ statPrefix: 'p', filterEnabled: { runtimeKey: 'k' } }, false, /f\.filter_enabled\.default_value: required/],
    [{ statPrefix: 'p', tokenBucket: bucket(1, '1s'), descriptors: [{ entries: [{ key: 'k', value: 'v' }], tokenBucket: bucket(1, '1.5s') }] }, false, /f\.descriptors\[0\]\.token_bucket\.fill_interval: local rate descriptor limit is not a multiple of token bucket fill timer/],
    [{ statPrefix: 'p', descriptors: [{ entries: [], tokenBucket: bucket(1) }] }, false, /f\.descriptors\[0\]\.entries: at least one entry is required/],
    [{ statPrefix: 'p', descriptors: [{ entries: [{ key: 'k', value: '' }], tokenBucket: bucket(1) }] }, false, /f\.descriptors\[0\]\.entries\[0\]\.value: must not be empty/],
    [{ statPrefix: 'p', descriptors: [{ entries: [{ key: 'k', value: 'v' }] }] }, false, /f\.descriptors\[0\]\.token_bucket: required/],
    [{ statPrefix: 'p', descriptors: [{ entries: [{ key: 'k', value: 'v' }], tokenBucket: bucket(1) }, { entries: [{ key: 'k', value: 'v' }], tokenBucket: bucket(2) }] }, false, /f\.descriptors\[1\]: duplicate descriptor in the local rate descriptor: k=v/],
    [{ statPrefix: 'p', stage: 11 }, false, /f\.stage: must be at most 10/],
    [{ statPrefix: 'p', localClusterRateLimit: {} }, false, /f\.local_cluster_rate_limit: sharing a bucket/],
    [{ statPrefix: 'p', status: { code: 999 } }, false, /f\.status\.code: unknown value 999/],
    [{ statPrefix: 'p', responseHeadersToAdd: [{ header: { key: ':status', value: '1' } }] }, false, /f\.response_headers_to_add\[0\]\.header\.key/],
    [{ statPrefix: 'p', requestHeadersToAddWhenNotEnforced: [{ header: { key: 'host', value: '1' } }] }, false, /f\.request_headers_to_add_when_not_enforced\[0\]\.header\.key/],
  ];
  for (const [json, perRoute, re] of rows) assert.throws(() => settings(json, perRoute), re, JSON.stringify(json));
  const s = settings({ statPrefix: 'p', status: { code: 'OK' } });
  assert.equal(s.status, 429, 'a status below 400 becomes 429');
  assert.equal(settings({ statPrefix: 'p', status: { code: 'ServiceUnavailable' } }).status, 503);
  assert.equal(s.enabled, undefined, 'filter_enabled defaults to off');
  assert.equal(s.alwaysConsumeDefault, true);
});

test('descriptors take tokens strictest first and stop at the first without one; the default bucket as always_consume says', () => {
  const now = 1_700_000_000_000;
  const s = settings({
    statPrefix: 'p', tokenBucket: bucket(3, '1s'),
    descriptors: [
      { entries: [{ key: 'user', value: 'ann' }], tokenBucket: bucket(5, '1s', 5) },
      { entries: [{ key: 'path', value: '/x' }], tokenBucket: bucket(1, '1s', 1) },
    ],
  });
  assert.deepEqual(s.descriptors.map((d) => d.bucket.maxTokens), [1, 5], 'strictest (fewest tokens per second) first');
  const l = new LocalRateLimiter(s, undefined);
  const ann = key(['user', 'ann']), px = key(['path', '/x']);
  assert.equal(l.requestAllowed([ann, px], now).allowed, true);
  const r = l.requestAllowed([ann, px], now);
  assert.equal(r.allowed, false, 'path=/x is out');
  assert.equal(r.bucket?.spec.maxTokens, 5, 'x-ratelimit headers describe the first request descriptor configured');
  assert.equal(l.requestAllowed([ann], now).allowed, true, 'user=ann had 4 left and the default 2');
  assert.equal(l.requestAllowed([ann], now).allowed, true);
  assert.equal(l.requestAllowed([], now).allowed, false, 'the default bucket was consumed each time');

  const lazy = new LocalRateLimiter(settings({ statPrefix: 'p', tokenBucket: bucket(1), alwaysConsumeDefaultTokenBucket: false, descriptors: [{ entries: [{ key: 'k', value: 'v' }], tokenBucket: bucket(2) }] }), undefined);
  assert.deepEqual([lazy.requestAllowed([key(['k', 'v'])], now).allowed, lazy.requestAllowed([key(['k', 'v'])], now).allowed, lazy.requestAllowed([key(['k', 'v'])], now).allowed], [true, true, false]);
  assert.equal(lazy.requestAllowed([], now).allowed, true, 'the default bucket untouched by matched requests');

  const unlimited = new LocalRateLimiter(settings({ statPrefix: 'p' }), undefined);
  assert.deepEqual(unlimited.requestAllowed([], now), { allowed: true, bucket: undefined }, 'no token_bucket limits nothing');
});

test("request descriptors come from the route's rate_limits of the filter's stage, and the virtual host's as vh_rate_limits says", () => {
  const rc = (routeLimits: JsonValue[] | undefined, extra: object = {}) => ({
    virtualHosts: [{
      name: 'all', domains: ['*'],
      rateLimits: [{ actions: [{ genericKey: { descriptorValue: 'vh' } }] }],
      routes: [{ match: { prefix: '/' }, route: { cluster: 'app', ...(routeLimits ? { rateLimits: routeLimits } : {}), ...extra } }],
    }],
  });
  const base = { statPrefix: 'p', descriptors: [{ entries: [{ key: 'generic_key', value: 'x' }], tokenBucket: bucket(1) }] };
  const route: JsonValue[] = [{ actions: [{ genericKey: { descriptorValue: 'r0' } }] }, { stage: 1, actions: [{ genericKey: { descriptorValue: 'r1' } }] }, { disableKey: 'off', actions: [{ genericKey: { descriptorValue: 'rd' } }] }];
  const g = (v: string) => key(['generic_key', v]);
  const rows: [settings: object, rc: JsonValue, want: string[]][] = [
    [base, rc(route), [g('r0')]],
    [{ ...base, stage: 1 }, rc(route), [g('r1')]],
    [base, rc(undefined), [g('vh')]],
    [{ ...base, vhRateLimits: 'INCLUDE' }, rc(route), [g('r0'), g('vh')]],
    [{ ...base, vhRateLimits: 'IGNORE' }, rc(undefined), []],
    [base, rc(route, { includeVhRateLimits: true }), [g('r0'), g('vh')]],
    [{ statPrefix: 'p' }, rc(route), []],
  ];
  for (const [s, config, want] of rows) {
    assert.deepEqual(requestDescriptors(settings(s as JsonValue), routeFor(config), request('/'), CONN), want, JSON.stringify(s));
  }
});

test('enabled and enforced: 429 with x-envoy-ratelimited and response_headers_to_add, flag RL, Envoy stats', () => {
  const rt = runtime();
  const f = factory({
    statPrefix: 'edge', tokenBucket: bucket(2), filterEnabled: ON, filterEnforced: ON,
    responseHeadersToAdd: [{ header: { key: 'x-local-rate-limit', value: 'true' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
  }, rt);
  const route = routeFor({ virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }] });
  const results = [0, 1, 2].map(() => {
    const cb = new FakeCallbacks(route, NAME);
    const s = f.create(cb);
    const st = s.decodeHeaders(request('/'), true);
    const h = new HeaderMap();
    if (cb.replies.length) s.encodeHeaders!(cb.replies[0]!.status, h);
    return { st, cb, h };
  });
  assert.deepEqual(results.map((r) => r.st), ['continue', 'continue', 'stop']);
  const { cb, h } = results[2]!;
  assert.deepEqual(cb.replies, [{ status: 429, body: 'local_rate_limited', details: 'local_rate_limited', opts: { headers: [['x-envoy-ratelimited', 'true']], flags: ResponseFlag.RL } }]);
  assert.equal(h.get('x-local-rate-limit'), 'true');
  assert.deepEqual(['enabled', 'ok', 'rate_limited', 'enforced'].map((n) => stat(rt.store, `edge.http_local_rate_limit.${n}`)), [3, 2, 1, 1]);
});

test('enabled but not enforced: the request goes on with request_headers_to_add_when_not_enforced', () => {
  const rt = runtime();
  const f = factory({ statPrefix: 'shadow', tokenBucket: bucket(1), filterEnabled: ON, requestHeadersToAddWhenNotEnforced: [{ header: { key: 'x-would-limit', value: 'yes' } }] }, rt);
  const reqs = [request('/'), request('/')];
  const st = reqs.map((r) => f.create(new FakeCallbacks(undefined, NAME)).decodeHeaders(r, true));
  assert.deepEqual(st, ['continue', 'continue']);
  assert.deepEqual([reqs[0]!.headers.get('x-would-limit'), reqs[1]!.headers.get('x-would-limit')], [undefined, 'yes']);
  assert.deepEqual(['enabled', 'ok', 'rate_limited', 'enforced'].map((n) => stat(rt.store, `shadow.http_local_rate_limit.${n}`)), [2, 1, 1, 0]);
});

test('not enabled: nothing counted, nothing limited', () => {
  const rt = runtime();
  const f = factory({ statPrefix: 'off', tokenBucket: bucket(1), filterEnforced: ON }, rt);
  for (let i = 0; i < 3; i++) assert.equal(f.create(new FakeCallbacks(undefined, NAME)).decodeHeaders(request('/'), true), 'continue');
  assert.equal(stat(rt.store, 'off.http_local_rate_limit.enabled'), 0);
});

test('x-ratelimit headers (DRAFT_VERSION_03) on passed and limited responses; gRPC as RESOURCE_EXHAUSTED', () => {
  const f = factory({ statPrefix: 'x', tokenBucket: bucket(2), filterEnabled: ON, filterEnforced: ON, enableXRatelimitHeaders: 'DRAFT_VERSION_03', rateLimitedAsResourceExhausted: true });
  const run = () => {
    const cb = new FakeCallbacks(undefined, NAME);
    const s = f.create(cb);
    s.decodeHeaders(request('/'), true);
    const h = new HeaderMap();
    s.encodeHeaders!(cb.replies[0]?.status ?? 200, h);
    return { cb, h: [h.get('x-ratelimit-limit'), h.get('x-ratelimit-remaining'), h.get('x-ratelimit-reset')] };
  };
  assert.deepEqual(run().h, ['2', '1', '3600']);
  assert.deepEqual(run().h, ['2', '0', '3600']);
  const limited = run();
  assert.deepEqual(limited.h, ['2', '0', '3600']);
  assert.equal(limited.cb.replies[0]!.opts?.grpcStatus, 8);
});

test("a route's LocalRateLimit has its own bucket and stats", () => {
  const rt = runtime();
  const f = factory({ statPrefix: 'global', tokenBucket: bucket(100), filterEnabled: ON, filterEnforced: ON }, rt);
  const rc: JsonValue = {
    virtualHosts: [{
      name: 'all', domains: ['*'],
      routes: [
        { match: { prefix: '/tight' }, route: { cluster: 'app' }, typedPerFilterConfig: { [NAME]: { '@type': LRL, statPrefix: 'tight', tokenBucket: bucket(1), filterEnabled: ON, filterEnforced: ON } } },
        { match: { prefix: '/' }, route: { cluster: 'app' } },
      ],
    }],
  };
  const go = (path: string) => f.create(new FakeCallbacks(routeFor(rc, path), NAME)).decodeHeaders(request(path), true);
  assert.deepEqual([go('/tight'), go('/tight'), go('/other'), go('/other')], ['continue', 'stop', 'continue', 'continue']);
  assert.equal(stat(rt.store, 'tight.http_local_rate_limit.enforced'), 1);
  assert.equal(stat(rt.store, 'global.http_local_rate_limit.ok'), 2);
});

test('one bucket for the instance: two threads over the same slots share it; per connection, each connection has its own', () => {
  const a = runtime(), b = runtime('ingress', a.slots);
  const cfg = { statPrefix: 's', tokenBucket: bucket(3), filterEnabled: ON, filterEnforced: ON };
  const fa = factory(cfg, a), fb = factory(cfg, b);
  const results = [fa, fb, fa, fb, fa].map((f) => f.create(new FakeCallbacks(undefined, NAME)).decodeHeaders(request('/'), true));
  assert.deepEqual(results, ['continue', 'continue', 'continue', 'stop', 'stop']);

  const pc = factory({ ...cfg, tokenBucket: bucket(1), localRateLimitPerDownstreamConnection: true });
  const c1 = { ...CONN, id: 1 }, c2 = { ...CONN, id: 2 };
  const per = [c1, c1, c2, c2].map((c) => pc.create(new FakeCallbacks(undefined, NAME, c)).decodeHeaders(request('/'), true));
  assert.deepEqual(per, ['continue', 'stop', 'continue', 'stop']);
});
