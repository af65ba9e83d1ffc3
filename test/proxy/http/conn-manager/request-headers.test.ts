import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../../../src/proxy/http/headers.js';
import { prepareRequestHeaders, stripHopByHop } from '../../../../src/proxy/http/conn-manager/request-headers.js';
import type { RequestHeaders } from '../../../../src/proxy/http/stream.js';

const base = { useRemoteAddress: false, skipXffAppend: false, via: '', generateRequestId: true, preserveExternalRequestId: false };
const req = (list: string[]): RequestHeaders => ({ method: 'GET', path: '/', authority: 'a', scheme: 'http', headers: new HeaderMap(list), protocol: 'HTTP/1.1' });

test('hop-by-hop headers and the ones Connection names are removed', () => {
  const h = new HeaderMap(['connection', 'keep-alive, X-Custom', 'keep-alive', 'timeout=5', 'x-custom', '1', 'upgrade', 'h2c', 'transfer-encoding', 'chunked', 'accept', '*/*', 'te', 'trailers']);
  stripHopByHop(h);
  assert.deepEqual(h.list, ['accept', '*/*', 'te', 'trailers']);
});

const cases: [string, Partial<typeof base>, string[], (r: RequestHeaders, id: string) => void][] = [
  ['internal hop keeps XFF and an existing request id', {}, ['x-forwarded-for', '10.0.0.1', 'x-request-id', 'abc'], (r, id) => {
    assert.equal(r.headers.get('x-forwarded-for'), '10.0.0.1');
    assert.equal(id, 'abc');
    assert.equal(r.headers.get('x-forwarded-proto'), 'http');
  }],
  ['edge appends the peer to XFF and regenerates the request id', { useRemoteAddress: true }, ['x-forwarded-for', '10.0.0.1', 'x-request-id', 'abc', 'x-envoy-force-trace', '1'], (r, id) => {
    assert.equal(r.headers.get('x-forwarded-for'), '10.0.0.1,192.0.2.9');
    assert.notEqual(id, 'abc');
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers.get('x-envoy-force-trace'), undefined, 'x-envoy-* from outside is dropped');
  }],
  ['edge with preserve_external_request_id keeps it', { useRemoteAddress: true, preserveExternalRequestId: true }, ['x-request-id', 'abc'], (_r, id) => assert.equal(id, 'abc')],
  ['skip_xff_append', { useRemoteAddress: true, skipXffAppend: true }, [], (r) => assert.equal(r.headers.get('x-forwarded-for'), undefined)],
  ['via is appended', { via: 'tsmesh' }, ['via', '1.1 other'], (r) => assert.equal(r.headers.get('via'), '1.1 other,tsmesh')],
  ['no request id when generation is off', { generateRequestId: false }, [], (r, id) => { assert.equal(id, ''); assert.equal(r.headers.get('x-request-id'), undefined); }],
];

for (const [name, cfg, list, check] of cases) {
  test(`prepareRequestHeaders: ${name}`, () => {
    const r = req(list);
    const id = prepareRequestHeaders({ ...base, ...cfg }, '192.0.2.9', r);
    check(r, id);
  });
}

test('stripHostPort: strip_any_host_port and strip_matching_host_port as Envoy', async () => {
  const { stripHostPort } = await import('../../../../src/proxy/http/conn-manager/request-headers.js');
  const table: [string, 'none' | 'matching' | 'any', number, string][] = [
    ['reviews:9080', 'none', 9080, 'reviews:9080'],
    ['reviews:9080', 'any', 1, 'reviews'],
    ['reviews:9080', 'matching', 9080, 'reviews'],
    ['reviews:9080', 'matching', 15001, 'reviews:9080'],
    ['reviews', 'any', 80, 'reviews'],
    ['[::1]:8080', 'any', 0, '[::1]'],
    ['[::1]', 'any', 0, '[::1]'],
    ['host:abc', 'any', 0, 'host:abc'],
    ['host:', 'any', 0, 'host:'],
  ];
  for (const [authority, mode, port, want] of table) assert.equal(stripHostPort(authority, mode, port), want, `${authority} ${mode} ${port}`);
});
