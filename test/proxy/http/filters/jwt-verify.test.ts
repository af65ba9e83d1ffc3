import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJwt, checkTime } from '../../../../src/proxy/http/filters/jwt-authn/jwt.js';
import { parseJwks } from '../../../../src/proxy/http/filters/jwt-authn/jwks.js';
import { verifySignature } from '../../../../src/proxy/http/filters/jwt-authn/verify.js';
import { AudienceCheck } from '../../../../src/proxy/http/filters/jwt-authn/audience.js';
import { Extractor } from '../../../../src/proxy/http/filters/jwt-authn/extractor.js';
import { JwtStatus } from '../../../../src/proxy/http/filters/jwt-authn/status.js';
import type { CompiledProvider } from '../../../../src/proxy/http/filters/jwt-authn/provider.js';
import { jwksOf, signJwt, testKey } from '../../../support/jwt.js';
import { request } from './harness.js';

const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

test('parseJwt: malformed tokens get Envoy\'s statuses', () => {
  const h = b64({ alg: 'RS256' });
  const p = b64({ iss: 'i' });
  const rows: [string, string][] = [
    ['a.b', JwtStatus.JwtBadFormat],
    ['a.b.c.d', JwtStatus.JwtBadFormat],
    [`!!.${p}.sig`, JwtStatus.JwtHeaderParseErrorBadBase64],
    [`${b64('not json')}.${p}.sig`, JwtStatus.JwtHeaderParseErrorBadJson],
    [`${b64({ typ: 'JWT' })}.${p}.sig`, JwtStatus.JwtHeaderBadAlg],
    [`${b64({ alg: 'none' })}.${p}.sig`, JwtStatus.JwtHeaderNotImplementedAlg],
    [`${b64({ alg: 'RS256', kid: 7 })}.${p}.sig`, JwtStatus.JwtHeaderBadKid],
    [`${h}.${b64('[1]')}.sig`, JwtStatus.JwtPayloadParseErrorBadJson],
    [`${h}.${b64({ iss: 1 })}.sig`, JwtStatus.JwtPayloadParseErrorIssNotString],
    [`${h}.${b64({ sub: {} })}.sig`, JwtStatus.JwtPayloadParseErrorSubNotString],
    [`${h}.${b64({ exp: 'soon' })}.sig`, JwtStatus.JwtPayloadParseErrorExpNotInteger],
    [`${h}.${b64({ exp: 1.5 })}.sig`, JwtStatus.JwtPayloadParseErrorExpNotInteger],
    [`${h}.${b64({ nbf: -1 })}.sig`, JwtStatus.JwtPayloadParseErrorNbfOutOfRange],
    [`${h}.${b64({ aud: [1] })}.sig`, JwtStatus.JwtPayloadParseErrorAudNotString],
    [`${h}.${p}.s+g`, JwtStatus.JwtSignatureParseErrorBadBase64],
  ];
  for (const [t, want] of rows) assert.equal(parseJwt(t), want, t);
  const ok = parseJwt(`${h}.${b64({ iss: 'i', aud: 'a', exp: 10, nbf: 5, sub: 's' })}.${b64('x')}`);
  assert.equal(typeof ok, 'object');
  if (typeof ok === 'object') assert.deepEqual([ok.iss, ok.sub, ok.audiences, ok.exp, ok.nbf, ok.kid], ['i', 's', ['a'], 10, 5, '']);
});

test('checkTime: exp and nbf with the clock skew', () => {
  const jwt = (exp: number, nbf: number) => { const j = parseJwt(`${b64({ alg: 'RS256' })}.${b64({ exp, nbf })}.${b64('x')}`); assert.equal(typeof j, 'object'); return j as Exclude<typeof j, string>; };
  const rows: [number, number, number, number, string][] = [
    [1000, 0, 1000, 0, JwtStatus.Ok],
    [1000, 0, 1001, 0, JwtStatus.JwtExpired],
    [1000, 0, 1060, 60, JwtStatus.Ok],
    [1000, 0, 1061, 60, JwtStatus.JwtExpired],
    [0, 2000, 1939, 60, JwtStatus.JwtNotYetValid],
    [0, 2000, 1940, 60, JwtStatus.Ok],
    [0, 0, 1e9, 0, JwtStatus.Ok],
  ];
  for (const [exp, nbf, now, skew, want] of rows) assert.equal(checkTime(jwt(exp, nbf), now, skew), want, JSON.stringify({ exp, nbf, now, skew }));
});

test('signatures: RS256/384/512, PS256, ES256/384, HS256, EdDSA verify; other keys and tampering do not', () => {
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'HS256', 'EdDSA']) {
    const k = testKey(alg);
    const other = testKey(alg, 'other');
    const jwks = parseJwks(jwksOf(k));
    assert.equal(typeof jwks, 'object', alg);
    if (typeof jwks !== 'object') continue;
    const t = signJwt(k, { iss: 'i' });
    const jwt = parseJwt(t);
    if (typeof jwt !== 'object') assert.fail(`${alg}: ${jwt}`);
    assert.equal(verifySignature(jwt, jwks), JwtStatus.Ok, alg);
    const forged = parseJwt(signJwt(other, { iss: 'i' }, { kid: k.kid }));
    if (typeof forged !== 'object') assert.fail(forged);
    assert.equal(verifySignature(forged, jwks), JwtStatus.JwtVerificationFail, `${alg}: signed by another key`);
    const [h, , s] = t.split('.');
    const tampered = parseJwt(`${h}.${b64({ iss: 'i', admin: true })}.${s}`);
    if (typeof tampered !== 'object') assert.fail(tampered);
    assert.equal(verifySignature(tampered, jwks), JwtStatus.JwtVerificationFail, `${alg}: payload changed`);
    const unknownKid = parseJwt(signJwt(k, { iss: 'i' }, { kid: 'nope' }));
    if (typeof unknownKid !== 'object') assert.fail(unknownKid);
    assert.equal(verifySignature(unknownKid, jwks), JwtStatus.JwksKidAlgMismatch, `${alg}: kid not in the JWKS`);
  }
  // A key that pins another alg does not fit; without kid every key is tried.
  const es = testKey('ES256');
  const rs = testKey('RS256');
  const both = parseJwks(jwksOf(rs, es));
  if (typeof both !== 'object') assert.fail(both);
  const noKid = parseJwt(signJwt(es, { iss: 'i' }, { kid: undefined }));
  if (typeof noKid !== 'object') assert.fail(noKid);
  assert.equal(verifySignature(noKid, both), JwtStatus.Ok);
  const rsAsEs = parseJwt(signJwt(rs, { iss: 'i' }, { alg: 'ES256' }));
  if (typeof rsAsEs !== 'object') assert.fail(rsAsEs);
  assert.equal(verifySignature(rsAsEs, parseJwks(jwksOf(rs)) as Exclude<ReturnType<typeof parseJwks>, string>), JwtStatus.JwksKidAlgMismatch);
});

test('parseJwks: statuses, and keys it cannot use are skipped', () => {
  assert.equal(parseJwks('{'), JwtStatus.JwksParseError);
  assert.equal(parseJwks('{}'), JwtStatus.JwksNoKeys);
  assert.equal(parseJwks('{"keys":{}}'), JwtStatus.JwksBadKeys);
  assert.equal(parseJwks('{"keys":[{"kty":"RSA","n":"AQAB"}]}'), JwtStatus.JwksNoValidKeys);
  assert.equal(parseJwks('{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}'), JwtStatus.JwksNoValidKeys, 'not a point on the curve');
  const k = testKey('ES256');
  const mixed = parseJwks(JSON.stringify({ keys: [{ kty: 'XYZ' }, { ...k.jwk, alg: 'RS256' }, k.jwk] }));
  assert.equal(typeof mixed === 'object' && mixed.keys.length, 1);
});

test('audiences compare without scheme and trailing slash', () => {
  const a = new AudienceCheck(['https://api.example.com/', 'bookinfo']);
  assert.equal(a.allows(['api.example.com']), true);
  assert.equal(a.allows(['http://api.example.com']), true);
  assert.equal(a.allows(['x', 'bookinfo/']), true);
  assert.equal(a.allows(['other']), false);
  assert.equal(a.allows([]), false);
  assert.equal(new AudienceCheck([]).allows([]), true);
});

test('extractor: default Authorization Bearer and access_token, custom headers, params and cookies', () => {
  const provider = (issuer: string, locations: CompiledProvider['locations']) => ({ issuer, locations, forwardPayloadHeader: '', claimToHeaders: [] }) as unknown as CompiledProvider;
  const def = new Extractor([provider('a', [{ kind: 'header', name: 'authorization', prefix: 'Bearer ' }, { kind: 'param', name: 'access_token' }])]);
  const got = (e: Extractor, path: string, h: Record<string, string> = {}) => e.extract(request(path, h)).map((t) => t.token);
  assert.deepEqual(got(def, '/', { authorization: 'Bearer aaa.bbb.ccc' }), ['aaa.bbb.ccc']);
  assert.deepEqual(got(def, '/', { authorization: 'Basic dXNlcg==' }), []);
  assert.deepEqual(got(def, '/x?access_token=t1.t2.t3&y=1'), ['t1.t2.t3']);
  assert.deepEqual(got(def, '/', { authorization: 'Bearer  \t a.b.c' }), ['a.b.c'], 'the token starts at the first JWT character after the prefix');
  assert.deepEqual(got(def, '/', { authorization: 'Bearer a.b.c, extra' }), ['a.b.c, extra'], 'and runs to the end (its syntax is checked later), as Envoy takes it');
  assert.deepEqual(got(def, '/', { authorization: 'Bearer ' }), ['Bearer '], 'no JWT character: the whole value');
  assert.deepEqual(got(def, '/x?access_token=1&access_token=2'), ['1'], 'the first value of a parameter');
  const custom = new Extractor([
    provider('a', [{ kind: 'header', name: 'x-jwt', prefix: '' }]),
    provider('b', [{ kind: 'header', name: 'x-jwt', prefix: '' }, { kind: 'cookie', name: 'session' }]),
  ]);
  assert.deepEqual(got(custom, '/', { 'x-jwt': '' }), [''], 'without a prefix the whole value, even empty');
  const ts = custom.extract(request('/', { 'x-jwt': 'h.p.s', cookie: 'theme=dark; session=c.d.e; session=other' }));
  assert.deepEqual(ts.map((t) => [t.token, [...(t.issuers ?? [])]]), [['h.p.s', ['a', 'b']], ['c.d.e', ['b']]], 'a shared location accepts both issuers');
});
