import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema } from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { NodeSchema } from '../../../src/envoy/generated/envoy/config/core/v3/base_pb.js';
import { StatusSchema } from '../../../src/envoy/generated/google/rpc/status_pb.js';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { decodeDiscoveryRequest } from '../../../src/control/xds/request-wire.js';
import { Subscription } from '../../../src/control/xds/subscription.js';

const clusters = (n: number, tag = ''): string[] => Array.from({ length: n }, (_, i) => `outbound|9080|${tag}|svc-${i}.default.svc.cluster.local`);

test('request-wire: decodes exactly as fromBinary (table)', () => {
  const rows: [string, Parameters<typeof create<typeof DiscoveryRequestSchema>>[1]][] = [
    ['empty', {}],
    ['no names', { typeUrl: TYPE_URL.cluster, versionInfo: 'v1', responseNonce: 'n1' }],
    ['few names (decoded each time)', { typeUrl: TYPE_URL.route, resourceNames: ['80', '9080'], responseNonce: 'a' }],
    ['many names, node and NACK', {
      typeUrl: TYPE_URL.endpoint, versionInfo: 'v2', resourceNames: clusters(300), responseNonce: 'z',
      node: create(NodeSchema, { id: 'sidecar~10.0.0.1~a.default~default.svc.cluster.local', cluster: 'a' }),
      errorDetail: create(StatusSchema, { code: 3, message: 'bad' }),
    }],
  ];
  for (const [name, init] of rows) {
    const bytes = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init));
    const got = decodeDiscoveryRequest(bytes);
    assert.ok(equals(DiscoveryRequestSchema, got, fromBinary(DiscoveryRequestSchema, bytes)), name);
    // The second time the names come from the shared list: still the same request.
    assert.ok(equals(DiscoveryRequestSchema, decodeDiscoveryRequest(bytes), fromBinary(DiscoveryRequestSchema, bytes)), `${name} (again)`);
  }
});

test('request-wire: names split by other fields keep their order', () => {
  const names = clusters(40);
  const a = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { resourceNames: names.slice(0, 20) }));
  const b = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TYPE_URL.endpoint, resourceNames: names.slice(20) }));
  const req = decodeDiscoveryRequest(Buffer.concat([a, b])); // protobuf: repeated fields of two parts concatenate
  assert.deepEqual([...req.resourceNames], names);
  assert.equal(req.typeUrl, TYPE_URL.endpoint);
});

test('request-wire: equal long name lists are one frozen array; other lists are not it', () => {
  const ack = (nonce: string, names: string[]) => toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TYPE_URL.endpoint, resourceNames: names, responseNonce: nonce }));
  const r1 = decodeDiscoveryRequest(ack('1', clusters(200)));
  const r2 = decodeDiscoveryRequest(ack('2', clusters(200)));
  assert.equal(r1.resourceNames, r2.resourceNames);
  assert.ok(Object.isFrozen(r1.resourceNames));
  assert.equal(r2.responseNonce, '2');
  const r3 = decodeDiscoveryRequest(ack('3', clusters(200, 'v1')));
  assert.notEqual(r3.resourceNames, r1.resourceNames);
  assert.equal(r3.resourceNames[0], 'outbound|9080|v1|svc-0.default.svc.cluster.local');
});

test('request-wire: malformed bytes are refused as fromBinary refuses them', () => {
  for (const bad of [Uint8Array.of(0x1a, 0x05, 0x61), Uint8Array.of(0x0a, 0xff), Uint8Array.of(0x1b)]) {
    assert.throws(() => decodeDiscoveryRequest(bad));
  }
});

test('subscription: the same shared list again is no change; another list is', () => {
  const bytes = (names: string[]) => toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TYPE_URL.endpoint, resourceNames: names }));
  const sub = new Subscription(TYPE_URL.endpoint);
  assert.equal(sub.replace(decodeDiscoveryRequest(bytes(clusters(100))).resourceNames), true);
  assert.equal(sub.replace(decodeDiscoveryRequest(bytes(clusters(100))).resourceNames), false);
  assert.equal(sub.replace(decodeDiscoveryRequest(bytes(clusters(99))).resourceNames), true);
  assert.equal(sub.names.size, 99);
  assert.equal(sub.replace(decodeDiscoveryRequest(bytes(clusters(100))).resourceNames), true, 'back to the first list');
  assert.equal(sub.names.size, 100);
  // A Delta update in between: the same list again must be compared, not skipped.
  sub.update(false, [], ['outbound|9080||svc-0.default.svc.cluster.local']);
  assert.equal(sub.replace(decodeDiscoveryRequest(bytes(clusters(100))).resourceNames), true);
});

test('request-wire: a known list is recognised by its bytes; lists that only start like it are decoded whole (table)', () => {
  const known = clusters(150, 'known');
  const enc = (init: Parameters<typeof create<typeof DiscoveryRequestSchema>>[1]) => toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init));
  const first = decodeDiscoveryRequest(enc({ typeUrl: TYPE_URL.endpoint, resourceNames: known, responseNonce: '1' }));
  const extra = 'outbound|80||extra.default.svc.cluster.local';
  const rows: [string, Uint8Array, boolean][] = [
    ['same list, other version and nonce', enc({ typeUrl: TYPE_URL.endpoint, versionInfo: 'v9', resourceNames: known, responseNonce: '2' }), true],
    ['same list with node and NACK', enc({ typeUrl: TYPE_URL.endpoint, resourceNames: known, node: create(NodeSchema, { id: 'n' }), errorDetail: create(StatusSchema, { code: 3, message: 'x' }) }), true],
    ['a prefix of the list', enc({ typeUrl: TYPE_URL.endpoint, resourceNames: known.slice(0, 149) }), false],
    ['the list and one more name', enc({ typeUrl: TYPE_URL.endpoint, resourceNames: [...known, extra] }), false],
    ['the list, other fields, then one more name', Buffer.concat([enc({ resourceNames: known, typeUrl: TYPE_URL.endpoint }), enc({ responseNonce: 'z', resourceNames: [extra] })]), false],
    ['the list with its last name changed', enc({ typeUrl: TYPE_URL.endpoint, resourceNames: [...known.slice(0, 149), extra] }), false],
  ];
  for (const [name, bytes, shared] of rows) {
    const got = decodeDiscoveryRequest(bytes);
    assert.ok(equals(DiscoveryRequestSchema, got, fromBinary(DiscoveryRequestSchema, bytes)), name);
    assert.equal(got.resourceNames === first.resourceNames, shared, `${name}: shares the known list`);
  }
  // A known list's bytes followed by a malformed tail are still refused.
  const ok = enc({ typeUrl: TYPE_URL.endpoint, resourceNames: known });
  assert.throws(() => decodeDiscoveryRequest(Buffer.concat([ok, Uint8Array.of(0x22, 0x05, 0x61)])));
});
