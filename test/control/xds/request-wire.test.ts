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
