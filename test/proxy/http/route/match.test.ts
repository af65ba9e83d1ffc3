import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oneRoute, req, table, withRoutes, type ReqOptions } from './fixtures.js';

type Case = [what: string, path: string, want: boolean, opts?: ReqOptions];

function run(match: string, cases: Case[]): void {
  const t = oneRoute(match);
  for (const [what, path, want, opts] of cases) {
    it(`${match} ${what}: ${path}`, () => assert.equal(t.select(req('h', path, opts)) !== undefined, want));
  }
}

describe('path matching', () => {
  run('{ prefix: /foo }', [
    ['itself', '/foo', true], ['longer', '/foobar', true], ['child', '/foo/x', true], ['with query', '/foo?x=1', true],
    ['shorter', '/fo', false], ['case differs', '/FOO', false], ['prefix only in query', '/f?foo', false],
  ]);
  run('{ prefix: "" }', [['empty prefix matches all', '/anything', true], ['even *', '*', true]]);
  run('{ prefix: "/foo?" }', [['never: the query is not part of the path', '/foo?x', false]]);
  run('{ prefix: /FoO, case_sensitive: false }', [['ASCII case folded', '/fOo/bar', true], ['other', '/fo', false]]);
  run('{ path: /foo }', [
    ['exact', '/foo', true], ['query ignored', '/foo?x=1', true], ['fragment ignored', '/foo#frag', true],
    ['trailing slash', '/foo/', false], ['case', '/FOO', false], ['longer', '/foobar', false],
  ]);
  run('{ path: /foo, case_sensitive: false }', [['case folded', '/FOO?q', true], ['longer', '/FOOx', false]]);
  run('{ safe_regex: { regex: "/v[0-9]+/.*" } }', [
    ['full match', '/v1/x', true], ['query ignored', '/v12/x?y=1', true], ['not anchored at start', 'x/v1/x', false],
    ['no digits', '/v/x', false], ['case_sensitive does not apply', '/V1/x', false],
  ]);
  run('{ safe_regex: { regex: "/api" } }', [['must match the whole path', '/api/x', false], ['whole', '/api', true]]);
  run('{ safe_regex: { google_re2: {}, regex: "(?i)/API/.+" } }', [['inline flags work', '/api/x', true]]);
  run('{ path_separated_prefix: /foo }', [
    ['itself', '/foo', true], ['segment', '/foo/bar', true], ['not a segment boundary', '/foobar', false],
    ['query', '/foo?x', true], ['fragment', '/foo#x', true], ['shorter', '/fo', false],
  ]);
  run('{ path_separated_prefix: /Foo, case_sensitive: false }', [['case folded', '/fOO/x', true]]);
});

describe('header matching', () => {
  const h = (hs: Record<string, string | string[]>): ReqOptions => ({ headers: hs });
  run('{ prefix: /, headers: [{ name: x-a, exact_match: v }] }', [
    ['exact', '/', true, h({ 'x-a': 'v' })], ['different', '/', false, h({ 'x-a': 'w' })], ['missing', '/', false],
    ['repeated headers are joined with ,', '/', false, h({ 'x-a': ['v', 'v'] })],
  ]);
  run('{ prefix: /, headers: [{ name: X-A, string_match: { exact: "v,w" } }] }', [
    ['name is lower-cased; values joined with ,', '/', true, h({ 'x-a': ['v', 'w'] })],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, exact_match: "" }] }', [
    ['empty exact_match matches any value', '/', true, h({ 'x-a': 'anything' })], ['but not a missing header', '/', false],
  ]);
  run('{ prefix: /, headers: [{ name: x-a }] }', [['no specifier = present', '/', true, h({ 'x-a': '' })], ['absent', '/', false]]);
  run('{ prefix: /, headers: [{ name: x-a, present_match: true }] }', [['present', '/', true, h({ 'x-a': '1' })], ['absent', '/', false]]);
  run('{ prefix: /, headers: [{ name: x-a, present_match: false }] }', [['present', '/', false, h({ 'x-a': '1' })], ['absent', '/', true]]);
  run('{ prefix: /, headers: [{ name: x-a, present_match: true, invert_match: true }] }', [['present', '/', false, h({ 'x-a': '1' })], ['absent', '/', true]]);
  run('{ prefix: /, headers: [{ name: x-a, exact_match: v, invert_match: true }] }', [
    ['inverted miss', '/', true, h({ 'x-a': 'w' })], ['inverted hit', '/', false, h({ 'x-a': 'v' })],
    ['a missing header never matches, even inverted', '/', false],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, exact_match: v, invert_match: true, treat_missing_header_as_empty: true }] }', [
    ['missing treated as empty, then inverted', '/', true],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, range_match: { start: -10, end: 0 } }] }', [
    ['in range', '/', true, h({ 'x-a': '-1' })], ['end is exclusive', '/', false, h({ 'x-a': '0' })],
    ['start is inclusive', '/', true, h({ 'x-a': '-10' })], ['surrounding spaces allowed (SimpleAtoi)', '/', true, h({ 'x-a': ' -5 ' })],
    ['not a number', '/', false, h({ 'x-a': '-5x' })], ['overflows int64', '/', false, h({ 'x-a': '-99999999999999999999' })],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, range_match: { start: 0, end: 10 }, invert_match: true, treat_missing_header_as_empty: true }] }', [
    ['Envoy doc example: missing → empty → not in range → inverted', '/', true],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, prefix_match: ab }, { name: x-b, suffix_match: yz }, { name: x-c, contains_match: mm }] }', [
    ['all three', '/', true, h({ 'x-a': 'abc', 'x-b': 'xyz', 'x-c': 'hmmm' })],
    ['one fails', '/', false, h({ 'x-a': 'abc', 'x-b': 'xyz', 'x-c': 'hm' })],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, safe_regex_match: { regex: "\\\\d{3}" } }] }', [
    ['full match', '/', true, h({ 'x-a': '123' })], ['Envoy doc: \\d{3} does not match 1234', '/', false, h({ 'x-a': '1234' })],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, string_match: { prefix: AB, ignore_case: true } }] }', [
    ['ignore_case', '/', true, h({ 'x-a': 'abc' })],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, string_match: { suffix: Z, ignore_case: true } }, { name: x-b, string_match: { contains: MID, ignore_case: true } }] }', [
    ['suffix and contains ignore_case', '/', true, h({ 'x-a': 'xyz', 'x-b': 'a-mId-b' })],
  ]);
  run('{ prefix: /, headers: [{ name: x-a, string_match: { exact: Straße, ignore_case: true } }] }', [
    ['only ASCII folds', '/', true, h({ 'x-a': 'STRAße' })], ['non-ASCII does not fold', '/', false, h({ 'x-a': 'STRASSE' })],
  ]);
  run('{ prefix: /, headers: [{ name: ":method", exact_match: POST }, { name: ":authority", exact_match: h }] }', [
    ['pseudo-headers read the request', '/', true, { method: 'POST', headers: {} }],
    ['wrong method', '/', false, { method: 'GET' }],
  ]);
  it(':scheme and :path pseudo-headers', () => {
    const t = oneRoute('{ prefix: /, headers: [{ name: ":scheme", exact_match: https }, { name: ":path", contains_match: "?q" }] }');
    assert.ok(t.select(req('a.com', '/x?q=1', { scheme: 'https' })));
    assert.equal(t.select(req('a.com', '/x?q=1')), undefined);
  });
});

describe('query parameter matching', () => {
  run('{ prefix: /, query_parameters: [{ name: a, string_match: { exact: "1" } }] }', [
    ['exact', '/x?a=1', true], ['other value', '/x?a=2', false], ['missing', '/x?b=1', false], ['no query', '/x', false],
    ['first value only', '/x?a=2&a=1', false], ['first value only (hit)', '/x?a=1&a=2', true],
    ['percent-decoded value', '/x?a=%31', true], ['percent-decoded name', '/x?%61=1', true], ['later parameter', '/x?b=2&a=1', true],
    ['+ is not a space but a plus', '/x?a=+1', false],
  ]);
  run('{ prefix: /, query_parameters: [{ name: a }] }', [['no specifier: present', '/?a', true], ['absent', '/?b', false]]);
  run('{ prefix: /, query_parameters: [{ name: a, present_match: true }] }', [['present without =', '/?a', true], ['absent', '/?ab=1', false]]);
  run('{ prefix: /, query_parameters: [{ name: a, present_match: false }] }', [['present', '/?a=1', false], ['absent', '/?b=1', true]]);
  run('{ prefix: /, query_parameters: [{ name: q, string_match: { prefix: AB, ignore_case: true } }, { name: r, string_match: { safe_regex: { regex: "[0-9]+" } } }] }', [
    ['both', '/s?q=abc&r=42', true], ['regex must match whole value', '/s?q=abc&r=42x', false],
  ]);
  run('{ prefix: /, query_parameters: [{ name: q, string_match: { exact: "a b/é" } }] }', [
    ['UTF-8 percent-decoding', '/?q=a%20b%2F%C3%A9', true],
  ]);
});

describe('grpc and rule order', () => {
  run('{ prefix: /, grpc: {} }', [
    ['application/grpc', '/', true, { headers: { 'content-type': 'application/grpc' } }],
    ['application/grpc+proto', '/', true, { headers: { 'content-type': 'application/grpc+proto' } }],
    ['grpc-web is not gRPC', '/', false, { headers: { 'content-type': 'application/grpc-web' } }],
    ['no content-type', '/', false],
  ]);

  it('the first matching route wins, in configuration order', () => {
    const t = table(withRoutes(`
  - { name: specific, match: { path: /a/b }, direct_response: { status: 200 } }
  - { name: hdr, match: { prefix: /a, headers: [{ name: x, exact_match: "1" }] }, direct_response: { status: 200 } }
  - { name: broad, match: { prefix: /a }, direct_response: { status: 200 } }
  - { name: never, match: { path: /a/c }, direct_response: { status: 200 } }`));
    const name = (p: string, o?: ReqOptions): string | undefined => t.select(req('h', p, o))?.route.name;
    assert.equal(name('/a/b'), 'specific');
    assert.equal(name('/a/c'), 'broad');
    assert.equal(name('/a/c', { headers: { x: '1' } }), 'hdr');
    assert.equal(name('/b'), undefined);
  });

  it('select() returns the same shared selection object (no per-request allocation)', () => {
    const t = oneRoute('{ prefix: / }');
    const a = t.select(req('h', '/x'));
    assert.ok(a);
    assert.equal(t.select(req('h', '/y')), a);
  });
});
