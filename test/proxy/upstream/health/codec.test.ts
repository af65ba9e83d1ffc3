import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromJson, toBinary } from '@bufbuild/protobuf';
import { HealthCheck_PayloadSchema } from '../../../../src/envoy/generated/envoy/config/core/v3/health_check_pb.js';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from '../../../../src/proxy/upstream/health/grpc-health.js';
import { decodePayload, payloadMatches } from '../../../../src/proxy/upstream/health/payload.js';
import { judgeGrpc } from '../../../../src/proxy/upstream/health/grpc-probe.js';

const frame = (body: number[]): Buffer => Buffer.from([0, 0, 0, 0, body.length, ...body]);

describe('grpc.health.v1 messages', () => {
  it('encodes HealthCheckRequest with and without a service', () => {
    assert.deepEqual([...encodeHealthCheckRequest('')], [0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeHealthCheckRequest('svc')], [0, 0, 0, 0, 5, 0x0a, 3, 0x73, 0x76, 0x63]);
    const long = encodeHealthCheckRequest('x'.repeat(200));
    assert.deepEqual([...long.subarray(0, 8)], [0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01]);
  });
  const table: [string, Buffer, number | undefined][] = [
    ['SERVING', frame([0x08, 0x01]), 1],
    ['NOT_SERVING', frame([0x08, 0x02]), 2],
    ['an empty message (UNKNOWN)', frame([]), 0],
    ['unknown fields are skipped', frame([0x12, 0x02, 0x61, 0x62, 0x08, 0x01, 0x1d, 1, 2, 3, 4]), 1],
    ['a compressed frame', Buffer.from([1, 0, 0, 0, 2, 0x08, 0x01]), undefined],
    ['a short frame', Buffer.from([0, 0, 0, 0, 3, 0x08, 0x01]), undefined],
    ['two frames', Buffer.concat([frame([0x08, 0x01]), frame([0x08, 0x01])]), undefined],
    ['a truncated varint', frame([0x08, 0x81]), undefined],
    ['a bad wire type', frame([0x0b]), undefined],
    ['nothing', Buffer.alloc(0), undefined],
  ];
  for (const [name, body, want] of table) it(`decodes ${name}`, () => assert.equal(decodeHealthCheckResponse(body), want));

  it('judges a call: 200, grpc-status 0 and SERVING pass; anything else fails at once', () => {
    assert.equal(judgeGrpc(200, '0', frame([0x08, 0x01])).ok, true);
    for (const [http, grpc, body] of [[200, '0', frame([0x08, 0x02])], [200, '14', frame([0x08, 0x01])], [503, '0', frame([0x08, 0x01])], [200, undefined, frame([0x08, 0x01])], [200, '0', Buffer.alloc(0)]] as const) {
      const r = judgeGrpc(http, grpc, body);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.type, 'active');
    }
  });
});

describe('health-check payloads', () => {
  it('decodes hex text (either case) and binary', () => {
    assert.deepEqual([...decodePayload(fromJson(HealthCheck_PayloadSchema, { text: '000000fF' }), 'p')], [0, 0, 0, 255]);
    assert.deepEqual([...decodePayload(create(HealthCheck_PayloadSchema, { payload: { case: 'binary', value: Uint8Array.of(1, 2) } }), 'p')], [1, 2]);
    assert.ok(toBinary(HealthCheck_PayloadSchema, create(HealthCheck_PayloadSchema)).length === 0);
  });
  it('refuses bad hex and an empty payload, with the field path', () => {
    assert.throws(() => decodePayload(fromJson(HealthCheck_PayloadSchema, { text: 'abc' }), 'x.send'), /x\.send\.text: invalid hex string/);
    assert.throws(() => decodePayload(fromJson(HealthCheck_PayloadSchema, { text: 'zz' }), 'x.send'), /x\.send\.text/);
    assert.throws(() => decodePayload(create(HealthCheck_PayloadSchema), 'x.send'), /x\.send: one of text, binary is required/);
  });
  const b = (s: string) => Buffer.from(s);
  const table: [string, string[], string, boolean][] = [
    ['nothing expected', [], 'anything', true],
    ['one block', ['PONG'], '+PONG\r\n', true],
    ['blocks in order, apart', ['AB', 'CD'], 'xxABxxCDxx', true],
    ['blocks out of order', ['CD', 'AB'], 'ABCD', false],
    ['a block missing', ['AB', 'EF'], 'ABCD', false],
    ['blocks may not overlap', ['ABC', 'CD'], 'ABCD', false],
  ];
  for (const [name, expected, data, want] of table) it(`matches: ${name}`, () => assert.equal(payloadMatches(expected.map(b), b(data)), want));
});
