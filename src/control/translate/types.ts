import type { Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import type { Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';

/** Every resource one proxy (or proxyless client) should have, by xDS type. Typed Envoy messages. */
export interface ProxyResources {
  readonly listeners: readonly Listener[];
  readonly routes: readonly RouteConfiguration[];
  readonly clusters: readonly Cluster[];
  readonly endpoints: readonly ClusterLoadAssignment[];
}

/**
 * What a generate() call must produce: everything, only the listeners and routes (`routing`:
 * what a VirtualService change can touch), or only the clusters and endpoints (`endpoints`: what
 * a change to a ServiceEntry's inline endpoints can touch); what is left out comes back empty
 * for the caller to keep from its previous result.
 */
export type ResourceScope = 'all' | 'routing' | 'endpoints';

export { TYPE_URL, type TypeUrl } from '../../envoy/xds-type-urls.js';
