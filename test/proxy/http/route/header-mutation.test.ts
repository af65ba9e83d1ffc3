import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { applyRequestHeaderMutations, applyResponseHeaderMutations, parseHeaderValueFormat } from '../../../../src/proxy/http/route/header-mutation.js';
import { ConfigError } from '../../../../src/envoy/registry.js';
import { req, table, withRoutes } from './fixtures.js';

/** Runs one route's request_headers_to_add/remove (YAML) on `initial` and returns the header list. */
function mutate(routeYaml: string, initial: string[]): string[] {
  const t = table(withRoutes(`  - match: { prefix: / }
    route: { cluster: c }
${routeYaml}`));
  const sel = t.select(req('h', '/'))!;
  const h = new HeaderMap(initial.slice());
  applyRequestHeaderMutations(sel, h);
  return h.list;
}

const add = (key: string, value: string, more = ''): string => `      - { header: { key: ${key}, value: "${value}" }${more} }`;

describe('append_action (HeaderParser::evaluateHeaders)', () => {
  const cases: Array<[string, string, string[], string[]]> = [
    ['default APPEND_IF_EXISTS_OR_ADD appends', add('x-a', '2'), ['x-a', '1'], ['x-a', '1', 'x-a', '2']],
    ['APPEND_IF_EXISTS_OR_ADD adds', add('x-a', '2'), [], ['x-a', '2']],
    ['ADD_IF_ABSENT when present', add('x-a', '2', ', append_action: ADD_IF_ABSENT'), ['x-a', '1'], ['x-a', '1']],
    ['ADD_IF_ABSENT when absent', add('x-a', '2', ', append_action: ADD_IF_ABSENT'), [], ['x-a', '2']],
    ['OVERWRITE_IF_EXISTS_OR_ADD replaces all values', add('x-a', '3', ', append_action: OVERWRITE_IF_EXISTS_OR_ADD'), ['x-a', '1', 'x-a', '2'], ['x-a', '3']],
    ['OVERWRITE_IF_EXISTS_OR_ADD adds', add('x-a', '3', ', append_action: OVERWRITE_IF_EXISTS_OR_ADD'), [], ['x-a', '3']],
    ['OVERWRITE_IF_EXISTS when present', add('x-a', '3', ', append_action: OVERWRITE_IF_EXISTS'), ['x-a', '1'], ['x-a', '3']],
    ['OVERWRITE_IF_EXISTS when absent does nothing', add('x-a', '3', ', append_action: OVERWRITE_IF_EXISTS'), [], []],
    ['deprecated append: true', add('x-a', '2', ', append: true'), ['x-a', '1'], ['x-a', '1', 'x-a', '2']],
    ['deprecated append: false overwrites', add('x-a', '2', ', append: false'), ['x-a', '1'], ['x-a', '2']],
    ['an empty value is skipped', add('x-a', ''), [], []],
    ['keep_empty_value adds it', add('x-a', '', ', keep_empty_value: true'), [], ['x-a', '']],
    ['keys are lower-cased', add('X-Mixed', 'v'), [], ['x-mixed', 'v']],
    ['%% is a literal %', add('x-a', '100%%'), [], ['x-a', '100%']],
  ];
  for (const [what, adds, initial, want] of cases) {
    it(what, () => assert.deepEqual(mutate(`    request_headers_to_add:\n${adds}`, initial), want));
  }

  it('removals run before additions', () => {
    assert.deepEqual(mutate(`    request_headers_to_remove: [X-A]\n    request_headers_to_add:\n${add('x-a', 'new')}`, ['x-a', 'old', 'y', '1']), ['y', '1', 'x-a', 'new']);
  });

  it('conditions see the headers before this level adds anything; overwrites apply before appends', () => {
    const adds = [
      add('x-a', '1'),
      add('x-a', '2', ', append_action: ADD_IF_ABSENT'),
      add('x-b', 'o', ', append_action: OVERWRITE_IF_EXISTS'),
      add('x-c', 'c', ', append_action: OVERWRITE_IF_EXISTS_OR_ADD'),
    ].join('\n');
    assert.deepEqual(mutate(`    request_headers_to_add:\n${adds}`, []), ['x-c', 'c', 'x-a', '1', 'x-a', '2']);
  });
});

describe('levels: route, virtual host, route configuration', () => {
  const yaml = (mostSpecificWins: boolean): string => withRoutes(`  - match: { prefix: / }
    route: { cluster: c }
    request_headers_to_add: [{ header: { key: x-level, value: route }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }, { header: { key: x-all, value: route } }]
    response_headers_to_add: [{ header: { key: x-level, value: route }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }]
    response_headers_to_remove: [x-upstream]`,
  `  request_headers_to_add: [{ header: { key: x-level, value: vhost }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }, { header: { key: x-all, value: vhost } }]
  response_headers_to_add: [{ header: { key: x-level, value: vhost }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }]`,
  `most_specific_header_mutations_wins: ${mostSpecificWins}
request_headers_to_add: [{ header: { key: x-level, value: global }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }, { header: { key: x-all, value: global } }]
request_headers_to_remove: [x-secret]
response_headers_to_add: [{ header: { key: x-level, value: global }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }]`);

  it('by default the route configuration level is evaluated last and wins', () => {
    const sel = table(yaml(false)).select(req('h', '/'))!;
    const h = new HeaderMap(['x-secret', 's']);
    applyRequestHeaderMutations(sel, h);
    assert.deepEqual(h.getAll('x-level'), ['global']);
    assert.deepEqual(h.getAll('x-all'), ['route', 'vhost', 'global']);
    assert.equal(h.has('x-secret'), false);
    const r = new HeaderMap(['x-upstream', '1']);
    applyResponseHeaderMutations(sel, r);
    assert.deepEqual(r.list, ['x-level', 'global']);
  });

  it('most_specific_header_mutations_wins: the route level wins', () => {
    const sel = table(yaml(true)).select(req('h', '/'))!;
    const h = new HeaderMap();
    applyRequestHeaderMutations(sel, h);
    assert.deepEqual(h.getAll('x-level'), ['route']);
    assert.deepEqual(h.getAll('x-all'), ['global', 'vhost', 'route']);
  });

  it('weighted cluster mutations run first, before the route levels', () => {
    const t = table(withRoutes(`  - match: { prefix: / }
    request_headers_to_add: [{ header: { key: x-level, value: route }, append_action: ADD_IF_ABSENT }]
    route:
      weighted_clusters:
        clusters:
        - name: a
          weight: 1
          host_rewrite_literal: a.internal
          request_headers_to_add: [{ header: { key: x-level, value: cluster-a } }]
          response_headers_to_add: [{ header: { key: x-from, value: a } }]`));
    const sel = t.select(req('h', '/'))!;
    if (sel.route.action.kind !== 'forward') return assert.fail('not forward');
    const choice = sel.route.action.pickClusterEntry(0);
    assert.equal(choice.hostRewriteLiteral, 'a.internal');
    const h = new HeaderMap();
    applyRequestHeaderMutations(sel, h, choice);
    assert.deepEqual(h.getAll('x-level'), ['cluster-a']);
    const r = new HeaderMap();
    applyResponseHeaderMutations(sel, r, choice);
    assert.deepEqual(r.list, ['x-from', 'a']);
  });
});

describe('header value formats', () => {
  const ok: Array<[string, string]> = [['plain', 'plain'], ['50%%', '50%'], ['%%DOWNSTREAM%%', '%DOWNSTREAM%'], ['', '']];
  for (const [input, want] of ok) it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => assert.equal(parseHeaderValueFormat(input, 'p'), want));
  const bad: Array<[string, RegExp]> = [
    ['%DOWNSTREAM_REMOTE_ADDRESS%', /formatter %DOWNSTREAM_REMOTE_ADDRESS% is not supported/],
    ['x-%REQ(x-foo)%', /formatter %REQ\(x-foo\)% is not supported/],
    ['%START_TIME(%s):10%', /Couldn't find valid command|not supported/],
    ['50%', /Couldn't find valid command at position 2/],
    ['%lower%', /Couldn't find valid command at position 0/],
  ];
  for (const [input, re] of bad) {
    it(`${JSON.stringify(input)} is a config error`, () => assert.throws(() => parseHeaderValueFormat(input, 'p'), (e: unknown) => e instanceof ConfigError && re.test(e.message)));
  }
});
