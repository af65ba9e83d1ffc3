import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compileRouteConfig } from '../../../src/proxy/http/route/compile.js';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { generate } from '../../../src/control/translate/index.js';
import { GOLDEN_DIR, goldenCase } from '../mesh-fixtures.js';
import { withoutCors } from './delivered.js';
import { BUILT_IN_HTTP_FILTERS, loadHttpFilters } from '../../../src/proxy/http/filters/registry.js';

// The proxy loads a filter's module when a config first names its type (registryFor); these
// resources are compiled directly, so every built-in filter is loaded first.
before(() => loadHttpFilters(BUILT_IN_HTTP_FILTERS.flatMap(([names]) => names)));

/*
 * Simulation, as Istio's sidecar simulation tests do it: requests run through the generated
 * route configurations with OUR proxy's own route selection (compiled RouteTable), asserting
 * where each one goes. `random` picks among weighted clusters (0 = first, 0.99 = last).
 */
interface Call {
  readonly name: string;
  readonly routeConfig: string;
  readonly authority: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly random?: number;
  /** A cluster name, `direct <status>`, or `redirect <status> <location>`. */
  readonly want: string;
  readonly timeoutMs?: number;
}

const CASES: Record<string, readonly Call[]> = {
  'bookinfo-basic': [
    { name: 'FQDN with port', routeConfig: '9080', authority: 'reviews.default.svc.cluster.local:9080', want: 'outbound|9080||reviews.default.svc.cluster.local', timeoutMs: 0 },
    { name: 'short name, same namespace', routeConfig: '9080', authority: 'reviews', want: 'outbound|9080||reviews.default.svc.cluster.local' },
    { name: 'VIP', routeConfig: '9080', authority: '198.19.0.12:9080', want: 'outbound|9080||reviews.default.svc.cluster.local' },
    { name: 'name.namespace of another namespace', routeConfig: '9080', authority: 'ratings.backend:9080', want: 'outbound|9080||ratings.backend.svc.cluster.local' },
    { name: 'bare short name of another namespace is unknown', routeConfig: '9080', authority: 'ratings:9080', want: 'PassthroughCluster' },
    { name: 'unknown host, ALLOW_ANY', routeConfig: '9080', authority: 'example.com', want: 'PassthroughCluster' },
    { name: 'HTTP proxy, host:port', routeConfig: 'http_proxy', authority: 'details:9080', want: 'outbound|9080||details.default.svc.cluster.local' },
    { name: 'HTTP proxy, no port means 80', routeConfig: 'http_proxy', authority: 'details', want: 'PassthroughCluster' },
  ],
  'canary-subsets': [
    { name: '90% to v1', routeConfig: '9080', authority: 'reviews:9080', random: 0.5, want: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    { name: '10% to v2', routeConfig: '9080', authority: 'reviews:9080', random: 0.95, want: 'outbound|9080|v2|reviews.default.svc.cluster.local' },
    { name: 'via the HTTP proxy too', routeConfig: 'http_proxy', authority: 'reviews.default.svc.cluster.local:9080', random: 0.95, want: 'outbound|9080|v2|reviews.default.svc.cluster.local' },
  ],
  'header-ab': [
    { name: 'jason gets v2', routeConfig: '9080', authority: 'reviews:9080', headers: { 'end-user': 'jason' }, want: 'outbound|9080|v2|reviews.default.svc.cluster.local' },
    { name: 'others get v1', routeConfig: '9080', authority: 'reviews:9080', headers: { 'end-user': 'mary' }, want: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    {
      name: 'every match field satisfied', routeConfig: '9080', authority: 'reviews:9080', method: 'POST', path: '/API/v2/items?debug=1&trace',
      headers: { 'x-canary': 'yes', 'x-present': '' }, want: 'outbound|9080|v2|reviews.default.svc.cluster.local',
    },
    {
      name: 'withoutHeaders excludes', routeConfig: '9080', authority: 'reviews:9080', method: 'POST', path: '/API/v2/items?debug=1&trace',
      headers: { 'x-canary': 'yes', 'x-present': '', 'x-internal': '1' }, want: 'outbound|9080|v1|reviews.default.svc.cluster.local',
    },
    { name: 'method must match', routeConfig: '9080', authority: 'reviews:9080', method: 'GET', path: '/API/v2/items?debug=1&trace', headers: { 'x-canary': 'yes', 'x-present': '' }, want: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    { name: 'the port-bound match only on its port', routeConfig: '9080', authority: 'reviews:9080', path: '/admin', want: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    { name: 'the port-bound match on its port', routeConfig: '9443', authority: 'reviews:9443', path: '/admin', want: 'outbound|9443|v2|reviews.default.svc.cluster.local' },
    { name: 'ignoreUriCase on a prefix', routeConfig: '9443', authority: 'reviews:9443', path: '/ADMIN/x', want: 'outbound|9443|v2|reviews.default.svc.cluster.local' },
    { name: 'the regex is case sensitive (Envoy ignores case_sensitive for safe_regex)', routeConfig: '9080', authority: 'reviews:9080', method: 'POST', path: '/api/v2/items?debug=1&trace', headers: { 'x-canary': 'yes', 'x-present': '' }, want: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
  ],
  'route-features': [
    { name: 'redirect', routeConfig: '8000', authority: 'httpbin:8000', path: '/old/page', want: 'redirect 308 https://docs.example.com:8443/new' },
    { name: 'direct response', routeConfig: '8000', authority: 'httpbin:8000', path: '/gone', want: 'direct 410' },
    { name: 'timeout', routeConfig: '8000', authority: 'httpbin:8000', path: '/status/503', want: 'outbound|8000|v1|httpbin.default.svc.cluster.local', timeoutMs: 3000 },
    { name: '75/25 first', routeConfig: '8000', authority: 'httpbin:8000', path: '/api/v1/x', random: 0.1, want: 'outbound|8000|v1|httpbin.default.svc.cluster.local' },
    { name: '75/25 second', routeConfig: '8000', authority: 'httpbin:8000', path: '/api/v1/x', random: 0.9, want: 'outbound|8000|v2|httpbin.default.svc.cluster.local' },
  ],
  'registry-only': [
    { name: 'known host', routeConfig: '80', authority: 'details', want: 'outbound|80||details.default.svc.cluster.local' },
    { name: 'unknown host is blocked', routeConfig: '80', authority: 'example.com', want: 'direct 502' },
    { name: 'unknown host through the HTTP proxy is blocked', routeConfig: 'http_proxy', authority: 'example.com', want: 'direct 502' },
    { name: 'port 80 through the HTTP proxy without a port', routeConfig: 'http_proxy', authority: 'details', want: 'outbound|80||details.default.svc.cluster.local' },
  ],
  'virtual-service-host': [
    { name: 'a VirtualService-only host through the HTTP proxy', routeConfig: 'http_proxy', authority: 'api.internal', path: '/reviews/1', want: 'outbound|9080||reviews.default.svc.cluster.local' },
    { name: 'its other route', routeConfig: 'http_proxy', authority: 'api.internal', path: '/x', want: 'outbound|9080||ratings.default.svc.cluster.local' },
    { name: 'on port 80', routeConfig: '80', authority: 'api.internal:80', want: 'outbound|9080||ratings.default.svc.cluster.local' },
    { name: 'the services keep their own routes', routeConfig: '9080', authority: 'reviews:9080', path: '/reviews', want: 'outbound|9080||reviews.default.svc.cluster.local' },
  ],
  'source-labels': [
    { name: 'the v2 rule with its header', routeConfig: '9080', authority: 'reviews:9080', headers: { 'x-a': '1' }, want: 'outbound|9080|v2|reviews.shop.svc.cluster.local' },
    { name: 'the shop namespace rule', routeConfig: '9080', authority: 'reviews:9080', path: '/shop/cart', want: 'outbound|9080|v2|reviews.shop.svc.cluster.local' },
    { name: 'the ingress-only match is not for sidecars', routeConfig: '9080', authority: 'reviews:9080', path: '/ingress-only', want: 'outbound|9080|v1|reviews.shop.svc.cluster.local' },
  ],
};

for (const [caseName, calls] of Object.entries(CASES)) {
  const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, caseName));
  // Per-port route configurations go to sidecars with traffic capture only; http_proxy to those
  // without (apps calling through HTTP_PROXY).
  const viaProxy = generate(mesh, { ...proxy, interceptionMode: undefined, outboundPort: proxy.outboundPort ?? 15001 });
  const captured = generate(mesh, { ...proxy, interceptionMode: 'REDIRECT', outboundPort: proxy.outboundPort ?? 15001 });
  for (const call of calls) {
    test(`simulation ${caseName}: ${call.name}`, () => {
      const res = call.routeConfig === 'http_proxy' ? viaProxy : captured;
      const rc = res.routes.find((r) => r.name === call.routeConfig);
      assert.ok(rc, `no route configuration ${call.routeConfig}`);
      const table = compileRouteConfig(withoutCors(rc), `routes[${call.routeConfig}]`);
      const list: string[] = [];
      for (const [k, v] of Object.entries(call.headers ?? {})) list.push(k, v);
      const req = { authority: call.authority, path: call.path ?? '/', method: call.method ?? 'GET', headers: new HeaderMap(list) };
      const sel = table.select(req);
      assert.ok(sel, 'no route selected (404)');
      const a = sel.route.action;
      const got = a.kind === 'forward' ? a.pickCluster(call.random ?? 0) : a.kind === 'direct' ? `direct ${a.status}` : `redirect ${a.status} ${a.location(req)}`;
      assert.equal(got, call.want);
      if (call.timeoutMs !== undefined) {
        assert.equal(a.kind, 'forward');
        if (a.kind === 'forward') assert.equal(a.timeoutMs, call.timeoutMs);
      }
    });
  }
}
