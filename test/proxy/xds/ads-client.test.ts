import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  DiscoveryResponseSchema, DeltaDiscoveryResponseSchema, ResourceSchema,
  type DiscoveryRequest, type DeltaDiscoveryRequest,
} from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { NodeSchema } from '../../../src/envoy/generated/envoy/config/core/v3/base_pb.js';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { AdsClient, type AdsHandler } from '../../../src/proxy/xds/ads-client.js';
import { Backoff } from '../../../src/proxy/xds/backoff.js';
import { TYPE_URLS, XdsResourceError, type XdsKind } from '../../../src/proxy/xds/resources.js';
import type { StreamEvents } from '../../../src/proxy/xds/transport.js';
import { eventually } from '../../support/mesh.js';

// The protocol over an in-memory stream: what the client sends for each response, per the xDS
// protocol (version_info/nonce, ACK/NACK, subscriptions, resubscription on a new stream).

type Req = DiscoveryRequest | DeltaDiscoveryRequest;

function harness(delta: boolean, accept: (kind: XdsKind, names: string[]) => boolean = () => true) {
  const sent: Req[][] = [];
  const streams: StreamEvents<unknown>[] = [];
  const wanted: Record<XdsKind, ReadonlySet<string> | '*' | undefined> = { cluster: '*', listener: '*', endpoint: new Set(), route: new Set() };
  const handler: AdsHandler = {
    onResponse: async (kind, resources) => {
      const names = resources.map((r) => r.name);
      if (!accept(kind, names)) throw new XdsResourceError(kind, names[0] ?? '', 'name', 'rejected by the test');
    },
    wanted: (k) => wanted[k],
    onConnection: () => {},
  };
  const client = new AdsClient({
    target: 'test', delta, node: create(NodeSchema, { id: 'n1' }), nodeOnFirstMessageOnly: true, backoff: new Backoff(500, 30_000, () => 0),
    open: async <Rq, Rs>(_t: string, _d: boolean, ev: StreamEvents<Rs>) => {
      const reqs: Req[] = [];
      sent.push(reqs);
      streams.push(ev as StreamEvents<unknown>);
      return { send: (m: Rq) => { reqs.push(m as Req); }, close: () => ev.onClosed('closed') };
    },
  }, handler);
  return { client, sent, streams, wanted };
}

const cluster = (name: string) => ({ $typeName: 'google.protobuf.Any' as const, typeUrl: TYPE_URLS.cluster, value: toBinary(ClusterSchema, create(ClusterSchema, { name })) });

test('SotW: first requests, ACK with version and nonce, NACK with the last good version, subscription updates', async () => {
  const h = harness(false, (_k, names) => !names.includes('bad'));
  h.client.start();
  await eventually('first requests', () => (h.sent[0]?.length === 2 ? true : undefined));
  const [cds, lds] = h.sent[0]! as DiscoveryRequest[];
  assert.equal(cds!.typeUrl, TYPE_URLS.cluster);
  assert.equal(cds!.node?.id, 'n1');
  assert.equal(lds!.typeUrl, TYPE_URLS.listener);
  assert.equal(lds!.node, undefined, 'node on the first message only');
  assert.deepEqual([cds!.versionInfo, cds!.responseNonce, cds!.resourceNames.length], ['', '', 0]);

  h.wanted.endpoint = new Set(['a']);
  h.streams[0]!.onMessage(create(DiscoveryResponseSchema, { versionInfo: '7', nonce: 'n-1', typeUrl: TYPE_URLS.cluster, resources: [cluster('a')] }));
  await eventually('ACK and EDS', () => (h.sent[0]!.length === 4 ? true : undefined));
  const [ack, eds] = h.sent[0]!.slice(2) as DiscoveryRequest[];
  assert.deepEqual([ack!.typeUrl, ack!.versionInfo, ack!.responseNonce, ack!.errorDetail], [TYPE_URLS.cluster, '7', 'n-1', undefined]);
  assert.deepEqual([eds!.typeUrl, eds!.resourceNames, eds!.versionInfo], [TYPE_URLS.endpoint, ['a'], '']);

  h.streams[0]!.onMessage(create(DiscoveryResponseSchema, { versionInfo: '8', nonce: 'n-2', typeUrl: TYPE_URLS.cluster, resources: [cluster('bad')] }));
  await eventually('NACK', () => (h.sent[0]!.length === 5 ? true : undefined));
  const nack = h.sent[0]![4] as DiscoveryRequest;
  assert.deepEqual([nack.versionInfo, nack.responseNonce, nack.errorDetail?.code], ['7', 'n-2', 3]);
  assert.equal(nack.errorDetail?.message, 'Cluster "bad": name: rejected by the test');

  // A stream that breaks: a new one resubscribes with the versions held, node first again.
  h.streams[0]!.onClosed('gone');
  await eventually('a new stream', () => (h.sent[1]?.length === 3 ? true : undefined));
  const again = h.sent[1]! as DiscoveryRequest[];
  assert.deepEqual(again.map((r) => [r.typeUrl, r.versionInfo, r.responseNonce]), [[TYPE_URLS.cluster, '7', ''], [TYPE_URLS.listener, '', ''], [TYPE_URLS.endpoint, '', '']]);
  assert.equal(again[0]!.node?.id, 'n1');
  h.client.stop();
});

test('Delta: wildcard first requests, subscribe/unsubscribe, initial_resource_versions on reconnect', async () => {
  const h = harness(true);
  h.client.start();
  await eventually('first requests', () => (h.sent[0]?.length === 2 ? true : undefined));
  const [cds] = h.sent[0]! as DeltaDiscoveryRequest[];
  assert.deepEqual([cds!.typeUrl, cds!.resourceNamesSubscribe, cds!.responseNonce], [TYPE_URLS.cluster, [], '']);
  h.wanted.endpoint = new Set(['a', 'b']);
  h.streams[0]!.onMessage(create(DeltaDiscoveryResponseSchema, { nonce: 'd1', typeUrl: TYPE_URLS.cluster, resources: [create(ResourceSchema, { name: 'a', version: 'va', resource: cluster('a') }), create(ResourceSchema, { name: 'b', version: 'vb', resource: cluster('b') })] }));
  await eventually('ACK and EDS', () => (h.sent[0]!.length === 4 ? true : undefined));
  const [ack, eds] = h.sent[0]!.slice(2) as DeltaDiscoveryRequest[];
  assert.deepEqual([ack!.responseNonce, ack!.errorDetail], ['d1', undefined]);
  assert.deepEqual(eds!.resourceNamesSubscribe, ['a', 'b']);

  h.wanted.endpoint = new Set(['b', 'c']);
  h.streams[0]!.onMessage(create(DeltaDiscoveryResponseSchema, { nonce: 'd2', typeUrl: TYPE_URLS.cluster, removedResources: ['a'] }));
  await eventually('ACK and EDS change', () => (h.sent[0]!.length === 6 ? true : undefined));
  const change = h.sent[0]![5] as DeltaDiscoveryRequest;
  assert.deepEqual([change.resourceNamesSubscribe, change.resourceNamesUnsubscribe], [['c'], ['a']]);

  h.streams[0]!.onClosed('gone');
  await eventually('a new stream', () => (h.sent[1]?.length === 3 ? true : undefined));
  const again = h.sent[1]! as DeltaDiscoveryRequest[];
  assert.deepEqual(again[0]!.initialResourceVersions, { b: 'vb' });
  assert.deepEqual(again[2]!.resourceNamesSubscribe, ['b', 'c']);
  h.client.stop();
});
