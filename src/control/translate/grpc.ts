import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ApiListenerSchema } from '../../envoy/generated/envoy/config/listener/v3/api_listener_pb.js';
import { HttpConnectionManagerSchema } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import type { MeshIndex } from './mesh-index.js';
import { hostNames } from './hosts.js';
import { serviceRoutes } from './http-routes.js';
import { grpcHttpFilters, rdsHcm } from './network-filters.js';
import { outboundClusters, sorted } from './sidecar.js';
import type { ProxyResources } from './types.js';

/**
 * Proxyless gRPC (generator "grpc", @grpc/grpc-js-xds as the client). A channel to
 * `xds:///<host>:<port>` asks for the Listener of that name: an api_listener whose HCM names
 * the RouteConfiguration `<fqdn>:<port>` (one virtual host). Short names work as for sidecars
 * (`reviews`, `reviews.default`, ... in the client's namespace). Only what grpc-js-xds accepts is
 * emitted: route actions are cluster / weighted_clusters (redirect and direct response routes
 * are left out, they would make it reject the whole configuration); timeouts as
 * max_stream_duration; retries only when the VirtualService asks; EDS clusters with ROUND_ROBIN
 * or RING_HASH, DNS services as LOGICAL_DNS; endpoints with IP addresses and locality weights.
 */
export function grpcResources(index: MeshIndex, proxy: ProxyIdentity): ProxyResources {
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  for (const svc of index.mesh.services) {
    // A client may dial the service by a short name (xds:///reviews:9080), as Istio allows:
    // one listener per name it may use, all naming the route configuration of the FQDN.
    const names = hostNames(svc, proxy.namespace);
    for (const port of svc.ports) {
      const rdsName = `${svc.hostname}:${port.number}`;
      const hcm = anyPack(HttpConnectionManagerSchema, rdsHcm(rdsName, rdsName, grpcHttpFilters()));
      for (const n of names) listeners.push(create(ListenerSchema, { name: `${n}:${port.number}`, apiListener: create(ApiListenerSchema, { apiListener: hcm }) }));
      routes.push(create(RouteConfigurationSchema, {
        name: rdsName,
        virtualHosts: [create(VirtualHostSchema, {
          name: rdsName,
          domains: [...names.map((n) => `${n}:${port.number}`), svc.hostname],
          routes: serviceRoutes(svc, { index, proxy, port: port.number, target: 'grpc' }),
        })],
      }));
    }
  }
  const { clusters, endpoints } = outboundClusters(index, proxy, 'grpc');
  return sorted({ listeners, routes, clusters, endpoints });
}
