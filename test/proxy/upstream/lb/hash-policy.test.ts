import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonValue } from '@bufbuild/protobuf';
import { ConfigError } from '../../../../src/envoy/registry.js';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { generateCookieValue, makeSetCookieValue, parseCookieValue } from '../../../../src/proxy/upstream/lb/cookie.js';
import { compileHashPolicies, computeRequestHash, type CookieToSet, type HashRequest } from '../../../../src/proxy/upstream/lb/hash-policy.js';
import { xxHash64, xxHash64Chain } from '../../../../src/proxy/upstream/lb/xxhash64.js';
import { hashPolicies } from './fixtures.js';

const MASK = (1n << 64n) - 1n;
const rotl1 = (h: bigint): bigint => ((h << 1n) | (h >> 63n)) & MASK;
const x = (s: string): bigint => xxHash64(s);

function request(headers: string[] = [], extra: Partial<HashRequest> = {}): HashRequest {
  return { headers: new HeaderMap(headers), sourceIp: '10.1.2.3', path: '/search?q=ring&lang=en&q=second&flag&enc=a%20b', ...extra };
}

describe('computeRequestHash: one policy', () => {
  const cases: { name: string; policy: JsonValue; req: HashRequest; want: bigint | undefined }[] = [
    { name: 'header', policy: { header: { header_name: 'x-user' } }, req: request(['x-user', 'alice']), want: x('alice') },
    { name: 'header name is case-insensitive', policy: { header: { header_name: 'X-User' } }, req: request(['x-user', 'alice']), want: x('alice') },
    { name: 'header absent', policy: { header: { header_name: 'x-user' } }, req: request(['x-other', 'a']), want: undefined },
    { name: 'empty header value still hashes', policy: { header: { header_name: 'x-user' } }, req: request(['x-user', '']), want: x('') },
    { name: 'repeated header: sorted values, chained', policy: { header: { header_name: 'x-tag' } }, req: request(['x-tag', 'b', 'x-other', 'z', 'x-tag', 'a']), want: xxHash64Chain(['a', 'b']) },
    { name: ':authority from the request', policy: { header: { header_name: ':authority' } }, req: request([], { authority: 'shop.example' }), want: x('shop.example') },
    { name: 'host means :authority, as in Envoy', policy: { header: { header_name: 'host' } }, req: request([], { authority: 'shop.example' }), want: x('shop.example') },
    { name: ':path', policy: { header: { header_name: ':path' } }, req: request(), want: x('/search?q=ring&lang=en&q=second&flag&enc=a%20b') },
    { name: ':method', policy: { header: { header_name: ':method' } }, req: request([], { method: 'GET' }), want: x('GET') },
    {
      name: 'header with regex_rewrite',
      policy: { header: { header_name: 'x-path', regex_rewrite: { pattern: { regex: '^/api/v\\d+/users/(\\d+)$' }, substitution: 'user-\\1' } } },
      req: request(['x-path', '/api/v2/users/42']), want: x('user-42'),
    },
    {
      name: 'regex_rewrite replaces every match; \\\\ is a backslash',
      policy: { header: { header_name: 'x-a', regex_rewrite: { pattern: { regex: '[0-9]' }, substitution: '\\\\' } } },
      req: request(['x-a', 'a1b22']), want: x('a\\b\\\\'),
    },
    { name: 'cookie', policy: { cookie: { name: 'session' } }, req: request(['cookie', 'a=1; session=abc; b=2']), want: x('abc') },
    { name: 'quoted cookie value', policy: { cookie: { name: 'session' } }, req: request(['cookie', 'session="abc"']), want: x('abc') },
    { name: 'cookie in a second Cookie header', policy: { cookie: { name: 'session' } }, req: request(['cookie', 'a=1', 'cookie', 'session=s2']), want: x('s2') },
    { name: 'empty cookie counts as absent', policy: { cookie: { name: 'session' } }, req: request(['cookie', 'session=']), want: undefined },
    { name: 'cookie absent, no ttl', policy: { cookie: { name: 'session' } }, req: request(['cookie', 'sessionx=1']), want: undefined },
    { name: 'source_ip', policy: { connection_properties: { source_ip: true } }, req: request(), want: x('10.1.2.3') },
    { name: 'source_ip false adds nothing', policy: { connection_properties: { source_ip: false } }, req: request(), want: undefined },
    { name: 'source_ip without an IP', policy: { connection_properties: { source_ip: true } }, req: request([], { sourceIp: '' }), want: undefined },
    { name: 'query parameter: first value', policy: { query_parameter: { name: 'q' } }, req: request(), want: x('ring') },
    { name: 'query parameter without =', policy: { query_parameter: { name: 'flag' } }, req: request(), want: x('') },
    { name: 'query parameter is not percent-decoded', policy: { query_parameter: { name: 'enc' } }, req: request(), want: x('a%20b') },
    { name: 'query parameter absent', policy: { query_parameter: { name: 'lan' } }, req: request(), want: undefined },
    { name: 'no query string', policy: { query_parameter: { name: 'q' } }, req: request([], { path: '/search' }), want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(computeRequestHash(hashPolicies([c.policy]), c.req), c.want));
  }

  it('the order of repeated header values does not matter', () => {
    const p = hashPolicies([{ header: { header_name: 'x-tag' } }]);
    assert.equal(computeRequestHash(p, request(['x-tag', 'a', 'x-tag', 'b'])), computeRequestHash(p, request(['x-tag', 'b', 'x-tag', 'a'])));
  });
});

describe('computeRequestHash: combining policies', () => {
  const a = x('A'), b = x('B');
  const req = request(['x-a', 'A', 'x-b', 'B']);
  const cases: { name: string; policies: JsonValue[]; req: HashRequest; want: bigint | undefined }[] = [
    { name: 'two policies: rotl(h, 1) ^ next', policies: [{ header: { header_name: 'x-a' } }, { header: { header_name: 'x-b' } }], req, want: rotl1(a) ^ b },
    { name: 'order matters', policies: [{ header: { header_name: 'x-b' } }, { header: { header_name: 'x-a' } }], req, want: rotl1(b) ^ a },
    { name: 'the same policy twice does not cancel out', policies: [{ header: { header_name: 'x-a' } }, { header: { header_name: 'x-a' } }], req, want: rotl1(a) ^ a },
    { name: 'a policy without a value is skipped', policies: [{ header: { header_name: 'x-a' } }, { header: { header_name: 'x-none' } }, { header: { header_name: 'x-b' } }], req, want: rotl1(a) ^ b },
    { name: 'the first value is not rotated', policies: [{ header: { header_name: 'x-none' } }, { header: { header_name: 'x-b' } }], req, want: b },
    { name: 'terminal with a hash stops the list', policies: [{ header: { header_name: 'x-a' }, terminal: true }, { header: { header_name: 'x-b' } }], req, want: a },
    { name: 'terminal without a hash falls through', policies: [{ header: { header_name: 'x-none' }, terminal: true }, { header: { header_name: 'x-b' } }], req, want: b },
    {
      name: 'terminal stops once any hash exists',
      policies: [{ header: { header_name: 'x-a' } }, { header: { header_name: 'x-none' }, terminal: true }, { header: { header_name: 'x-b' } }],
      req, want: a,
    },
    {
      name: 'three kinds',
      policies: [{ header: { header_name: 'x-a' } }, { connection_properties: { source_ip: true } }, { query_parameter: { name: 'lang' } }],
      req, want: rotl1(rotl1(a) ^ x('10.1.2.3')) ^ x('en'),
    },
    { name: 'nothing matches', policies: [{ header: { header_name: 'x-none' } }, { cookie: { name: 'c' } }], req, want: undefined },
    { name: 'no policies', policies: [], req, want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(computeRequestHash(hashPolicies(c.policies), c.req), c.want));
  }
});

describe('computeRequestHash: cookie generation', () => {
  const policy = hashPolicies([{ cookie: { name: 'affinity', ttl: '3600.5s', path: '/app', attributes: [{ name: 'SameSite', value: 'Lax' }] } }]);

  it('asks the caller to set the cookie and hashes its value', () => {
    const asked: CookieToSet[] = [];
    const hash = computeRequestHash(policy, request([], { addCookie: (c) => { asked.push(c); return 'deadbeef'; } }));
    assert.equal(hash, x('deadbeef'));
    assert.deepEqual(asked, [{ name: 'affinity', path: '/app', ttlSeconds: 3600, attributes: [{ name: 'SameSite', value: 'Lax' }] }]);
  });

  it('does not ask when the cookie is present', () => {
    const hash = computeRequestHash(policy, request(['cookie', 'affinity=v1'], { addCookie: () => assert.fail('must not be called') }));
    assert.equal(hash, x('v1'));
  });

  it('no hash when the caller cannot set a cookie', () => {
    assert.equal(computeRequestHash(policy, request()), undefined);
    assert.equal(computeRequestHash(policy, request([], { addCookie: () => '' })), undefined);
  });

  it('ttl 0 still generates a (session) cookie', () => {
    const p = hashPolicies([{ cookie: { name: 'affinity', ttl: '0s' } }]);
    let ttl = -1;
    computeRequestHash(p, request([], { addCookie: (c) => { ttl = c.ttlSeconds; return 'v'; } }));
    assert.equal(ttl, 0);
  });
});

describe('cookie helpers (Envoy Http::Utility)', () => {
  const cases: { header: string; name: string; want: string }[] = [
    { header: 'a=1; b=2', name: 'b', want: '2' },
    { header: 'a=1;b=2', name: 'b', want: '2' },
    { header: '  b=spaced', name: 'b', want: 'spaced' },
    { header: 'junk; b="q"', name: 'b', want: 'q' },
    { header: 'b="', name: 'b', want: '"' },
    { header: 'b=x=y', name: 'b', want: 'x=y' },
    { header: 'bb=1; b=2', name: 'b', want: '2' },
    { header: 'b =1', name: 'b', want: '' },
    { header: 'a=1', name: 'b', want: '' },
  ];
  for (const c of cases) {
    it(`parseCookieValue(${JSON.stringify(c.header)}, ${c.name})`, () => assert.equal(parseCookieValue(new HeaderMap(['cookie', c.header]), c.name), c.want));
  }

  it('makeSetCookieValue', () => {
    assert.equal(makeSetCookieValue('h', 'abc', '/p', 1000, true, [{ name: 'SameSite', value: 'Lax' }, { name: 'Secure', value: '' }]), 'h="abc"; Max-Age=1000; Path=/p; SameSite=Lax; Secure; HttpOnly');
    assert.equal(makeSetCookieValue('h', 'abc', '', 0, false), 'h="abc"');
  });

  it('generateCookieValue: 16 hex digits of xxHash64(remote + local)', () => {
    const v = generateCookieValue('10.0.0.9:51000', '10.0.0.1:8080');
    assert.equal(v, xxHash64('10.0.0.9:5100010.0.0.1:8080').toString(16).padStart(16, '0'));
    assert.match(v, /^[0-9a-f]{16}$/);
  });
});

describe('compileHashPolicies: validation', () => {
  const cases: { name: string; policies: JsonValue[]; path: string }[] = [
    { name: 'filter_state is not supported', policies: [{ header: { header_name: 'x' } }, { filter_state: { key: 'k' } }], path: 'route.hash_policy[1].filter_state' },
    { name: 'no specifier', policies: [{ terminal: true }], path: 'route.hash_policy[0]' },
    { name: 'empty header name', policies: [{ header: { header_name: '' } }], path: 'route.hash_policy[0].header.header_name' },
    { name: 'empty cookie name', policies: [{ cookie: { name: '' } }], path: 'route.hash_policy[0].cookie.name' },
    { name: 'empty query parameter name', policies: [{ query_parameter: { name: '' } }], path: 'route.hash_policy[0].query_parameter.name' },
    { name: 'invalid regex', policies: [{ header: { header_name: 'x', regex_rewrite: { pattern: { regex: '(' }, substitution: '' } } }], path: 'route.hash_policy[0].header.regex_rewrite.pattern.regex' },
    { name: 'invalid rewrite escape', policies: [{ header: { header_name: 'x', regex_rewrite: { pattern: { regex: 'a' }, substitution: '\\x' } } }], path: 'route.hash_policy[0].header.regex_rewrite.substitution' },
    { name: 'rewrite refers to a missing group', policies: [{ header: { header_name: 'x', regex_rewrite: { pattern: { regex: '(a)' }, substitution: '\\2' } } }], path: 'route.hash_policy[0].header.regex_rewrite.substitution' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => compileHashPolicies(hashPolicies(c.policies), 'route.hash_policy'), (e: unknown) => e instanceof ConfigError && e.path === c.path && e.code === 'TSMESH_BAD_CONFIG');
    });
  }

  it('compiles once per policy list', () => {
    const p = hashPolicies([{ header: { header_name: 'x' } }]);
    assert.equal(compileHashPolicies(p), compileHashPolicies(p));
  });
});
