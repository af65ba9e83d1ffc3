import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createJoinToken, readJoinToken, rootHashOf, TokenError, verifyJoinToken } from '../../src/pki/join-token.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rootHash = rootHashOf(Uint8Array.of(1, 2, 3));
const NOW = 1_800_000_000;
const make = (o: Partial<Parameters<typeof createJoinToken>[0]> = {}, key = privateKey) =>
  createJoinToken({ namespace: 'shop', serviceAccount: 'cart', trustDomain: 'cluster.local', ttlSeconds: 3600, rootHash, now: NOW, ...o }, key, 'k1');
const verifyAt = (token: string, now = NOW + 10, revoked: string[] = []) => verifyJoinToken(token, publicKey, { now, trustDomain: 'cluster.local', isRevoked: (j) => revoked.includes(j) });

test('a token is an ES256 JWT whose claims name the identity, expiry, id and the pinned root', () => {
  const { token, claims } = make();
  const [h, p, s] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'ES256', typ: 'JWT', kid: 'k1' });
  assert.equal(Buffer.from(s!, 'base64url').length, 64, 'raw r||s (JWS), not DER');
  assert.deepEqual(JSON.parse(Buffer.from(p!, 'base64url').toString()), claims);
  assert.equal(claims.sub, 'spiffe://cluster.local/ns/shop/sa/cart');
  assert.equal(claims.exp - claims.iat, 3600);
  assert.equal(rootHash, 'sha256:039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81');
  assert.deepEqual(readJoinToken(`  ${token}\n`), claims, 'whitespace around a token file is fine');
  assert.deepEqual(verifyAt(token), claims);
  assert.notEqual(make().claims.jti, claims.jti, 'every token has its own id');
});

test('verification refuses, with a stable code, what the CA must not accept', () => {
  const { token, claims } = make();
  const [h, p, s] = token.split('.') as [string, string, string];
  const edit = (f: (c: Record<string, unknown>) => void): string => {
    const c = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    f(c);
    return `${h}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.${s}`;
  };
  const cases: [string, () => unknown, TokenError['code'], RegExp][] = [
    ['another key', () => verifyAt(make({}, other.privateKey).token), 'bad-signature', /not issued by this control plane/],
    ['payload edited', () => verifyAt(edit((c) => { c['exp'] = NOW + 999_999; })), 'bad-signature', /signature does not verify/],
    ['identity edited consistently', () => verifyAt(edit((c) => { c['sa'] = 'admin'; c['sub'] = 'spiffe://cluster.local/ns/shop/sa/admin'; })), 'bad-signature', /signature/],
    ['sub disagrees with ns/sa', () => verifyAt(edit((c) => { c['sa'] = 'admin'; })), 'malformed', /sub does not match/],
    ['expired', () => verifyAt(token, NOW + 3600), 'expired', /expired at 2027-01-15T09:00:00\.000Z/],
    ['issued in the future', () => verifyAt(token, NOW - 3600), 'not-yet-valid', /future/],
    ['revoked', () => verifyAt(token, NOW + 1, [claims.jti]), 'revoked', /was revoked/],
    ['other trust domain', () => verifyJoinToken(make({ trustDomain: 'corp.example' }).token, publicKey, { now: NOW, trustDomain: 'cluster.local', isRevoked: () => false }), 'wrong-trust-domain', /corp\.example/],
    ['two parts', () => verifyAt('a.b'), 'malformed', /three dot-separated parts/],
    ['not JSON', () => verifyAt('a.b.c'), 'malformed', /not base64url JSON/],
    ['alg none', () => verifyAt(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`), 'malformed', /not an ES256 JWT/],
    ['no rootHash', () => verifyAt(edit((c) => { delete c['rootHash']; })), 'malformed', /no rootHash/],
    ['short signature', () => verifyAt(`${h}.${p}.${s.slice(0, 20)}`), 'bad-signature', /signature/],
  ];
  for (const [name, run, code, message] of cases) {
    assert.throws(run, (e: Error) => {
      assert.ok(e instanceof TokenError, `${name}: ${e.message}`);
      assert.equal(e.code, code, name);
      assert.match(e.message, message, name);
      return true;
    }, name);
  }
});

test('a token cannot be made for names that are not DNS labels or for no time', () => {
  assert.throws(() => make({ namespace: 'Shop' }), /namespace "Shop" is not a DNS label/);
  assert.throws(() => make({ serviceAccount: 'a/b' }), /service account "a\/b" is not a DNS label/);
  assert.throws(() => make({ ttlSeconds: 0 }), /ttl must be a positive number of seconds/);
  assert.throws(() => make({ trustDomain: 'Bad_Domain' }), /trust domain/);
});
