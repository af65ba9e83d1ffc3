import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { RouteSchema, RouteMatchSchema, RedirectActionSchema, VirtualHostSchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { generate } from '../../../src/control/translate/index.js';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { GOLDEN_DIR, goldenCase } from '../mesh-fixtures.js';

/*
 * The proxyless gRPC output decoded by @grpc/grpc-js-xds's own resource types, the code its
 * xDS client runs on every resource it receives: a resource it would NACK fails here.
 */
interface DecodeResult { name: string; error?: string }
interface ResourceType { decode(ctx: unknown, any: { type_url: string; value: Buffer }): DecodeResult }
const require = createRequire(import.meta.url);
(require('@grpc/grpc-js-xds') as { register(): void }).register(); // registers the HTTP filters and LB policies
const load = (file: string, cls: string): ResourceType =>
  (require(`@grpc/grpc-js-xds/build/src/xds-resource-type/${file}`) as Record<string, { get(): ResourceType }>)[cls]!.get();
const types = {
  listener: load('listener-resource-type.js', 'ListenerResourceType'),
  route: load('route-config-resource-type.js', 'RouteConfigurationResourceType'),
  cluster: load('cluster-resource-type.js', 'ClusterResourceType'),
  endpoint: load('endpoint-resource-type.js', 'EndpointResourceType'),
};
const context = { server: { serverUri: 'localhost:15010', channelCredentials: undefined, serverFeatures: [] }, bootstrap: { certificateProviders: {}, servers: [], node: {}, authorities: {} } };

function decode<D extends DescMessage>(kind: keyof typeof types, schema: D, msg: MessageShape<D>): DecodeResult {
  return types[kind].decode(context, { type_url: TYPE_URL[kind], value: Buffer.from(toBinary(schema, msg)) });
}

test('grpc-js-xds accepts every resource generated for a proxyless client', () => {
  const { mesh, proxy } = goldenCase(join(GOLDEN_DIR, 'grpc-proxyless'));
  const res = generate(mesh, proxy);
  const results = [
    ...res.listeners.map((m) => decode('listener', ListenerSchema, m)),
    ...res.routes.map((m) => decode('route', RouteConfigurationSchema, m)),
    ...res.clusters.map((m) => decode('cluster', ClusterSchema, m)),
    ...res.endpoints.map((m) => decode('endpoint', ClusterLoadAssignmentSchema, m)),
  ];
  assert.ok(res.listeners.length > 0 && res.routes.length > 0 && res.clusters.length > 0 && res.endpoints.length > 0);
  assert.deepEqual(results.filter((r) => r.error !== undefined), []);
});

test('the gRPC check can fail: a redirect route (which the translation leaves out for gRPC) is refused', () => {
  const rc = create(RouteConfigurationSchema, {
    name: 'x',
    virtualHosts: [create(VirtualHostSchema, {
      name: 'x', domains: ['*'],
      routes: [create(RouteSchema, { match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } }), action: { case: 'redirect', value: create(RedirectActionSchema, { hostRedirect: 'y' }) } })],
    })],
  });
  assert.match(decode('route', RouteConfigurationSchema, rc).error ?? '', /unsupported action/);
});
