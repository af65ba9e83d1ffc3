import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../../src/envoy/registry.js';
import { table, withRoutes } from './fixtures.js';

const route = (r: string): string => withRoutes(`  - ${r}`);

/** [what, YAML, field path of the error, reason pattern] */
const CASES: Array<[string, string, string, RegExp]> = [
  ['invalid RE2 in a route match', route('{ match: { safe_regex: { regex: "(a" } }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.safe_regex.regex', /invalid RE2 regex "\(a".*missing closing \)/],
  ['look-ahead is not RE2', route('{ match: { safe_regex: { regex: "a(?=b)" } }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.safe_regex.regex', /invalid RE2/],
  ['empty regex', route('{ match: { safe_regex: { regex: "" } }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.safe_regex.regex', /must not be empty/],
  ['invalid RE2 in a header matcher', route('{ match: { prefix: /, headers: [{ name: x, safe_regex_match: { regex: "[" } }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.headers[0].safe_regex_match.regex', /invalid RE2/],
  ['invalid RE2 in a query matcher', route('{ match: { prefix: /, query_parameters: [{ name: q, string_match: { safe_regex: { regex: "*" } } }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.query_parameters[0].string_match.safe_regex.regex', /invalid RE2/],
  ['ignore_case with safe_regex', route('{ match: { prefix: /, headers: [{ name: x, string_match: { safe_regex: { regex: a }, ignore_case: true } }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.headers[0].string_match.ignore_case', /no effect for safe_regex/],
  ['empty string_match prefix', route('{ match: { prefix: /, headers: [{ name: x, string_match: { prefix: "" } }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.headers[0].string_match.prefix', /must not be empty/],
  ['string_match without a pattern', route('{ match: { prefix: /, headers: [{ name: x, string_match: { ignore_case: true } }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.headers[0].string_match', /one of exact/],
  ['empty header matcher name', route('{ match: { prefix: /, headers: [{ name: "", exact_match: a }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.headers[0].name', /must not be empty/],
  ['empty query parameter name', route('{ match: { prefix: /, query_parameters: [{ name: "" }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.query_parameters[0].name', /must not be empty/],
  ['path_separated_prefix with a trailing /', route('{ match: { path_separated_prefix: /a/ }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.path_separated_prefix', /trailing/],
  ['path_separated_prefix with a query', route('{ match: { path_separated_prefix: "/a?b" }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match.path_separated_prefix', /no \?/],
  ['no path specifier', route('{ match: { headers: [{ name: x }] }, route: { cluster: c } }'),
    'route_config.virtual_hosts[0].routes[0].match', /one of prefix, path/],
  ['no match', route('{ route: { cluster: c } }'), 'route_config.virtual_hosts[0].routes[0].match', /required/],
  ['no action', route('{ match: { prefix: / } }'), 'route_config.virtual_hosts[0].routes[0]', /one of route, redirect or direct_response/],
  ['no cluster', route('{ match: { prefix: / }, route: { timeout: 1s } }'), 'route_config.virtual_hosts[0].routes[0].route', /one of cluster or weighted_clusters/],
  ['cluster_header', route('{ match: { prefix: / }, route: { cluster_header: x-c } }'), 'route_config.virtual_hosts[0].routes[0].route.cluster_header', /not supported/],
  ['weights summing to 0', route('{ match: { prefix: / }, route: { weighted_clusters: { clusters: [{ name: a, weight: 0 }, { name: b, weight: 0 }] } } }'),
    'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters', /must be greater than 0/],
  ['weights over uint32', route('{ match: { prefix: / }, route: { weighted_clusters: { clusters: [{ name: a, weight: 4294967295 }, { name: b, weight: 1 }] } } }'),
    'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters', /exceeds 4294967295/],
  ['missing weight', route('{ match: { prefix: / }, route: { weighted_clusters: { clusters: [{ name: a, weight: 1 }, { name: b }] } } }'),
    'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1].weight', /required/],
  ['total_weight mismatch', route('{ match: { prefix: / }, route: { weighted_clusters: { total_weight: 100, clusters: [{ name: a, weight: 30 }, { name: b, weight: 60 }] } } }'),
    'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.total_weight', /add up to 100, got 90/],
  ['weighted cluster without name', route('{ match: { prefix: / }, route: { weighted_clusters: { clusters: [{ weight: 1 }] } } }'),
    'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[0].name', /At least one of name/],
  ['no weighted clusters', route('{ match: { prefix: / }, route: { weighted_clusters: { clusters: [] } } }'),
    'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters', /at least one/],
  ['prefix_rewrite and regex_rewrite', route('{ match: { prefix: / }, route: { cluster: c, prefix_rewrite: /x, regex_rewrite: { pattern: { regex: a }, substitution: b } } }'),
    'route_config.virtual_hosts[0].routes[0].route.regex_rewrite', /only one of prefix_rewrite, regex_rewrite/],
  ['substitution refers to a missing group', route('{ match: { prefix: / }, route: { cluster: c, regex_rewrite: { pattern: { regex: "(a)" }, substitution: "\\\\2" } } }'),
    'route_config.virtual_hosts[0].routes[0].route.regex_rewrite.substitution', /capture group 2 but the pattern has 1/],
  ['stray backslash in substitution', route('{ match: { prefix: / }, route: { cluster: c, regex_rewrite: { pattern: { regex: a }, substitution: "\\\\x" } } }'),
    'route_config.virtual_hosts[0].routes[0].route.regex_rewrite.substitution', /invalid rewrite pattern/],
  ['invalid hash policy', route('{ match: { prefix: / }, route: { cluster: c, hash_policy: [{ header: { header_name: "" } }] } }'),
    'route_config.virtual_hosts[0].routes[0].route.hash_policy[0].header.header_name', /must not be empty/],
  ['direct response status below 200', route('{ match: { prefix: / }, direct_response: { status: 100 } }'),
    'route_config.virtual_hosts[0].routes[0].direct_response.status', /\[200, 600\)/],
  ['direct response body too big', route(`{ match: { prefix: / }, direct_response: { status: 200, body: { inline_string: "${'x'.repeat(4097)}" } } }`),
    'route_config.virtual_hosts[0].routes[0].direct_response.body', /response body size is 4097 bytes; maximum is 4096/],
  ['direct response body from a file', route('{ match: { prefix: / }, direct_response: { status: 200, body: { filename: /etc/hosts } } }'),
    'route_config.virtual_hosts[0].routes[0].direct_response.body.filename', /not supported/],
  ['redirect regex in error', route('{ match: { prefix: / }, redirect: { regex_rewrite: { pattern: { regex: "(" }, substitution: x } } }'),
    'route_config.virtual_hosts[0].routes[0].redirect.regex_rewrite.pattern.regex', /invalid RE2/],
  ['formatter in a header value', route('{ match: { prefix: / }, route: { cluster: c }, request_headers_to_add: [{ header: { key: x-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS%" } }] }'),
    'route_config.virtual_hosts[0].routes[0].request_headers_to_add[0].header.value', /%DOWNSTREAM_REMOTE_ADDRESS% is not supported/],
  ['stray % in a header value', withRoutes('  - { match: { prefix: / }, route: { cluster: c } }', '', 'response_headers_to_add: [{ header: { key: x, value: "100%" } }]'),
    'route_config.response_headers_to_add[0].header.value', /Couldn't find valid command at position 3/],
  ['append and append_action together', route('{ match: { prefix: / }, route: { cluster: c }, request_headers_to_add: [{ header: { key: x, value: v }, append: true, append_action: ADD_IF_ABSENT }] }'),
    'route_config.virtual_hosts[0].routes[0].request_headers_to_add[0].append', /Both append and append_action/],
  ['adding a pseudo-header', route('{ match: { prefix: / }, route: { cluster: c }, request_headers_to_add: [{ header: { key: ":path", value: /x } }] }'),
    'route_config.virtual_hosts[0].routes[0].request_headers_to_add[0].header.key', /may not be modified/],
  ['removing Host', withRoutes('  - { match: { prefix: / }, route: { cluster: c } }', '  request_headers_to_remove: [Host]'),
    'route_config.virtual_hosts[0].request_headers_to_remove[0]', /may not be removed/],
  ['a header value with CRLF', route('{ match: { prefix: / }, route: { cluster: c }, response_headers_to_add: [{ header: { key: x, value: "a\\r\\nb: c" } }] }'),
    'route_config.virtual_hosts[0].routes[0].response_headers_to_add[0].header.value', /NUL, CR or LF/],
  ['weighted cluster header mutation', route('{ match: { prefix: / }, route: { weighted_clusters: { clusters: [{ name: a, weight: 1, request_headers_to_remove: [":authority"] }] } } }'),
    'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[0].request_headers_to_remove[0]', /may not be removed/],
  ['duplicate exact domain across virtual hosts', `
virtual_hosts:
- { name: a, domains: [a.com, b.com], routes: [] }
- { name: b, domains: [B.com], routes: [] }`, 'route_config.virtual_hosts[1].domains[0]', /duplicate of route_config.virtual_hosts\[0\].domains\[1\] \("b.com"\)/],
  ['duplicate suffix wildcard', `
virtual_hosts:
- { name: a, domains: ["*.a.com", "*.a.com"], routes: [] }`, 'route_config.virtual_hosts[0].domains[1]', /Only unique values for domains/],
  ['two * domains', `
virtual_hosts:
- { name: a, domains: ["*"], routes: [] }
- { name: b, domains: ["*"], routes: [] }`, 'route_config.virtual_hosts[1].domains[0]', /Only a single wildcard domain/],
  ['a virtual host without domains', 'virtual_hosts: [{ name: a, domains: [], routes: [] }]', 'route_config.virtual_hosts[0].domains', /at least one domain/],
  ['a virtual host without name', 'virtual_hosts: [{ domains: [a], routes: [] }]', 'route_config.virtual_hosts[0].name', /must not be empty/],
  ['an empty domain', 'virtual_hosts: [{ name: a, domains: [""], routes: [] }]', 'route_config.virtual_hosts[0].domains[0]', /must not be empty/],
];

describe('compileRouteConfig rejects what Envoy rejects, naming the field', () => {
  for (const [what, yaml, path, reason] of CASES) {
    it(what, () => {
      assert.throws(() => table(yaml), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.code, 'TSMESH_BAD_CONFIG');
        assert.equal(e.path, path);
        assert.match(e.reason, reason);
        return true;
      });
    });
  }

  it('without a base path, errors start at the RouteConfiguration fields', () => {
    assert.throws(() => table('virtual_hosts: [{ name: a, domains: [""] }]', ''), (e: unknown) => e instanceof ConfigError && e.path === 'virtual_hosts[0].domains[0]');
  });

  it('max_direct_response_body_size_bytes raises the limit', () => {
    assert.ok(table(withRoutes(`  - { match: { prefix: / }, direct_response: { status: 200, body: { inline_string: "${'x'.repeat(5000)}" } } }`, '', 'max_direct_response_body_size_bytes: 8192')));
  });
});

describe('cluster references for validate_clusters', () => {
  it('lists every cluster a forward route names, with its field path', () => {
    const t = table(withRoutes(`  - { match: { path: /a }, route: { cluster: one } }
  - { match: { path: /b }, route: { weighted_clusters: { clusters: [{ name: two, weight: 1 }, { name: three, weight: 1 }] } } }
  - { match: { path: /c }, direct_response: { status: 200 } }`, '', 'validate_clusters: false'));
    assert.deepEqual(t.clusterRefs, [
      { cluster: 'one', path: 'route_config.virtual_hosts[0].routes[0].route.cluster' },
      { cluster: 'two', path: 'route_config.virtual_hosts[0].routes[1].route.weighted_clusters.clusters[0].name' },
      { cluster: 'three', path: 'route_config.virtual_hosts[0].routes[1].route.weighted_clusters.clusters[1].name' },
    ]);
    assert.equal(t.validateClusters, false);
    assert.equal(table(withRoutes('  - { match: { path: /a }, route: { cluster: one } }')).validateClusters, undefined);
  });
});
