import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { RegexMatchAndSubstituteSchema, RegexMatcherSchema } from '../../../../src/envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { RegexRewrite } from '../../../../src/proxy/http/route/regex.js';
import type { RouteSelection } from '../../../../src/proxy/http/route/route-table.js';
import { req, table, withRoutes, type ReqOptions } from './fixtures.js';
import { RetryOn } from '../../../../src/proxy/http/router/retry-policy.js';

function forward(sel: RouteSelection | undefined) {
  assert.ok(sel);
  const a = sel.route.action;
  assert.equal(a.kind, 'forward');
  return a;
}

describe('RE2 GlobalReplace semantics (RE2 re2_test.cc ReplaceTest table)', () => {
  const cases: Array<[string, string, string, string]> = [
    ['(qu|[b-df-hj-np-tv-z]*)([a-z]+)', '\\2\\1ay', 'the quick brown fox jumps over the lazy dogs.', 'ethay ickquay ownbray oxfay umpsjay overay ethay azylay ogsday.'],
    ['\\w+', '\\0-NOSPAM', 'abcd.efghi@google.com', 'abcd-NOSPAM.efghi-NOSPAM@google-NOSPAM.com-NOSPAM'],
    ['^', '(START)', 'foo', '(START)foo'],
    ['^', '(START)', '', '(START)'],
    ['$', '(END)', '', '(END)'],
    ['b', 'bb', 'ababababab', 'abbabbabbabbabb'],
    ['b', 'bb', 'bbbbbb', 'bbbbbbbbbbbb'],
    ['b+', 'bb', 'bbbbbb', 'bb'],
    ['b*', 'bb', 'bbbbbb', 'bb'],
    ['b*', 'bb', 'aaaaa', 'bbabbabbabbabbabb'],
    ['a.*a', '(\\0)', 'aba\naba', '(aba)\n(aba)'],
    ['x', '\\\\', 'axb', 'a\\b'],
    ['nomatch', 'y', 'abc', 'abc'],
    ['', '-', 'a😀b', '-a-😀-b-'],
  ];
  for (const [pattern, substitution, input, want] of cases) {
    it(`${JSON.stringify(pattern)} → ${JSON.stringify(substitution)} on ${JSON.stringify(input)}`, () => {
      const rw = new RegexRewrite(create(RegexMatchAndSubstituteSchema, { pattern: create(RegexMatcherSchema, { regex: pattern || '(?:)' }), substitution }), 'x');
      assert.equal(rw.replaceAll(input), want);
    });
  }
});

describe('RouteAction path rewrites', () => {
  const t = table(withRoutes(`
  - { match: { prefix: /prefix/ }, route: { cluster: c, prefix_rewrite: / } }
  - { match: { prefix: /prefix }, route: { cluster: c, prefix_rewrite: / } }
  - { match: { path: /exact }, route: { cluster: c, prefix_rewrite: /other } }
  - { match: { prefix: /CI/, case_sensitive: false }, route: { cluster: c, prefix_rewrite: /ci-rewritten/ } }
  - { match: { safe_regex: { regex: "/re/[0-9]+" } }, route: { cluster: c, prefix_rewrite: /whole } }
  - { match: { path_separated_prefix: /psp }, route: { cluster: c, prefix_rewrite: /q } }
  - { match: { prefix: /service/ }, route: { cluster: c, regex_rewrite: { pattern: { regex: "^/service/([^/]+)(/.*)$" }, substitution: "\\\\2/instance/\\\\1" } } }
  - { match: { prefix: /one/ }, route: { cluster: c, regex_rewrite: { pattern: { regex: "^(.*?)one(.*)$" }, substitution: "\\\\1two\\\\2" } } }
  - { match: { prefix: /aaa/ }, route: { cluster: c, regex_rewrite: { pattern: { regex: "(?i)/xxx/" }, substitution: /yyy/ } } }
  - { match: { prefix: /none }, route: { cluster: c } }`));
  const cases: Array<[string, string | undefined]> = [
    // Envoy's documented example: two routes strip /prefix and /prefix/ alike.
    ['/prefix/etc?x=1', '/etc?x=1'],
    ['/prefix', '/'],
    ['/prefixetc', '/etc'],
    ['/exact?q', '/other?q'],
    ['/ci/a', '/ci-rewritten/a'],
    ['/re/42?k=v', '/whole?k=v'],
    ['/psp/x', '/q/x'],
    // regex_rewrite examples from the RouteAction.regex_rewrite documentation.
    ['/service/foo/v1/api', '/v1/api/instance/foo'],
    ['/service/foo/v1/api?a=b#f', '/v1/api/instance/foo?a=b#f'],
    ['/one/xxx/one/yyy/one/zzz', '/two/xxx/one/yyy/one/zzz'],
    ['/aaa/XxX/bbb', '/aaa/yyy/bbb'],
    ['/none/x', undefined],
  ];
  for (const [path, want] of cases) {
    it(`${path} → ${want}`, () => assert.equal(forward(t.select(req('h', path))).rewritePath(req('h', path)), want));
  }
});

describe('redirects (Envoy Http::Utility::newUri)', () => {
  const t = table(withRoutes(`
  - { match: { prefix: /https }, redirect: { https_redirect: true } }
  - { match: { prefix: /scheme }, redirect: { scheme_redirect: http } }
  - { match: { prefix: /port }, redirect: { port_redirect: 8443 } }
  - { match: { prefix: /host-port }, redirect: { host_redirect: new.example, port_redirect: 81 } }
  - { match: { prefix: /host }, redirect: { host_redirect: new.example, response_code: FOUND } }
  - { match: { prefix: /path-q }, redirect: { path_redirect: "/target?a=b", strip_query: true, response_code: SEE_OTHER } }
  - { match: { prefix: /path }, redirect: { path_redirect: /target, response_code: TEMPORARY_REDIRECT } }
  - { match: { prefix: /noslash }, redirect: { path_redirect: target, response_code: PERMANENT_REDIRECT } }
  - { match: { prefix: /strip }, redirect: { strip_query: true } }
  - { match: { prefix: /old/ }, redirect: { prefix_rewrite: /new/ } }
  - { match: { prefix: /rx/ }, redirect: { regex_rewrite: { pattern: { regex: "^/rx/(.*)$" }, substitution: "/moved/\\\\1" } } }
  - { match: { prefix: /empty/ }, redirect: { regex_rewrite: { pattern: { regex: ".*" }, substitution: "" } } }`));
  const xfp = (v: string): ReqOptions => ({ headers: { 'x-forwarded-proto': v } });
  const cases: Array<[string, string, string, ReqOptions, string, number]> = [
    ['https_redirect', 'a.com', '/https/x?q=1', xfp('http'), 'https://a.com/https/x?q=1', 301],
    ['https_redirect drops :80 of an http request', 'a.com:80', '/https', xfp('http'), 'https://a.com/https', 301],
    ['https_redirect keeps a non-default port', 'a.com:8080', '/https', xfp('http'), 'https://a.com:8080/https', 301],
    ['IPv6 host', '[::1]:80', '/https', xfp('http'), 'https://[::1]/https', 301],
    ['scheme_redirect drops :443 of an https request', 'a.com:443', '/scheme', { scheme: 'https', headers: { 'x-forwarded-proto': 'https' } }, 'http://a.com/scheme', 301],
    ['same scheme keeps the port', 'a.com:80', '/scheme', xfp('http'), 'http://a.com:80/scheme', 301],
    ['port_redirect replaces the port', 'a.com:80', '/port', xfp('http'), 'http://a.com:8443/port', 301],
    ['host_redirect and port_redirect', 'a.com', '/host-port/x', xfp('http'), 'http://new.example:81/host-port/x', 301],
    ['host_redirect keeps path and query', 'a.com:9', '/host/x?q', xfp('http'), 'http://new.example/host/x?q', 302],
    ['path_redirect with a query wins and is never stripped', 'a.com', '/path-q?x=1', xfp('http'), 'http://a.com/target?a=b', 303],
    ['path_redirect keeps the request query', 'a.com', '/path?x=1', xfp('http'), 'http://a.com/target?x=1', 307],
    ['path_redirect gets a leading /', 'a.com', '/noslash', xfp('http'), 'http://a.com/target', 308],
    ['strip_query', 'a.com', '/strip/x?y=1', xfp('http'), 'http://a.com/strip/x', 301],
    ['prefix_rewrite', 'a.com', '/old/x?y', xfp('http'), 'http://a.com/new/x?y', 301],
    ['regex_rewrite keeps the query', 'a.com', '/rx/a/b?y', xfp('http'), 'http://a.com/moved/a/b?y', 301],
    ['a regex_rewrite giving "" leaves the path', 'a.com', '/empty/x', xfp('http'), 'http://a.com/empty/x', 301],
    ['scheme comes from :scheme', 'a.com', '/strip', { scheme: 'https', headers: { 'x-forwarded-proto': 'https' } }, 'https://a.com/strip', 301],
  ];
  for (const [what, authority, path, o, location, status] of cases) {
    it(what, () => {
      const r = req(authority, path, o);
      const a = t.select(r)?.route.action;
      assert.equal(a?.kind, 'redirect');
      if (a?.kind !== 'redirect') return;
      assert.equal(a.location(r), location);
      assert.equal(a.status, status);
    });
  }
});

describe('require_tls', () => {
  const t = table(`
virtual_hosts:
- { name: all, domains: [all.com], require_tls: ALL, routes: [{ match: { prefix: / }, route: { cluster: c } }] }
- { name: ext, domains: [ext.com, "ext.com:8080"], require_tls: EXTERNAL_ONLY, routes: [{ match: { prefix: / }, route: { cluster: c } }] }`);
  const cases: Array<[string, string, Record<string, string>, string | undefined]> = [
    ['ALL redirects http', 'all.com', { 'x-forwarded-proto': 'http' }, 'https://all.com/p?q'],
    ['ALL lets https through', 'all.com', { 'x-forwarded-proto': 'https' }, undefined],
    ['EXTERNAL_ONLY redirects external http', 'ext.com:8080', { 'x-forwarded-proto': 'http' }, 'https://ext.com:8080/p?q'],
    ['EXTERNAL_ONLY lets internal http through', 'ext.com', { 'x-forwarded-proto': 'http', 'x-envoy-internal': 'true' }, undefined],
  ];
  for (const [what, host, headers, location] of cases) {
    it(what, () => {
      const r = req(host, '/p?q', { headers });
      const sel = t.select(r);
      assert.ok(sel);
      if (location === undefined) { assert.equal(sel.route.action.kind, 'forward'); return; }
      assert.equal(sel.route.action.kind, 'redirect');
      if (sel.route.action.kind !== 'redirect') return;
      assert.equal(sel.route.action.status, 301);
      assert.equal(sel.route.action.location(r), location);
      assert.equal(sel.route.requestHeaderMutations.length + sel.route.responseHeaderMutations.length, 0);
    });
  }
});

describe('forward action settings and direct responses', () => {
  const t = table(withRoutes(`
  - { match: { path: /defaults }, route: { cluster: c } }
  - match: { path: /set }
    route:
      cluster: c
      timeout: 2.5s
      idle_timeout: 0s
      host_rewrite_literal: upstream.internal
      retry_policy: { retry_on: 5xx, num_retries: 2 }
      request_mirror_policies: [{ cluster: shadow }]
      hash_policy: [{ header: { header_name: X-User } }, { connection_properties: { source_ip: true }, terminal: true }]
      cluster_not_found_response_code: NOT_FOUND
  - { match: { path: /auto }, route: { cluster: c, auto_host_rewrite: true, timeout: 0s } }
  - { match: { path: /text }, direct_response: { status: 503, body: { inline_string: "down" } } }
  - { match: { path: /bytes }, direct_response: { status: 200, body: { inline_bytes: "AAEC" } } }
  - { match: { path: /moved }, direct_response: { status: 301 } }`,
  `  retry_policy: { retry_on: connect-failure }
  request_mirror_policies: [{ cluster: vh-shadow }]`));
  const action = (p: string) => t.select(req('h', p))?.route.action;

  it('defaults: 15 s timeout, no idle timeout, inherited retry and mirror policies', () => {
    const a = action('/defaults');
    assert.equal(a?.kind, 'forward');
    if (a?.kind !== 'forward') return;
    assert.equal(a.timeoutMs, 15000);
    assert.equal(a.idleTimeoutMs, undefined);
    assert.equal(a.autoHostRewrite, false);
    assert.equal(a.hostRewriteLiteral, undefined);
    assert.equal(a.retryPolicy?.retryOn, RetryOn.CONNECT_FAILURE);
    assert.deepEqual(a.mirrors.map((m) => m.cluster), ['vh-shadow']);
    assert.equal(a.clusterNotFoundStatus, 503);
    assert.equal(a.pickCluster(0.5), 'c');
    assert.deepEqual(a.hashPolicy, []);
  });

  it('configured values, and route policies replace the virtual host ones', () => {
    const a = action('/set');
    if (a?.kind !== 'forward') return assert.fail('not forward');
    assert.equal(a.timeoutMs, 2500);
    assert.equal(a.idleTimeoutMs, 0);
    assert.equal(a.hostRewriteLiteral, 'upstream.internal');
    assert.equal(a.retryPolicy?.retryOn, RetryOn.FIVE_XX);
    assert.deepEqual(a.mirrors.map((m) => m.cluster), ['shadow']);
    assert.equal(a.clusterNotFoundStatus, 404);
    assert.equal(a.hashPolicy.length, 2);
    assert.equal(a.hashPolicy[1]?.terminal, true);
  });

  it('auto_host_rewrite and timeout 0 (disabled)', () => {
    const a = action('/auto');
    if (a?.kind !== 'forward') return assert.fail('not forward');
    assert.equal(a.autoHostRewrite, true);
    assert.equal(a.timeoutMs, 0);
  });

  it('direct responses carry status and body; 3xx gets the request URL as Location', () => {
    const text = action('/text');
    assert.deepEqual(text?.kind === 'direct' && [text.status, text.body?.toString(), text.location], [503, 'down', undefined]);
    const bytes = action('/bytes');
    assert.deepEqual(bytes?.kind === 'direct' && [...(bytes.body ?? [])], [0, 1, 2]);
    const moved = action('/moved');
    if (moved?.kind !== 'direct') return assert.fail('not direct');
    assert.equal(moved.body, undefined);
    assert.equal(moved.location?.(req('a.com', '/moved', { scheme: 'https' })), 'https://a.com/moved');
  });
});
