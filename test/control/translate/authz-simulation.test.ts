import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../../src/envoy/generated/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import type { RBAC } from '../../../src/envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import type { Listener } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { generate } from '../../../src/control/translate/index.js';
import { GOLDEN_DIR, goldenCase } from '../mesh-fixtures.js';
import { authorize, type SimRequest } from './rbac-eval.js';

/*
 * Requests through the RBAC the golden cases generate, judged by Envoy's RBAC semantics
 * (rbac-eval.ts): does the config mean what the AuthorizationPolicies say?
 */

function inbound(name: string): Listener {
  const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, name));
  return generate(mesh, proxy).listeners.find((l) => l.name === 'virtualInbound')!;
}

function httpRules(l: Listener, chain: number): RBAC[] {
  const cfg = l.filterChains[chain]!.filters[0]!.configType;
  const hcm = cfg.case === 'typedConfig' ? anyUnpack(cfg.value, HttpConnectionManagerSchema)! : assert.fail('no HCM');
  return hcm.httpFilters.filter((f) => f.name === 'envoy.filters.http.rbac').map((f) => (f.configType.case === 'typedConfig' ? anyUnpack(f.configType.value, HttpRbacSchema)!.rules! : assert.fail('no config')));
}

const CURL = 'spiffe://cluster.local/ns/default/sa/curl';
const req = (r: Partial<SimRequest> & { method?: string; path?: string; host?: string }): SimRequest => ({
  directRemoteIp: '198.18.0.7',
  destinationPort: 15006,
  ...r,
  headers: { ':method': r.method ?? 'GET', ':path': r.path ?? '/', ':authority': r.host ?? 'httpbin.foo:8000', ...r.headers },
});

test('authz-http: who may call httpbin, as the policies say', () => {
  const l = inbound('authz-http');
  const mtls = httpRules(l, 0);
  const plain = httpRules(l, 1);
  assert.deepEqual(mtls, plain, 'the same policies on the mTLS and the plaintext chain');
  const jwt = (payload: Record<string, unknown>, issuer = 'https://issuer.example.com') => ({ [issuer]: { iss: issuer, ...payload } as never });
  const table: [string, SimRequest, 'allow' | 'deny'][] = [
    ['curl GET /info', req({ principal: CURL, path: '/info/x?y=1' }), 'allow'],
    ['curl GET /status/200 by a wildcard host with a port', req({ principal: CURL, path: '/status/200', host: 'API.example.com:443' }), 'allow'],
    ['curl GET /status/200 by another host', req({ principal: CURL, path: '/status/200', host: 'evil.test' }), 'deny'],
    ['curl GET /other', req({ principal: CURL, path: '/other' }), 'deny'],
    ['curl POST /data: the rule names port 8000, the workload listens on 80', req({ principal: CURL, method: 'POST', path: '/data' }), 'deny'],
    ['an admin service account by suffix', req({ principal: 'spiffe://cluster.local/ns/ops/sa/admin', path: '/info' }), 'allow'],
    ['namespace test', req({ principal: 'spiffe://cluster.local/ns/test/sa/x', path: '/info' }), 'allow'],
    ['namespace dev-* by prefix', req({ principal: 'spiffe://cluster.local/ns/dev-7/sa/x', path: '/info' }), 'allow'],
    ['namespace testing is not test', req({ principal: 'spiffe://cluster.local/ns/testing/sa/x', path: '/info' }), 'deny'],
    ['plaintext, no token', req({ path: '/info' }), 'deny'],
    ['blocked network, even for curl (DENY first)', req({ principal: CURL, path: '/info', directRemoteIp: '203.0.113.9' }), 'deny'],
    ['blocked network, but forwarded from 10/8', req({ principal: CURL, path: '/info', directRemoteIp: '203.0.113.9', remoteIp: '10.1.1.1' }), 'allow'],
    ['POST /admin is denied for everyone', req({ principal: CURL, method: 'POST', path: '/admin/x' }), 'deny'],
    ['alice with the admins group', req({ jwt: jwt({ sub: 'alice', groups: ['admins'] }) }), 'allow'],
    ['any verified token with the admins group (requestPrincipals *)', req({ jwt: jwt({ sub: 'bob', groups: 'admins' }, 'local-issuer') }), 'allow'],
    ['a token without the group', req({ jwt: jwt({ sub: 'alice', groups: ['users'] }) }), 'deny'],
    ['in prod (notValues)', req({ jwt: jwt({ sub: 'alice', groups: ['admins'] }), headers: { 'x-env': 'prod' } }), 'deny'],
  ];
  for (const [what, r, want] of table) assert.equal(authorize(mtls, r), want, what);
});

test('authz-tcp: network RBAC on the TCP workload', () => {
  const l = inbound('authz-tcp');
  const rules = l.filterChains[0]!.filters.filter((f) => f.name === 'envoy.filters.network.rbac')
    .map((f) => (f.configType.case === 'typedConfig' ? anyUnpack(f.configType.value, NetworkRbacSchema)!.rules! : assert.fail('no config')));
  const tcp = (r: Partial<SimRequest>): SimRequest => ({ directRemoteIp: '127.0.0.1', destinationPort: 15006, headers: {}, ...r });
  const table: [string, SimRequest, 'allow' | 'deny'][] = [
    ['curl from loopback', tcp({ principal: CURL }), 'allow'],
    ['curl from elsewhere (source.ip)', tcp({ principal: CURL, directRemoteIp: '198.18.1.1' }), 'deny'],
    ['curl from 127.0.0.9: allowed by the ALLOW rule, but the DENY rule lost its HTTP-only methods and denies', tcp({ principal: CURL, directRemoteIp: '127.0.0.9' }), 'deny'],
    ['another identity (the rules with HTTP-only fields were dropped)', tcp({ principal: 'spiffe://cluster.local/ns/default/sa/other' }), 'deny'],
  ];
  for (const [what, r, want] of table) assert.equal(authorize(rules, r), want, what);
});
