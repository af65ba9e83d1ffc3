import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { RBACSchema } from '../../../src/envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { PermissionSchema, PrincipalSchema } from '../../../src/envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { MetadataMatcherSchema } from '../../../src/envoy/generated/envoy/type/matcher/v3/metadata_pb.js';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { compileRbacRules } from '../../../src/proxy/rbac/engine.js';
import { compilePermission, compilePrincipal } from '../../../src/proxy/rbac/matchers.js';
import { compileMetadataMatcher } from '../../../src/proxy/rbac/metadata-matcher.js';
import type { RbacInput } from '../../../src/proxy/rbac/input.js';
import type { ConnectionInfo } from '../../../src/proxy/http/conn-manager/connection-info.js';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { statPrefixJoin, deniedDetails } from '../../../src/proxy/rbac/stats.js';
import { cidrMatcher, ipv4Number } from '../../../src/proxy/rbac/cidr-matcher.js';
import { Cidr } from '../../../src/proxy/listener/cidr.js';

const JWT = 'envoy.filters.http.jwt_authn';
const BASE_CONN: ConnectionInfo = { id: 1, remoteAddress: '10.1.2.3', remotePort: 40000, localAddress: '10.9.0.5', localPort: 9080 };

interface In {
  conn?: Partial<ConnectionInfo>;
  remote?: string;
  req?: { method?: string; path?: string; authority?: string; headers?: Record<string, string> } | null;
  md?: Record<string, JsonObject>;
}

function input(i: In = {}): RbacInput {
  const conn = { ...BASE_CONN, ...i.conn };
  const r = i.req === null ? undefined : { method: 'GET', path: '/', authority: 'svc', ...i.req, headers: new HeaderMap(Object.entries(i.req?.headers ?? {}).flat()) };
  return { conn, remoteAddress: i.remote ?? conn.remoteAddress, request: r, metadata: (ns) => i.md?.[ns] };
}

const perm = (j: JsonValue) => compilePermission(fromJson(PermissionSchema, j, { registry: envoyRegistry }), 'p');
const princ = (j: JsonValue) => compilePrincipal(fromJson(PrincipalSchema, j, { registry: envoyRegistry }), 'q');
const SPIFFE = 'spiffe://cluster.local/ns/default/sa/productpage';
const tls = (uri: string[], dns: string[] = [], subject = '') => ({ tls: { peerUriSans: uri, peerDnsSans: dns, peerSubject: subject, version: 'TLSv1.3' } });

test('permissions: each rule kind, matched and not', () => {
  const rows: [JsonValue, In, boolean][] = [
    [{ any: true }, {}, true],
    [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }, { req: { method: 'GET' } }, true],
    [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }, { req: { method: 'POST' } }, false],
    [{ header: { name: 'x-user', presentMatch: true } }, { req: { headers: { 'x-user': 'a' } } }, true],
    [{ header: { name: 'x-user', presentMatch: true } }, { req: null }, false],
    [{ urlPath: { path: { prefix: '/api/' } } }, { req: { path: '/api/x?y=1' } }, true],
    [{ urlPath: { path: { exact: '/api' } } }, { req: { path: '/api?q=/x' } }, true],
    [{ urlPath: { path: { exact: '/api' } } }, { req: { path: '/api/' } }, false],
    [{ urlPath: { path: { exact: '/ADMIN', ignoreCase: true } } }, { req: { path: '/admin' } }, true],
    [{ urlPath: { path: { prefix: '/' } } }, { req: null }, false],
    [{ header: { name: ':path', stringMatch: { exact: '/api' } } }, { req: { path: '/api?x' } }, false],
    [{ destinationIp: { addressPrefix: '10.9.0.0', prefixLen: 16 } }, {}, true],
    [{ destinationIp: { addressPrefix: '10.8.0.0', prefixLen: 16 } }, {}, false],
    [{ destinationIp: { addressPrefix: '192.0.2.1' } }, {}, true],
    [{ destinationPort: 9080 }, {}, true],
    [{ destinationPort: 9081 }, {}, false],
    [{ destinationPortRange: { start: 9000, end: 9080 } }, {}, false],
    [{ destinationPortRange: { start: 9000, end: 9081 } }, {}, true],
    [{ requestedServerName: { suffix: '.example.com' } }, { conn: { serverName: 'api.example.com' } }, true],
    [{ requestedServerName: { exact: '' } }, {}, true],
    [{ requestedServerName: { suffix: '.example.com' } }, {}, false],
    [{ notRule: { destinationPort: 9080 } }, {}, false],
    [{ andRules: { rules: [{ destinationPort: 9080 }, { header: { name: ':method', stringMatch: { exact: 'GET' } } }] } }, { req: { method: 'GET' } }, true],
    [{ andRules: { rules: [{ destinationPort: 9080 }, { header: { name: ':method', stringMatch: { exact: 'GET' } } }] } }, { req: { method: 'PUT' } }, false],
    [{ orRules: { rules: [{ destinationPort: 1 }, { urlPath: { path: { safeRegex: { regex: '/v[0-9]+/.*' } } } }] } }, { req: { path: '/v2/items' } }, true],
    [{ orRules: { rules: [{ destinationPort: 1 }, { destinationPort: 2 }] } }, {}, false],
    [{ metadata: { filter: JWT, path: [{ key: 'https://issuer' }, { key: 'sub' }], value: { stringMatch: { exact: 'alice' } } } }, { md: { [JWT]: { 'https://issuer': { sub: 'alice' } } } }, true],
  ];
  for (const [j, i, want] of rows) assert.equal(perm(j)(input(i)), want, `${JSON.stringify(j)} on ${JSON.stringify(i)}`);
});

test('principals: identities from TLS, addresses, headers and metadata', () => {
  const rows: [JsonValue, In, boolean][] = [
    [{ any: true }, {}, true],
    [{ authenticated: { principalName: { exact: SPIFFE } } }, { conn: tls([SPIFFE]) }, true],
    [{ authenticated: { principalName: { exact: SPIFFE } } }, { conn: tls(['spiffe://cluster.local/ns/default/sa/other']) }, false],
    [{ authenticated: { principalName: { exact: SPIFFE } } }, {}, false],
    // Any URI SAN may match; then DNS SANs; the subject only as the last resort.
    [{ authenticated: { principalName: { exact: SPIFFE } } }, { conn: tls(['spiffe://x/ns/a/sa/b', SPIFFE]) }, true],
    [{ authenticated: { principalName: { exact: 'db.internal' } } }, { conn: tls([], ['db.internal']) }, true],
    [{ authenticated: { principalName: { exact: 'CN=legacy' } } }, { conn: tls([], [], 'CN=legacy') }, true],
    [{ authenticated: { principalName: { safeRegex: { regex: '.*/ns/default/.*' } } } }, { conn: tls([SPIFFE]) }, true],
    [{ authenticated: { principalName: { safeRegex: { regex: '.*/ns/prod/.*' } } } }, { conn: tls([SPIFFE]) }, false],
    [{ authenticated: {} }, { conn: tls([]) }, true],
    [{ authenticated: {} }, {}, false],
    [{ directRemoteIp: { addressPrefix: '10.1.0.0', prefixLen: 16 } }, { remote: '203.0.113.9' }, true],
    [{ remoteIp: { addressPrefix: '10.1.0.0', prefixLen: 16 } }, { remote: '203.0.113.9' }, false],
    [{ remoteIp: { addressPrefix: '203.0.113.0', prefixLen: 24 } }, { remote: '203.0.113.9' }, true],
    [{ sourceIp: { addressPrefix: '10.1.2.3', prefixLen: 32 } }, {}, true],
    [{ directRemoteIp: { addressPrefix: '10.1.2.3', prefixLen: 32 } }, { conn: { remoteAddress: '::ffff:10.1.2.3' } }, true],
    [{ directRemoteIp: { addressPrefix: '2001:db8::', prefixLen: 32 } }, { conn: { remoteAddress: '2001:db8::7' } }, true],
    [{ header: { name: 'x-caller', stringMatch: { prefix: 'svc-' } } }, { req: { headers: { 'x-caller': 'svc-a' } } }, true],
    [{ notId: { header: { name: 'x-caller', presentMatch: true } } }, { req: {} }, true],
    [{ andIds: { ids: [{ remoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }, { authenticated: {} }] } }, { conn: tls([SPIFFE]) }, true],
    [{ andIds: { ids: [{ remoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }, { authenticated: {} }] } }, {}, false],
    [{ orIds: { ids: [{ authenticated: {} }, { remoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }] } }, {}, true],
    [{ urlPath: { path: { exact: '/p' } } }, { req: { path: '/p' } }, true],
    [{ metadata: { filter: JWT, path: [{ key: 'iss1' }, { key: 'iss' }], value: { stringMatch: { exact: 'iss1' } } } }, { md: { [JWT]: { iss1: { iss: 'iss1' } } } }, true],
    [{ metadata: { filter: JWT, path: [{ key: 'iss1' }, { key: 'iss' }], value: { stringMatch: { exact: 'iss1' } } } }, {}, false],
  ];
  for (const [j, i, want] of rows) assert.equal(princ(j)(input(i)), want, `${JSON.stringify(j)} on ${JSON.stringify(i)}`);
});

test('MetadataMatcher: path walking, value kinds, list_match and invert', () => {
  const md: JsonObject = { iss: { sub: 'bob', groups: ['dev', 'ops'], admin: true, level: 3, none: null, nested: { a: 'b' } } };
  const rows: [JsonValue, boolean][] = [
    [{ path: [{ key: 'iss' }, { key: 'sub' }], value: { stringMatch: { exact: 'bob' } } }, true],
    [{ path: [{ key: 'iss' }, { key: 'sub' }], value: { stringMatch: { exact: 'bo' } } }, false],
    [{ path: [{ key: 'iss' }, { key: 'sub' }], value: { stringMatch: { exact: 'bob' } }, invert: true }, false],
    [{ path: [{ key: 'iss' }, { key: 'groups' }], value: { listMatch: { oneOf: { stringMatch: { exact: 'ops' } } } } }, true],
    [{ path: [{ key: 'iss' }, { key: 'groups' }], value: { listMatch: { oneOf: { stringMatch: { exact: 'qa' } } } } }, false],
    // list_match on a plain string never matches (Envoy needs a list value).
    [{ path: [{ key: 'iss' }, { key: 'sub' }], value: { listMatch: { oneOf: { stringMatch: { exact: 'bob' } } } } }, false],
    [{ path: [{ key: 'iss' }, { key: 'groups' }], value: { stringMatch: { exact: 'dev' } } }, false],
    [{ path: [{ key: 'iss' }, { key: 'admin' }], value: { boolMatch: true } }, true],
    [{ path: [{ key: 'iss' }, { key: 'admin' }], value: { boolMatch: false } }, false],
    [{ path: [{ key: 'iss' }, { key: 'level' }], value: { doubleMatch: { exact: 3 } } }, true],
    [{ path: [{ key: 'iss' }, { key: 'level' }], value: { doubleMatch: { range: { start: 1, end: 3 } } } }, false],
    [{ path: [{ key: 'iss' }, { key: 'none' }], value: { nullMatch: {} } }, true],
    [{ path: [{ key: 'iss' }, { key: 'nested' }, { key: 'a' }], value: { presentMatch: true } }, true],
    [{ path: [{ key: 'iss' }, { key: 'missing' }], value: { presentMatch: true } }, false],
    [{ path: [{ key: 'iss' }, { key: 'missing' }], value: { presentMatch: true }, invert: true }, true],
    [{ path: [{ key: 'iss' }, { key: 'sub' }, { key: 'deeper' }], value: { presentMatch: true } }, false],
    [{ path: [{ key: 'iss' }, { key: 'sub' }], value: { orMatch: { valueMatchers: [{ stringMatch: { exact: 'x' } }, { stringMatch: { exact: 'bob' } }] } } }, true],
  ];
  for (const [j, want] of rows) {
    const m = compileMetadataMatcher(fromJson(MetadataMatcherSchema, { filter: 'f', ...(j as object) }, { registry: envoyRegistry }), 'm');
    assert.equal(m.matches(md), want, JSON.stringify(j));
  }
  const m = compileMetadataMatcher(fromJson(MetadataMatcherSchema, { filter: 'f', path: [{ key: 'iss' }], value: { presentMatch: true } }), 'm');
  assert.equal(m.matches(undefined), false, 'no metadata at all');
});

const rules = (j: JsonValue) => compileRbacRules(fromJson(RBACSchema, j, { registry: envoyRegistry }), 'rules');
const policy = (permissions: JsonValue[], principals: JsonValue[] = [{ any: true }]) => ({ permissions, principals });

test('engine: ALLOW admits only what a policy names, DENY refuses it, LOG allows all; first policy by name', () => {
  const policies = {
    'z-admin': policy([{ urlPath: { path: { prefix: '/admin' } } }], [{ remoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }]),
    'a-read': policy([{ header: { name: ':method', stringMatch: { exact: 'GET' } } }]),
  };
  const allow = rules({ action: 'ALLOW', policies });
  const deny = rules({ action: 'DENY', policies });
  const log = rules({ action: 'LOG', policies });
  const get = input({ req: { method: 'GET', path: '/admin' } });
  const post = input({ req: { method: 'POST', path: '/x' } });
  const postAdmin = input({ req: { method: 'POST', path: '/admin/users' } });
  assert.deepEqual(allow.evaluate(get), { allowed: true, policy: 'a-read' }, 'both match: the first by name wins');
  assert.deepEqual(allow.evaluate(post), { allowed: false, policy: undefined });
  assert.deepEqual(allow.evaluate(postAdmin), { allowed: true, policy: 'z-admin' });
  assert.deepEqual(allow.evaluate(input({ remote: '192.0.2.1', req: { method: 'POST', path: '/admin' } })), { allowed: false, policy: undefined }, 'principal must match too');
  assert.deepEqual(deny.evaluate(get), { allowed: false, policy: 'a-read' });
  assert.deepEqual(deny.evaluate(post), { allowed: true, policy: undefined });
  assert.deepEqual(log.evaluate(post), { allowed: true, policy: undefined });
  assert.deepEqual(log.evaluate(get), { allowed: true, policy: 'a-read' });
  assert.deepEqual(rules({ action: 'ALLOW' }).evaluate(get), { allowed: false, policy: undefined }, 'ALLOW without policies denies everything');
  assert.deepEqual(rules({ action: 'DENY' }).evaluate(get), { allowed: true, policy: undefined });
});

test('config errors name the field', () => {
  const rows: [JsonValue, RegExp][] = [
    [{ policies: { p: { permissions: [], principals: [{ any: true }] } } }, /rules\.policies\[p\]\.permissions: at least one permission is required/],
    [{ policies: { p: { permissions: [{ any: true }] } } }, /rules\.policies\[p\]\.principals: at least one principal is required/],
    [{ policies: { p: policy([{ any: false }]) } }, /rules\.policies\[p\]\.permissions\[0\]\.any: must be true/],
    [{ policies: { p: policy([{}]) } }, /rules\.policies\[p\]\.permissions\[0\]: a permission rule is required/],
    [{ policies: { p: policy([{ andRules: { rules: [] } }]) } }, /permissions\[0\]\.and_rules\.rules: at least one entry is required/],
    [{ policies: { p: policy([{ urlPath: { path: { safeRegex: { regex: '(' } } } }]) } }, /permissions\[0\]\.url_path\.path\.safe_regex\.regex: invalid RE2/],
    [{ policies: { p: policy([{ destinationIp: { addressPrefix: 'nope' } }]) } }, /permissions\[0\]\.destination_ip\.address_prefix: not an IP address/],
    [{ policies: { p: policy([{ destinationPortRange: { start: 10, end: 5 } }]) } }, /permissions\[0\]\.destination_port_range: expected/],
    [{ policies: { p: policy([{ metadata: { filter: JWT, path: [], value: { presentMatch: true } } }]) } }, /permissions\[0\]\.metadata\.path: at least one path segment/],
    [{ policies: { p: policy([{ metadata: { filter: JWT, path: [{ key: 'a' }], value: { listMatch: {} } } }]) } }, /metadata\.value\.list_match\.one_of: required/],
    [{ policies: { p: policy([{ any: true }], [{ filterState: { key: 'k', stringMatch: { exact: 'v' } } }]) } }, /principals\[0\]\.filter_state: filter_state principals are not supported/],
    [{ policies: { p: policy([{ any: true }], [{ authenticated: { principalName: { exact: 'x' } } }, { header: { name: '' } }]) } }, /principals\[1\]\.header\.name: must not be empty/],
    [{ policies: { p: { ...policy([{ any: true }]), condition: { constExpr: { boolValue: true } } } } }, /rules\.policies\[p\]\.condition: CEL conditions are not supported/],
  ];
  for (const [j, re] of rows) assert.throws(() => rules(j), re, JSON.stringify(j));
});

test('stat prefixes join as Envoy joins them; denial details', () => {
  assert.equal(statPrefixJoin('rbac.', ''), 'rbac.');
  assert.equal(statPrefixJoin('rbac.', 'istio_dry_run_allow_'), 'rbac.istio_dry_run_allow_');
  assert.equal(statPrefixJoin('rbac.istio_dry_run_allow_', 'shadow_denied'), 'rbac.istio_dry_run_allow_.shadow_denied');
  assert.equal(statPrefixJoin('tcp', 'rbac.'), 'tcp.rbac.');
  assert.equal(deniedDetails(undefined), 'rbac_access_denied_matched_policy[none]');
  assert.equal(deniedDetails('ns[foo] deny all'), 'rbac_access_denied_matched_policy[ns[foo]_deny_all]');
});

test('IPv4 ranges compare as numbers; anything else falls back or fails closed', () => {
  const rows: [string, number][] = [['0.0.0.0', 0], ['255.255.255.255', 4294967295], ['10.1.2.3', 167838211], ['::ffff:10.1.2.3', 167838211], ['10.1.2', -1], ['10.1.2.3.4', -1], ['256.1.1.1', -1], ['1.2.3.4x', -1], ['1..2.3', -1], ['0010.1.1.1', -1], ['', -1], ['::1', -1]];
  for (const [ip, n] of rows) assert.equal(ipv4Number(ip), n, ip);
  const m = (prefix: string, len: number) => cidrMatcher(Cidr.parse(prefix, len, 'c'));
  const cases: [string, number, string, boolean][] = [
    ['0.0.0.0', 0, '203.0.113.7', true], ['0.0.0.0', 0, '::1', false],
    ['10.0.0.0', 8, '10.255.255.255', true], ['10.0.0.0', 8, '11.0.0.0', false],
    ['192.168.1.77', 24, '192.168.1.1', true], ['192.168.1.1', 32, '192.168.1.1', true], ['192.168.1.1', 32, '192.168.1.2', false],
    ['128.0.0.0', 1, '200.1.1.1', true], ['128.0.0.0', 1, '127.255.255.255', false],
    ['2001:db8::', 32, '2001:db8:1::1', true], ['2001:db8::', 32, '10.0.0.1', false],
  ];
  for (const [prefix, len, ip, want] of cases) assert.equal(m(prefix, len)(ip), want, `${prefix}/${len} ${ip}`);
});
