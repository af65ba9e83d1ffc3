import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, fromJson, toBinary, toJson, type JsonObject } from '@bufbuild/protobuf';
import { AnySchema, StructSchema, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import {
  decodeExchangePayload, encodeExchangeFrame, ExchangedPeerCache, ExchangeReader, EXCHANGE_HEADER_BYTES, MAX_EXCHANGE_PAYLOAD_BYTES, type ExchangeReadResult,
} from '../../../src/proxy/tcp/peer-exchange/frame.js';
import { compileClusterFilters, parseMetadataExchangeConfig, METADATA_EXCHANGE_TYPE_URL } from '../../../src/proxy/tcp/peer-exchange/config.js';
import { TypedStructSchema } from '../../../src/envoy/generated/xds/type/v3/typed_struct_pb.js';
import { FilterSchema as ClusterFilterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/filter_pb.js';
import { ConfigError } from '../../../src/envoy/registry.js';

const MD = { NAME: 'db-0', NAMESPACE: 'shop', WORKLOAD_NAME: 'db', LABELS: { app: 'db', version: 'v1' }, SERVICE_ACCOUNT: 'db' };
const ID = 'sidecar~10.0.0.7~db-0.shop~shop.svc.cluster.local';

/** The frame as Istio's filter builds it, written here from the protocol's description, not our encoder. */
function istioFrame(md: object, id: string): Buffer {
  const st = fromJson(StructSchema, { 'x-envoy-peer-metadata': md, 'x-envoy-peer-metadata-id': id } as never);
  const payload = toBinary(AnySchema, anyPack(StructSchema, st));
  const h = Buffer.alloc(8);
  h.writeUInt32BE(1025705063, 0); // 0x3D230467
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

test('a frame is the magic and the payload length in network byte order, then Any(Struct) of metadata and id', () => {
  const f = encodeExchangeFrame(MD, ID);
  assert.deepEqual([...f.subarray(0, 4)], [0x3d, 0x23, 0x04, 0x67]);
  assert.equal(f.readUInt32BE(4), f.length - EXCHANGE_HEADER_BYTES);
  const any = fromBinary(AnySchema, f.subarray(8));
  assert.equal(any.typeUrl, 'type.googleapis.com/google.protobuf.Struct');
  assert.deepEqual(toJson(StructSchema, anyUnpack(any, StructSchema)!), { 'x-envoy-peer-metadata': MD, 'x-envoy-peer-metadata-id': ID });
  // Istio's own framing decodes to the same peer.
  assert.deepEqual(decodeExchangePayload(istioFrame(MD, ID).subarray(8)), { id: ID, metadata: MD });
  assert.deepEqual(decodeExchangePayload(f.subarray(8)), { id: ID, metadata: MD });
});

test('a frame split at every byte, with application bytes in the same chunk, is read whole and loses nothing', () => {
  const app = Buffer.from('\x00hello app\r\n\xff');
  const wire = Buffer.concat([istioFrame(MD, ID), app]);
  for (let cut = 0; cut <= wire.length; cut++) {
    for (const chunks of [[wire.subarray(0, cut), wire.subarray(cut)], [...wire.subarray(0, cut)].map((b) => Buffer.from([b])).concat([wire.subarray(cut)])]) {
      const r = new ExchangeReader();
      let last: ExchangeReadResult = { kind: 'more' };
      const after: Buffer[] = [];
      for (const c of chunks) {
        if (last.kind === 'more') last = r.push(c);
        else after.push(c);
      }
      assert.equal(last.kind, 'frame', `cut ${cut}`);
      if (last.kind !== 'frame') continue;
      assert.deepEqual(last.peer, { id: ID, metadata: MD });
      assert.deepEqual(Buffer.concat([last.rest, ...after]), app, `cut ${cut}`);
    }
  }
});

test('a stream that does not start with the magic is passed on whole, decided at the first differing byte', () => {
  const table: [string, Buffer[], number][] = [
    ['HTTP', [Buffer.from('GET / HTTP/1.1\r\n')], 16],
    ['first byte differs', [Buffer.from([0x3e])], 1],
    ['magic prefix, then differs', [Buffer.from([0x3d, 0x23]), Buffer.from([0x05, 0x67, 0, 0, 0, 1, 9])], 9],
    ['whole wrong magic', [Buffer.from([0x67, 0x04, 0x23, 0x3d, 0, 0, 0, 0])], 8],
  ];
  for (const [name, chunks, total] of table) {
    const r = new ExchangeReader();
    let got: ExchangeReadResult = { kind: 'more' };
    for (const c of chunks) got = r.push(c);
    assert.equal(got.kind, 'absent', name);
    if (got.kind === 'absent') assert.deepEqual(got.rest, Buffer.concat(chunks), name);
    assert.equal(got.kind === 'absent' && got.rest.length, total, name);
  }
  assert.equal(new ExchangeReader().push(Buffer.from([0x3d, 0x23, 0x04])).kind, 'more');
});

test('a header claiming more than the bound is refused before anything is buffered; a payload that is no Any is passed on', () => {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(0x3d230467, 0);
  h.writeUInt32BE(MAX_EXCHANGE_PAYLOAD_BYTES + 1, 4);
  assert.deepEqual(new ExchangeReader().push(h), { kind: 'oversize', claimed: MAX_EXCHANGE_PAYLOAD_BYTES + 1 });
  // 0xff... is no valid protobuf: Istio drops only the header and passes the rest on.
  const junk = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  h.writeUInt32BE(junk.length, 4);
  const r = new ExchangeReader().push(Buffer.concat([h, junk, Buffer.from('app')]));
  assert.equal(r.kind, 'frame');
  if (r.kind === 'frame') { assert.equal(r.peer, undefined); assert.deepEqual(r.rest, Buffer.concat([junk, Buffer.from('app')])); }
});

test('an Any without a Struct, or a Struct without the keys, is a peer with no metadata', () => {
  assert.deepEqual(decodeExchangePayload(toBinary(AnySchema, create(AnySchema, { typeUrl: 'type.googleapis.com/google.protobuf.Duration', value: new Uint8Array([8, 1]) }))), { id: '', metadata: {} });
  assert.deepEqual(decodeExchangePayload(toBinary(AnySchema, anyPack(StructSchema, fromJson(StructSchema, { other: 1 })))), { id: '', metadata: {} });
  assert.deepEqual(decodeExchangePayload(new Uint8Array(0)), { id: '', metadata: {} });
});

test('the peer cache gives the same object for the same payload and stays bounded', () => {
  const c = new ExchangedPeerCache(2);
  const p1 = istioFrame(MD, ID).subarray(8);
  assert.equal(c.decode(p1), c.decode(Buffer.from(p1)));
  c.decode(istioFrame(MD, 'b').subarray(8));
  const third = istioFrame(MD, 'c').subarray(8);
  assert.notEqual(c.decode(third), c.decode(third));
  assert.equal(c.decode(third)?.id, 'c');
});

function typedStruct(value: object, typeUrl = METADATA_EXCHANGE_TYPE_URL) {
  return anyPack(TypedStructSchema, create(TypedStructSchema, { typeUrl, value: value as JsonObject }));
}

test('config: the TypedStruct istiod sends; unsupported fields and the packed form are refused with their path', () => {
  assert.deepEqual(parseMetadataExchangeConfig(typedStruct({ protocol: 'istio-peer-exchange' }), 'f'), { protocol: 'istio-peer-exchange' });
  assert.deepEqual(parseMetadataExchangeConfig(typedStruct({ protocol: 'x', enable_discovery: false, additional_labels: [] }), 'f'), { protocol: 'x' });
  const bad: [object | ReturnType<typeof typedStruct>, RegExp][] = [
    [typedStruct({}), /^f\.value\.protocol: /],
    [typedStruct({ protocol: 'x', enable_discovery: true }), /^f\.value\.enable_discovery: workload discovery is not supported/],
    [typedStruct({ protocol: 'x', additional_labels: ['role'] }), /^f\.value\.additional_labels: /],
    [typedStruct({ protocol: 'x', junk: 1 }), /^f\.value\.junk: field is not supported/],
    [typedStruct({ protocol: 'x' }, 'type.googleapis.com/stats.PluginConfig'), /^f\.type_url: expected type\.googleapis\.com\/envoy\.tcp\.metadataexchange/],
    [create(AnySchema, { typeUrl: METADATA_EXCHANGE_TYPE_URL, value: new Uint8Array([10, 1, 120]) }), /^f: .*as an xds\.type\.v3\.TypedStruct/],
  ];
  for (const [any, re] of bad) assert.throws(() => parseMetadataExchangeConfig(any as never, 'f'), (e: Error) => e instanceof ConfigError && re.test(e.message), String(re));
});

test('cluster filters: istio.metadata_exchange only, once', () => {
  const mx = create(ClusterFilterSchema, { name: 'istio.metadata_exchange', typedConfig: typedStruct({ protocol: 'istio-peer-exchange' }) });
  assert.deepEqual(compileClusterFilters([mx], 'c.filters'), { protocol: 'istio-peer-exchange' });
  assert.equal(compileClusterFilters([], 'c.filters'), undefined);
  assert.throws(() => compileClusterFilters([mx, mx], 'c.filters'), /^ConfigError|c\.filters\[1\]: istio\.metadata_exchange is already/);
  assert.throws(() => compileClusterFilters([create(ClusterFilterSchema, { name: 'envoy.filters.network.x', typedConfig: typedStruct({}, 'type.googleapis.com/x.Y') })], 'c.filters'), /c\.filters\[0\]\.typed_config: unsupported upstream network filter envoy\.filters\.network\.x/);
});

test('the peer cache does not keep payloads past its key bound', () => {
  const c = new ExchangedPeerCache(10, 64);
  const big = istioFrame({ ...MD, LABELS: { app: 'x'.repeat(100) } }, ID).subarray(8);
  assert.notEqual(c.decode(big), c.decode(big));
  assert.equal(c.decode(big)?.id, ID);
});
