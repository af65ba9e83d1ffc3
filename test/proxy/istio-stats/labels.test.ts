import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson, toBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { decodePeerMetadata, encodePeerMetadata, namespaceOfPrincipal, PeerCache, peerFromMetadata, UNKNOWN_PEER } from '../../../src/proxy/istio-stats/peer.js';
import { edgeLabelPairs, flagsLabel, hostOfAuthority, requestLabelPairs, serviceNameParts, serviceOfCluster } from '../../../src/proxy/istio-stats/labels.js';
import { parseStatsPluginConfig, reporterFor } from '../../../src/proxy/istio-stats/plugin-config.js';
import { TypedStructSchema } from '../../../src/envoy/generated/xds/type/v3/typed_struct_pb.js';
import { ResponseFlag } from '../../../src/proxy/admin/access-log/response-flags.js';
import { ConfigError } from '../../../src/envoy/registry.js';
import { StructSchema } from '@bufbuild/protobuf/wkt';

const MD = { NAME: 'reviews-v2-abc', NAMESPACE: 'shop', WORKLOAD_NAME: 'reviews-v2', SERVICE_ACCOUNT: 'bookinfo-reviews', LABELS: { app: 'reviews', version: 'v2' }, INSTANCE_IPS: '10.0.0.5', TSMESH_APP_PORTS: '9080' };

test('peer labels from node metadata, with Istio fallbacks', () => {
  const table: [string, Parameters<typeof peerFromMetadata>[0], Partial<ReturnType<typeof peerFromMetadata>>][] = [
    ['full', MD, { workload: 'reviews-v2', namespace: 'shop', app: 'reviews', version: 'v2', canonicalService: 'reviews', canonicalRevision: 'v2', cluster: 'Kubernetes', principal: 'spiffe://cluster.local/ns/shop/sa/bookinfo-reviews' }],
    ['NAME when no WORKLOAD_NAME', { NAME: 'db', NAMESPACE: 'x' }, { workload: 'db', app: 'unknown', version: 'unknown', canonicalService: 'db', canonicalRevision: 'latest', principal: 'unknown' }],
    ['k8s recommended labels', { NAME: 'a', NAMESPACE: 'x', LABELS: { 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/version': '3' } }, { app: 'shop', version: '3' }],
    ['canonical labels win', { NAME: 'a', LABELS: { app: 'a', 'service.istio.io/canonical-name': 'A', 'service.istio.io/canonical-revision': 'r1' }, CLUSTER_ID: 'east' }, { canonicalService: 'A', canonicalRevision: 'r1', cluster: 'east', namespace: 'unknown' }],
    ['nothing', undefined, UNKNOWN_PEER],
  ];
  for (const [name, md, want] of table) {
    const got = peerFromMetadata(md);
    for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${name}: ${k}`);
  }
});

test('x-envoy-peer-metadata is a base64 protobuf Struct of the exchanged keys; garbage decodes to nothing', () => {
  const v = encodePeerMetadata(MD);
  const json = decodePeerMetadata(v)!;
  assert.deepEqual(json, { NAME: 'reviews-v2-abc', NAMESPACE: 'shop', LABELS: { app: 'reviews', version: 'v2' }, WORKLOAD_NAME: 'reviews-v2', SERVICE_ACCOUNT: 'bookinfo-reviews', INSTANCE_IPS: '10.0.0.5' });
  // Any sender's Struct bytes read the same (Istio's proxies send this shape).
  const theirs = Buffer.from(toBinary(StructSchema, fromJson(StructSchema, { NAME: 'x-1', NAMESPACE: 'y', LABELS: { app: 'x' }, PLATFORM_METADATA: {} }))).toString('base64');
  assert.equal(peerFromMetadata(decodePeerMetadata(theirs)).app, 'x');
  for (const bad of ['', '!!!', 'AAAA', Buffer.from([0x0a, 0xff, 0xff]).toString('base64')]) assert.equal(peerFromMetadata(decodePeerMetadata(bad)), UNKNOWN_PEER, bad);
  const cache = new PeerCache(1);
  assert.equal(cache.get(v), cache.get(v), 'interned: one object per header value');
  assert.equal(cache.get(v).workload, 'reviews-v2');
  assert.equal(cache.get('garbage').workload, 'unknown');
});

test('label values: services, flags, authorities, principals', () => {
  assert.deepEqual(serviceNameParts('reviews.shop.svc.cluster.local'), { name: 'reviews', namespace: 'shop' });
  assert.deepEqual(serviceNameParts('api.example.com'), { name: 'api.example.com', namespace: 'unknown' });
  assert.deepEqual(serviceNameParts('unknown'), { name: 'unknown', namespace: 'unknown' });
  assert.equal(serviceOfCluster('outbound|9080|v1|reviews.shop.svc.cluster.local'), 'reviews.shop.svc.cluster.local');
  assert.equal(serviceOfCluster('inbound|9080||'), undefined);
  assert.equal(serviceOfCluster('app'), undefined);
  assert.equal(flagsLabel(0), '-');
  assert.equal(flagsLabel(ResponseFlag.UH | ResponseFlag.URX), 'UH,URX');
  assert.equal(hostOfAuthority('reviews:9080'), 'reviews');
  assert.equal(hostOfAuthority('[::1]:80'), '[::1]');
  assert.equal(hostOfAuthority('plain'), 'plain');
  assert.equal(namespaceOfPrincipal('spiffe://cluster.local/ns/shop/sa/x'), 'shop');
  assert.equal(namespaceOfPrincipal('spiffe://cluster.local/other'), undefined);
  assert.deepEqual(requestLabelPairs('grpc', 200, 14, 0), [['request_protocol', 'grpc'], ['response_code', '200'], ['grpc_response_status', '14'], ['response_flags', '-']]);
  const edge = edgeLabelPairs({ reporter: 'destination', source: peerFromMetadata(MD), destination: UNKNOWN_PEER, sourcePrincipal: 'unknown', destinationPrincipal: 'unknown', destinationService: 'reviews.shop.svc.cluster.local', securityPolicy: 'none' });
  assert.deepEqual(edge.map(([k]) => k), [
    'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version', 'source_cluster',
    'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version', 'destination_service',
    'destination_canonical_service', 'destination_canonical_revision', 'destination_service_name', 'destination_service_namespace', 'destination_cluster',
  ]);
  assert.equal(Object.fromEntries(edge)['destination_service_name'], 'reviews');
});

test('stats.PluginConfig in a TypedStruct: supported fields, and every other refused with its path', () => {
  const any = (typeUrl: string, value: Record<string, unknown>) => anyPack(TypedStructSchema, create(TypedStructSchema, { typeUrl, value: value as never }));
  const ok = parseStatsPluginConfig(any('type.googleapis.com/stats.PluginConfig', { reporter: 'SERVER_GATEWAY', disable_host_header_fallback: true, tcp_reporting_duration: '2.5s' }), 'p');
  assert.deepEqual(ok, { reporter: 'SERVER_GATEWAY', disableHostHeaderFallback: true, tcpReportingDurationMs: 2500 });
  assert.deepEqual(parseStatsPluginConfig(any('type.googleapis.com/stats.PluginConfig', {}), 'p'), { reporter: 'UNSPECIFIED', disableHostHeaderFallback: false, tcpReportingDurationMs: 15000 });
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['type.googleapis.com/stats.PluginConfig', { metrics: [] }, /^p\.value\.metrics: field is not supported/],
    ['type.googleapis.com/stats.PluginConfig', { reporter: 'SIDEWAYS' }, /^p\.value\.reporter: expected UNSPECIFIED/],
    ['type.googleapis.com/stats.PluginConfig', { disable_host_header_fallback: 'yes' }, /^p\.value\.disable_host_header_fallback: expected a boolean/],
    ['type.googleapis.com/stats.PluginConfig', { tcp_reporting_duration: '5m' }, /^p\.value\.tcp_reporting_duration: expected a positive duration/],
    ['type.googleapis.com/other.Thing', {}, /^p\.type_url: expected type\.googleapis\.com\/stats\.PluginConfig/],
  ];
  for (const [url, value, re] of bad) {
    assert.throws(() => parseStatsPluginConfig(any(url, value), 'p'), (e: unknown) => e instanceof ConfigError && re.test(e.message), `${url} ${JSON.stringify(value)}`);
  }
  assert.equal(reporterFor('UNSPECIFIED', 'INBOUND'), 'destination');
  assert.equal(reporterFor('UNSPECIFIED', 'OUTBOUND'), 'source');
  assert.equal(reporterFor('UNSPECIFIED', 'UNSPECIFIED'), 'source');
  assert.equal(reporterFor('SERVER_GATEWAY', 'OUTBOUND'), 'destination');
  assert.equal(reporterFor('CLIENT_GATEWAY', 'INBOUND'), 'source');
});
