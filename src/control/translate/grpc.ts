import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ApiListenerSchema } from '../../envoy/generated/envoy/config/listener/v3/api_listener_pb.js';
import { HttpConnectionManagerSchema } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import type { MeshIndex } from './mesh-index.js';
import { serviceRoutes } from './http-routes.js';
import { grpcHttpFilters, rdsHcm } from './network-filters.js';
import { outboundClusters, sorted } from './sidecar.js';
import type { ProxyResources } from './types.js';

/**
 * Proxyless gRPC (generator "grpc", @grpc/grpc-js-xds as the client). A channel to
 * `xds:///<host>:<port>` asks for the Listener of that name: an api_listener whose HCM names
 * the RouteConfiguration `<host>:<port>` (one virtual host). Only what grpc-js-xds accepts is
 * emitted: route actions are cluster / weighted_clusters (redirect and direct response routes
 * are left out, they would make it reject the whole configuration); timeouts as
 * max_stream_duration; retries only when the VirtualService asks; EDS clusters with ROUND_ROBIN
 * or RING_HASH, DNS services as LOGICAL_DNS; endpoints with IP addresses and locality weights.
 */
export function grpcResources(index: MeshIndex, proxy: ProxyIdentity): ProxyResources {
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  for (const svc of index.mesh.services) {
    for (const port of svc.ports) {
      const name = `${svc.hostname}:${port.number}`;
      const hcm = rdsHcm(name, name, grpcHttpFilters());
      listeners.push(create(ListenerSchema, { name, apiListener: create(ApiListenerSchema, { apiListener: anyPack(HttpConnectionManagerSchema, hcm) }) }));
      routes.push(create(RouteConfigurationSchema, {
        name,
        virtualHosts: [create(VirtualHostSchema, { name, domains: [name, svc.hostname], routes: serviceRoutes(svc, { index, proxy, port: port.number, target: 'grpc' }) })],
      }));
    }
  }
  const { clusters, endpoints } = outboundClusters(index, proxy, 'grpc');
  return sorted({ listeners, routes, clusters, endpoints });
}
