import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { HttpFilterSchema } from '../../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';
import { compileHttpFilters, loadHttpFilters } from '../../../../src/proxy/http/filters/registry.js';
import type { HttpFilterFactory } from '../../../../src/proxy/http/filters/types.js';
import type { RouteSelection } from '../../../../src/proxy/http/route/route-table.js';
import { FakeCallbacks, request, routeFor, runtime, stat } from './harness.js';
import { jwksOf, nowS, signJwt, testKey } from '../../../support/jwt.js';
import { JwtAuthnFactory } from '../../../../src/proxy/http/filters/jwt-authn/filter.js';
import { compileJwtAuthn } from '../../../../src/proxy/http/filters/jwt-authn/config.js';
import { JwtAuthenticationSchema } from '../../../../src/envoy/generated/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';

// The proxy loads a filter's module when a config first names its type (registryFor).
before(() => loadHttpFilters(['envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication']));

const JWT = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
const NAME = 'envoy.filters.http.jwt_authn';
const ISS1 = 'https://issuer-one.example';
const ISS2 = 'issuer-two';
const k1 = testKey('ES256', 'one');
const k2 = testKey('RS256', 'two');

function factory(json: JsonValue, rt = runtime()): { f: HttpFilterFactory; rt: ReturnType<typeof runtime> } {
  const [cfg] = compileHttpFilters([
    fromJson(HttpFilterSchema, { name: NAME, typedConfig: { '@type': JWT, ...(json as object) } }, { registry: envoyRegistry }),
    fromJson(HttpFilterSchema, { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }, { registry: envoyRegistry }),
  ], 'http_filters');
  return { f: cfg!.instantiate!(rt.ctx), rt };
}

const providers = {
  one: { issuer: ISS1, audiences: ['bookinfo'], localJwks: { inlineString: jwksOf(k1) }, payloadInMetadata: ISS1, forwardPayloadHeader: 'x-jwt-payload', claimToHeaders: [{ headerName: 'x-sub', claimName: 'sub' }, { headerName: 'x-level', claimName: 'level' }] },
  two: { issuer: ISS2, localJwks: { inlineString: jwksOf(k2) }, payloadInMetadata: ISS2, forward: true, fromHeaders: [{ name: 'x-token' }] },
};
const good1 = () => signJwt(k1, { iss: ISS1, sub: 'alice', aud: 'bookinfo', exp: nowS() + 3600, level: 3 });
const good2 = () => signJwt(k2, { iss: ISS2, sub: 'bob', exp: nowS() + 3600 });

function run(f: HttpFilterFactory, path: string, headers: Record<string, string>, route?: RouteSelection) {
  const cb = new FakeCallbacks(route, NAME);
  const req = request(path, headers);
  const status = f.create(cb).decodeHeaders(req, true);
  return { status, cb, req, reply: cb.replies[0] };
}

test('provider_name: valid passes with payload metadata and headers; every failure answers with Envoy\'s status and realm', () => {
  const { f, rt } = factory({ providers, rules: [{ match: { prefix: '/' }, requires: { providerName: 'one' } }] });
  const ok = run(f, '/p?q=1', { authorization: `Bearer ${good1()}`, 'x-jwt-payload': 'spoofed', 'x-sub': 'spoofed' });
  assert.equal(ok.status, 'continue');
  assert.deepEqual(ok.cb.metadata.get('envoy.filters.http.jwt_authn')?.[ISS1], { iss: ISS1, sub: 'alice', aud: 'bookinfo', exp: (ok.cb.metadata.get('envoy.filters.http.jwt_authn')![ISS1] as { exp: number }).exp, level: 3 });
  assert.equal(ok.req.headers.get('authorization'), undefined, 'forward: false removes the token');
  assert.deepEqual(ok.req.headers.getAll('x-sub'), ['alice'], 'client-set claim headers are replaced');
  assert.deepEqual(ok.req.headers.getAll('x-level'), ['3']);
  const payload = ok.req.headers.getAll('x-jwt-payload');
  assert.equal(payload.length, 1);
  assert.equal(JSON.parse(Buffer.from(payload[0]!, 'base64url').toString()).sub, 'alice');

  const rows: [Record<string, string>, number, string, boolean][] = [
    [{}, 401, 'Jwt is missing', false],
    [{ authorization: `Bearer ${signJwt(k1, { iss: ISS1, aud: 'bookinfo', exp: nowS() - 120 })}` }, 401, 'Jwt is expired', true],
    [{ authorization: `Bearer ${signJwt(k1, { iss: ISS1, aud: 'bookinfo', nbf: nowS() + 600 })}` }, 401, 'Jwt not yet valid', true],
    [{ authorization: `Bearer ${signJwt(k1, { iss: 'https://evil.example', aud: 'bookinfo' })}` }, 401, 'Jwt issuer is not configured', true],
    [{ authorization: `Bearer ${signJwt(k1, { iss: ISS1, aud: 'other' })}` }, 403, 'Audiences in Jwt are not allowed', true],
    [{ authorization: `Bearer ${signJwt(testKey('ES256', 'one'), { iss: ISS1, aud: 'bookinfo' })}` }, 401, 'Jwt verification fails', true],
    [{ authorization: `Bearer ${signJwt(k1, { iss: ISS1, aud: 'bookinfo' }, { kid: 'rotated' })}` }, 401, "Jwks doesn't have key to match kid or alg from Jwt", true],
    [{ authorization: 'Bearer abc' }, 401, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections', true],
  ];
  for (const [h, code, body, invalid] of rows) {
    const r = run(f, '/p?q=1', h);
    assert.equal(r.status, 'stop', body);
    assert.equal(r.reply?.status, code, body);
    assert.equal(r.reply?.body, body);
    assert.equal(r.reply?.details, `jwt_authn_access_denied{${body.replace(/ /g, '_')}}`);
    assert.deepEqual(r.reply?.opts?.headers, [['www-authenticate', `Bearer realm="http://svc/p?q=1"${invalid ? ', error="invalid_token"' : ''}`]]);
    assert.equal(r.cb.metadata.size, 0, 'no payload of a rejected request');
  }
  assert.equal(stat(rt.store, 'http.ingress.jwt_authn.allowed'), 1);
  assert.equal(stat(rt.store, 'http.ingress.jwt_authn.denied'), rows.length);
});

test('requires_any with allow_missing (Istio\'s shape): no token passes, a bad one fails, either provider passes', () => {
  const { f } = factory({ providers, rules: [
    { match: { prefix: '/healthz' } },
    { match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'one' }, { providerName: 'two' }, { allowMissing: {} }] } } },
  ] });
  assert.equal(run(f, '/', {}).status, 'continue');
  const t2 = good2();
  const both = run(f, '/', { 'x-token': t2 });
  assert.equal(both.status, 'continue');
  assert.deepEqual(Object.keys(both.cb.metadata.get('envoy.filters.http.jwt_authn') ?? {}), [ISS2]);
  assert.equal(both.req.headers.get('x-token'), t2, 'forward: true keeps the token');
  assert.equal(run(f, '/', { authorization: `Bearer ${good1()}` }).status, 'continue');
  const expired = run(f, '/', { authorization: `Bearer ${signJwt(k1, { iss: ISS1, aud: 'bookinfo', exp: 1 })}` });
  assert.equal(expired.reply?.status, 401);
  assert.equal(expired.reply?.body, 'Jwt is expired', 'the real failure, not "missing" from the other provider');
  assert.equal(run(f, '/healthz', { authorization: 'Bearer garbage' }).status, 'continue', 'a rule without requires verifies nothing');
});

test('requires_all, allow_missing_or_failed, provider_and_audiences, requirement_map and per-route config', () => {
  const { f } = factory({
    providers,
    requirementMap: { both: { requiresAll: { requirements: [{ providerName: 'one' }, { providerName: 'two' }] } } },
    rules: [
      { match: { prefix: '/all' }, requirementName: 'both' },
      { match: { prefix: '/aud' }, requires: { providerAndAudiences: { providerName: 'two', audiences: ['special'] } } },
      { match: { prefix: '/soft' }, requires: { requiresAny: { requirements: [{ providerName: 'one' }, { allowMissingOrFailed: {} }] } } },
    ],
  });
  assert.equal(run(f, '/all', { authorization: `Bearer ${good1()}`, 'x-token': good2() }).status, 'continue');
  assert.equal(run(f, '/all', { authorization: `Bearer ${good1()}` }).reply?.body, 'Jwt is missing');
  assert.equal(run(f, '/aud', { 'x-token': good2() }).reply?.status, 403);
  assert.equal(run(f, '/aud', { 'x-token': signJwt(k2, { iss: ISS2, aud: ['x', 'special'] }) }).status, 'continue');
  const soft = run(f, '/soft', { authorization: 'Bearer not.a.jwt' });
  assert.equal(soft.status, 'continue', 'allow_missing_or_failed lets a bad token through');
  assert.equal(soft.cb.metadata.size, 0);
  assert.equal(run(f, '/unmatched', { authorization: 'Bearer x' }).status, 'continue');

  const perRoute = (cfg: JsonValue) => routeFor({ virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, typedPerFilterConfig: { [NAME]: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig', ...(cfg as object) } } }] }] }, '/all');
  assert.equal(run(f, '/all', {}, perRoute({ disabled: true })).status, 'continue');
  const named = run(f, '/soft', { authorization: `Bearer ${good1()}` }, perRoute({ requirementName: 'both' }));
  assert.equal(named.reply?.body, 'Jwt is missing', 'the route names requirement "both": provider two is missing');
  const wrong = run(f, '/', {}, perRoute({ requirementName: 'nope' }));
  assert.equal(wrong.reply?.status, 403);
  assert.equal(wrong.reply?.body, 'Failed JWT authentication: Wrong requirement_name: nope. It should be one of [both]');
});

test('CORS preflight bypass, strip_failure_response', () => {
  const { f, rt } = factory({ providers, bypassCorsPreflight: true, stripFailureResponse: true, rules: [{ match: { prefix: '/' }, requires: { providerName: 'one' } }] });
  const cb = new FakeCallbacks(undefined, NAME);
  const pre = { ...request('/', { origin: 'https://a', 'access-control-request-method': 'POST' }), method: 'OPTIONS' };
  assert.equal(f.create(cb).decodeHeaders(pre, true), 'continue');
  assert.equal(stat(rt.store, 'http.ingress.jwt_authn.cors_preflight_bypassed'), 1);
  const r = run(f, '/', {});
  assert.equal(r.reply?.status, 401);
  assert.equal(r.reply?.body, '');
  assert.equal(r.reply?.opts, undefined, 'no www-authenticate either');
});

test('config errors name the field', () => {
  const rows: [JsonValue, RegExp][] = [
    [{ providers: { p: { issuer: 'i' } } }, /providers\[p\]: one of local_jwks or remote_jwks is required/],
    [{ providers: { p: { localJwks: { inlineString: '{"keys":[]}' } } } }, /providers\[p\]\.local_jwks: Jwks doesn't have any valid public key/],
    [{ providers: { p: { localJwks: { inlineString: 'nope' } } } }, /providers\[p\]\.local_jwks: Jwks is an invalid JSON/],
    [{ providers: { p: { remoteJwks: { httpUri: { uri: 'https://x/jwks', cluster: 'c' } } } } }, /providers\[p\]\.remote_jwks\.http_uri\.timeout: required/],
    [{ providers: { p: { remoteJwks: { httpUri: { uri: 'ftp://x/jwks', cluster: 'c', timeout: '1s' } } } } }, /remote_jwks\.http_uri\.uri: expected an http or https URL/],
    [{ providers: { p: { localJwks: { inlineString: jwksOf(k1) }, fromHeaders: [{ name: 'bad header' }] } } }, /providers\[p\]\.from_headers\[0\]\.name: not a valid header name/],
    [{ providers: { p: { localJwks: { inlineString: jwksOf(k1) } } }, rules: [{ match: { prefix: '/' }, requires: { providerName: 'q' } }] }, /rules\[0\]\.requires\.provider_name: Required provider \['q'\] is not configured/],
    [{ providers: { p: { localJwks: { inlineString: jwksOf(k1) } } }, rules: [{ match: { prefix: '/' }, requirementName: 'r' }] }, /rules\[0\]\.requirement_name: Wrong requirement_name: r/],
    [{ providers: { p: { localJwks: { inlineString: jwksOf(k1) } } }, rules: [{ requires: { providerName: 'p' } }] }, /rules\[0\]\.match: match is required/],
    [{ providers: { p: { localJwks: { inlineString: jwksOf(k1) } } }, rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'p' }] } } }] }, /requires_any\.requirements: at least two requirements are required/],
  ];
  for (const [j, re] of rows) assert.throws(() => factory(j), re, JSON.stringify(j));
});

test('normalize_payload_in_metadata, clear_route_cache, jwt_cache_config (hits still checked for time)', () => {
  let now = Date.now();
  const rt = runtime();
  const cfg = compileJwtAuthn(fromJson(JwtAuthenticationSchema, {
    providers: { one: { issuer: ISS1, localJwks: { inlineString: jwksOf(k1) }, payloadInMetadata: 'payload', normalizePayloadInMetadata: { spaceDelimitedClaims: ['scope', 'permission'] }, clearRouteCache: true, jwtCacheConfig: {}, claimToHeaders: [{ headerName: 'x-scope', claimName: 'scope' }] } },
    rules: [{ match: { prefix: '/' }, requires: { providerName: 'one' } }],
  }, { registry: envoyRegistry }), 'f');
  const f = new JwtAuthnFactory(NAME, cfg, rt.ctx, () => now);
  const t = signJwt(k1, { iss: ISS1, scope: 'read  write', permission: 7, exp: Math.floor(now / 1000) + 100 });
  const a = run(f, '/', { authorization: `Bearer ${t}` });
  assert.equal(a.status, 'continue');
  assert.deepEqual((a.cb.metadata.get('envoy.filters.http.jwt_authn')?.payload as { scope: unknown }).scope, ['read', 'write']);
  assert.deepEqual((a.cb.metadata.get('envoy.filters.http.jwt_authn')?.payload as { permission: unknown }).permission, 7, 'not a string: kept');
  assert.deepEqual(a.req.headers.getAll('x-scope'), ['read  write'], 'headers get the claim as it is');
  assert.equal(a.cb.routeCleared, 1);
  assert.equal(run(f, '/', { authorization: `Bearer ${t}` }).status, 'continue');
  assert.equal(stat(rt.store, 'http.ingress.jwt_authn.jwt_cache_miss'), 1);
  assert.equal(stat(rt.store, 'http.ingress.jwt_authn.jwt_cache_hit'), 1);
  now += 200_000;
  assert.equal(run(f, '/', { authorization: `Bearer ${t}` }).reply?.body, 'Jwt is expired', 'a cached JWT expires too');
  assert.equal(stat(rt.store, 'http.ingress.jwt_authn.jwt_cache_hit'), 2);
});

test('garbage tokens and claims never throw: every one is answered 401', () => {
  const { f } = factory({ providers, rules: [{ match: { prefix: '/' }, requires: { providerName: 'one' } }] });
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const alphabet = 'ABCxyz019-_.=+/ {}":,[]';
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const pieces = [
    () => b64(JSON.stringify({ alg: ['ES256', 'RS256', 'none', 7, null][Math.floor(rnd() * 5)], kid: rnd() < 0.5 ? 'one' : [1] })),
    () => b64(JSON.stringify({ iss: rnd() < 0.5 ? ISS1 : 5, aud: rnd() < 0.5 ? 'bookinfo' : { a: 1 }, exp: rnd() < 0.5 ? 'x' : 1e300, nbf: -1 })),
    () => b64(Array.from({ length: Math.floor(rnd() * 40) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('')),
    () => Array.from({ length: Math.floor(rnd() * 20) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''),
  ];
  for (let i = 0; i < 2000; i++) {
    const n = 1 + Math.floor(rnd() * 4);
    const t = Array.from({ length: n }, () => pieces[Math.floor(rnd() * pieces.length)]!()).join('.');
    const r = run(f, '/', { authorization: `Bearer ${t}` });
    assert.equal(r.status, 'stop', t);
    assert.ok(r.reply && (r.reply.status === 401 || r.reply.status === 403), t);
  }
});
