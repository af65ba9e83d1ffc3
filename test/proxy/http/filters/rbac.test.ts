import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { HttpFilterSchema } from '../../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { compileHttpFilters, loadHttpFilters } from '../../../../src/proxy/http/filters/registry.js';
import type { HttpFilterFactory } from '../../../../src/proxy/http/filters/types.js';
import type { RouteSelection } from '../../../../src/proxy/http/route/route-table.js';
import { FakeCallbacks, request, routeFor, runtime, stat } from './harness.js';

// The proxy loads a filter's module when a config first names its type (registryFor).
before(() => loadHttpFilters(['envoy.extensions.filters.http.rbac.v3.RBAC']));

const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NAME = 'envoy.filters.http.rbac';

function factory(json: JsonValue, rt = runtime()): HttpFilterFactory {
  const [cfg] = compileHttpFilters([
    fromJson(HttpFilterSchema, { name: NAME, typedConfig: { '@type': RBAC, ...(json as object) } }, { registry: envoyRegistry }),
    fromJson(HttpFilterSchema, { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }, { registry: envoyRegistry }),
  ], 'http_filters');
  return cfg!.instantiate!(rt.ctx);
}

const onPath = (prefix: string) => ({ permissions: [{ urlPath: { path: { prefix } } }], principals: [{ any: true }] });
function run(f: HttpFilterFactory, path: string, route?: RouteSelection) {
  const cb = new FakeCallbacks(route, NAME);
  return { status: f.create(cb).decodeHeaders(request(path), true), cb };
}

test('shadow rules leave their result in dynamic metadata under the stat prefix; LOG sets access_log_hint', () => {
  const rt = runtime();
  const f = factory({
    rules: { action: 'LOG', policies: { audit: onPath('/audit') } },
    rulesStatPrefix: 'enforced_',
    shadowRules: { action: 'DENY', policies: { 'ns[x]-policy[deny-admin]': onPath('/admin') } },
    shadowRulesStatPrefix: 'istio_dry_run_allow_',
  }, rt);
  const admin = run(f, '/admin');
  assert.equal(admin.status, 'continue', 'shadow rules never deny');
  assert.deepEqual(admin.cb.metadata.get('envoy.filters.http.rbac'), { istio_dry_run_allow_shadow_engine_result: 'denied', istio_dry_run_allow_shadow_effective_policy_id: 'ns[x]-policy[deny-admin]' });
  assert.deepEqual(admin.cb.metadata.get('envoy.common'), { access_log_hint: false });
  const audit = run(f, '/audit');
  assert.deepEqual(audit.cb.metadata.get('envoy.filters.http.rbac'), { istio_dry_run_allow_shadow_engine_result: 'allowed' });
  assert.deepEqual(audit.cb.metadata.get('envoy.common'), { access_log_hint: true });
  assert.equal(stat(rt.store, 'http.ingress.rbac.istio_dry_run_allow_.shadow_denied'), 1);
  assert.equal(stat(rt.store, 'http.ingress.rbac.istio_dry_run_allow_.shadow_allowed'), 1);
  assert.equal(stat(rt.store, 'http.ingress.rbac.enforced_.logged'), 1);
  assert.equal(stat(rt.store, 'http.ingress.rbac.enforced_.not_logged'), 1);
  assert.equal(stat(rt.store, 'http.ingress.rbac.enforced_.allowed'), 2, 'LOG allows every request');
});

test('RBACPerRoute on a virtual host or route replaces the filter\'s rules; without rbac it turns RBAC off', () => {
  const rt = runtime();
  const f = factory({ rules: { action: 'ALLOW', policies: { api: onPath('/api') } } }, rt);
  const PR = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';
  const rc: JsonValue = {
    virtualHosts: [{
      name: 'v', domains: ['*'],
      typedPerFilterConfig: { [NAME]: { '@type': PR, rbac: { rules: { action: 'DENY', policies: { all: { permissions: [{ any: true }], principals: [{ any: true }] } } } } } },
      routes: [
        { match: { prefix: '/open' }, route: { cluster: 'c' }, typedPerFilterConfig: { [NAME]: { '@type': PR } } },
        { match: { prefix: '/' }, route: { cluster: 'c' } },
      ],
    }],
  };
  assert.equal(run(f, '/api/x').status, 'continue', 'no route: the filter\'s rules');
  assert.equal(run(f, '/other').cb.replies[0]?.body, 'RBAC: access denied');
  const api = run(f, '/api/x', routeFor(rc, '/api/x'));
  assert.equal(api.cb.replies[0]?.status, 403, 'the virtual host denies everything');
  assert.equal(api.cb.replies[0]?.details, 'rbac_access_denied_matched_policy[all]');
  assert.equal(run(f, '/open/x', routeFor(rc, '/open/x')).status, 'continue', 'the route turns RBAC off');
  assert.equal(stat(rt.store, 'http.ingress.rbac.denied'), 2);
  assert.equal(stat(rt.store, 'http.ingress.rbac.allowed'), 1);
});
