import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, toBinary, type Message } from '@bufbuild/protobuf';
import { createRegistry } from '@bufbuild/protobuf';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { validateResource, decodeResource, XdsResourceError, type XdsKind, type ValidResource } from '../../../src/proxy/xds/resources.js';
import { XdsState } from '../../../src/proxy/xds/state.js';
import { ListenerSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { cla, edsCluster, rdsListener, routeConfig, staticXdsCluster } from '../../support/xds-resources.js';
import { Backoff } from '../../../src/proxy/xds/backoff.js';

const SCHEMA = { listener: ListenerSchema, cluster: ClusterSchema, route: RouteConfigurationSchema, endpoint: ClusterLoadAssignmentSchema } as const;
const registry = createRegistry(envoyRegistry);

function valid<K extends XdsKind>(kind: K, m: Message, version = 'v1'): ValidResource<K> {
  const bytes = toBinary(SCHEMA[kind] as never, m as never);
  const message = decodeResource(kind, bytes);
  const name = (m as { name?: string }).name ?? (m as unknown as { clusterName: string }).clusterName;
  return validateResource(kind, { name, version, bytes }, message, registry);
}

const up = <K extends XdsKind>(kind: K, ...rs: ValidResource<K>[]) => ({ kind, upserts: rs, removals: [], replaceAll: kind === 'listener' || kind === 'cluster' });

test('an EDS cluster warms until its assignment arrives; the previous version serves meanwhile', () => {
  const s = new XdsState(new Set(), new Set());
  s.commit(up('cluster', valid('cluster', edsCluster('a'))), 1);
  assert.equal(s.active().clusters.size, 0);
  assert.equal(s.allWarm, false);
  assert.deepEqual([...s.wantedEndpoints()], ['a']);
  s.commit(up('endpoint', valid('endpoint', cla('a', [1]))), 2);
  assert.equal(s.active().clusters.get('a')?.version, 'v1');
  assert.equal(s.allWarm, true);
  // An update to another service name warms; v1 keeps serving until the new name's assignment comes.
  s.commit(up('cluster', valid('cluster', edsCluster('a', { eds_cluster_config: { eds_config: { ads: {} }, service_name: 'a2' } }), 'v2')), 3);
  assert.equal(s.active().clusters.get('a')?.version, 'v1');
  assert.deepEqual((s.warming('cluster') as { version: string }[]).map((c) => c.version), ['v2']);
  assert.deepEqual([...s.wantedEndpoints()].sort(), ['a', 'a2'], 'the serving and the warming versions are both fed');
  s.commit(up('endpoint', valid('endpoint', cla('a2', [2]))), 4);
  assert.equal(s.active().clusters.get('a')?.version, 'v2');
});

test('a listener warms until its RDS arrives; SotW LDS removes what is absent', () => {
  const s = new XdsState(new Set(), new Set());
  s.commit(up('listener', valid('listener', rdsListener('l', 1000, 'r'))), 1);
  assert.equal(s.active().listeners.size, 0);
  assert.deepEqual([...s.wantedRoutes()], ['r']);
  s.commit(up('route', valid('route', routeConfig('r', [['/', 'c']]))), 2);
  assert.equal(s.active().listeners.size, 1);
  const changed = s.commit(up('listener'), 3);
  assert.deepEqual(changed, ['l']);
  assert.equal(s.active().listeners.size, 0);
});

test('the same bytes under a new version change nothing', () => {
  const s = new XdsState(new Set(), new Set());
  s.commit(up('cluster', valid('cluster', staticXdsCluster('c', [1]))), 1);
  assert.deepEqual(s.commit(up('cluster', valid('cluster', staticXdsCluster('c', [1]), 'v2')), 2), []);
  assert.equal(s.accepted('cluster').get('c')?.version, 'v2');
  assert.equal(s.accepted('cluster').get('c')?.lastUpdatedMs, 1);
});

test('checks that need the whole state', () => {
  const s = new XdsState(new Set(['static-l']), new Set(['xds-grpc']));
  assert.throws(() => s.check(up('cluster', valid('cluster', staticXdsCluster('xds-grpc', [1])))), /Cluster "xds-grpc": name: a static cluster of this name exists/);
  assert.throws(() => s.check(up('cluster', valid('cluster', staticXdsCluster('c', [1])), valid('cluster', staticXdsCluster('c', [2])))), /holds this resource twice/);
  s.commit(up('listener', valid('listener', rdsListener('l', 1000, 'r'))), 1);
  assert.throws(() => s.check(up('listener', valid('listener', rdsListener('l', 1001, 'r')))), (e: unknown) => e instanceof XdsResourceError && e.path === 'address' && /127\.0\.0\.1:1000 -> 127\.0\.0\.1:1001/.test(e.reason));
});

test('validation names the resource, the field path and the reason', () => {
  const bad = edsCluster('c');
  bad.edsClusterConfig = undefined;
  assert.throws(() => valid('cluster', bad), (e: unknown) => e instanceof XdsResourceError && e.message === 'Cluster "c": eds_cluster_config.eds_config: an EDS cluster needs eds_config: { ads: {} } (only ADS is supported)');
  const host = fromJson(ClusterLoadAssignmentSchema, { cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'svc.example', port_value: 80 } } } }] }] });
  assert.throws(() => valid('endpoint', host), (e: unknown) => e instanceof XdsResourceError && e.message === 'ClusterLoadAssignment "c": endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: EDS endpoints need IP addresses, got svc.example');
});

test('backoff: jittered, exponential from 500 ms, capped at 30 s, reset', () => {
  const b = new Backoff(500, 30_000, () => 0.999999);
  const seen = Array.from({ length: 10 }, () => b.next());
  assert.deepEqual(seen, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999, 29999]);
  b.reset();
  assert.equal(b.next(), 499);
  const low = new Backoff(500, 30_000, () => 0);
  assert.equal(low.next(), 0);
});

test('a route naming a cluster that is still warming waits for it; the previous route serves meanwhile', () => {
  const s = new XdsState(new Set(), new Set());
  s.commit(up('cluster', valid('cluster', edsCluster('v1'))), 1);
  s.commit(up('endpoint', valid('endpoint', cla('v1', [1]))), 2);
  s.commit(up('route', valid('route', routeConfig('r', [['/', 'v1']]))), 3);
  assert.equal(s.active().routes.get('r')?.version, 'v1');
  // A new subset: CDS brings cluster v2 (warming until its EDS), RDS moves traffic to it.
  s.commit(up('cluster', valid('cluster', edsCluster('v1')), valid('cluster', edsCluster('v2'))), 4);
  s.commit(up('route', valid('route', routeConfig('r', [['/', 'v2']]), 'v2')), 5);
  assert.equal(s.active().routes.get('r')?.version, 'v1', 'the old route keeps serving: v2 would answer 503 NC');
  s.commit(up('endpoint', valid('endpoint', cla('v2', [2]))), 6);
  assert.equal(s.active().routes.get('r')?.version, 'v2');
  // A cluster nobody declared is not waited for (a config error: NC, as in Envoy).
  s.commit(up('route', valid('route', routeConfig('r', [['/', 'nowhere']]), 'v3')), 7);
  assert.equal(s.active().routes.get('r')?.version, 'v3');
});
