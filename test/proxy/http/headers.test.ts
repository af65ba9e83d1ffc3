import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { stripHopByHop } from '../../../src/proxy/http/conn-manager/request-headers.js';

const L = ['a', '1', 'x-envoy-b', '2', 'a', '3', 'c', '4', 'x-envoy-d', '5', 'a', '6'];

test('set, remove, removePrefix and removeWhere edit in place and keep the order of the rest', () => {
  const cases: [string, (h: HeaderMap) => unknown, unknown, string[]][] = [
    ['set replaces the first and drops later repeats', (h) => h.set('a', 'x'), undefined, ['a', 'x', 'x-envoy-b', '2', 'c', '4', 'x-envoy-d', '5']],
    ['set of an absent name appends', (h) => h.set('z', 'x'), undefined, [...L, 'z', 'x']],
    ['set of the last field', (h) => h.set('x-envoy-d', 'x'), undefined, ['a', '1', 'x-envoy-b', '2', 'a', '3', 'c', '4', 'x-envoy-d', 'x', 'a', '6']],
    ['remove every value', (h) => h.remove('a'), true, ['x-envoy-b', '2', 'c', '4', 'x-envoy-d', '5']],
    ['remove of an absent name', (h) => h.remove('z'), false, L],
    ['removePrefix', (h) => h.removePrefix('x-envoy-'), undefined, ['a', '1', 'a', '3', 'c', '4', 'a', '6']],
    ['removeWhere', (h) => h.removeWhere((n) => n !== 'c'), undefined, ['c', '4']],
    ['removeWhere of all', (h) => h.removeWhere(() => true), undefined, []],
  ];
  for (const [name, edit, ret, want] of cases) {
    const h = new HeaderMap(L.slice());
    assert.equal(edit(h), ret, name);
    assert.deepEqual(h.list, want, name);
  }
});

test('stripHopByHop: Connection: keep-alive and close name nothing else; other options are dropped too', () => {
  const cases: [string[], string[]][] = [
    [['connection', 'keep-alive', 'keep-alive', 'timeout=5', 'a', '1'], ['a', '1']],
    [['a', '1', 'connection', 'close'], ['a', '1']],
    [['connection', 'Keep-Alive, X-Foo', 'x-foo', '1', 'a', '2', 'x-foo', '3'], ['a', '2']],
    [['connection', 'x-foo', 'connection', 'x-bar', 'x-bar', '1', 'x-foo', '2', 'b', '3'], ['b', '3']],
    [['upgrade', 'h2c', 'proxy-connection', 'x', 'transfer-encoding', 'chunked', 'te', 'trailers'], ['te', 'trailers']],
    [['a', '1'], ['a', '1']],
  ];
  for (const [list, want] of cases) {
    const h = new HeaderMap(list.slice());
    stripHopByHop(h);
    assert.deepEqual(h.list, want, JSON.stringify(list));
  }
});
