/*
 * The sidecar's health port (Istio: 15021, served by pilot-agent): GET /healthz/ready answers
 * what the admin endpoint's /ready does (200 LIVE once the first xDS config is in, 503 while
 * it is not or while draining), so the kubelet's readiness probe can reach it on the pod's
 * address while admin stays on 127.0.0.1. Built as Istio builds its 15021/15090 listeners: a
 * static listener whose one route goes to a static cluster on the admin port. Pure.
 */
import { anyPack } from '@bufbuild/protobuf/wkt';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { ClusterSchema } from '../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { Cluster_DiscoveryType } from '../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import type { ListenerSchema } from '../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema, HttpConnectionManager_CodecType } from '../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';

export const STATUS_PATH = '/healthz/ready';
/** The cluster that reaches the admin endpoint (Istio names its own `agent`). */
export const ADMIN_CLUSTER = 'tsmesh-admin';
export const STATUS_TYPE_NAMES = ['envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', 'envoy.extensions.filters.http.router.v3.Router'];

export function statusListener(port: number): MessageInitShape<typeof ListenerSchema> {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: 'tsmesh_status',
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier: {
      case: 'routeConfig',
      value: {
        name: 'tsmesh_status',
        virtualHosts: [{
          name: 'status',
          domains: ['*'],
          routes: [{
            match: { pathSpecifier: { case: 'path', value: STATUS_PATH } },
            action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: ADMIN_CLUSTER }, prefixRewrite: '/ready', timeout: { seconds: 3n } } },
          }],
        }],
      },
    },
    httpFilters: [{ name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema, {})) } }],
  });
  return {
    name: `0.0.0.0_${port}`,
    address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } } } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }] }],
  };
}

export function adminCluster(adminPort: number): MessageInitShape<typeof ClusterSchema> {
  return {
    name: ADMIN_CLUSTER,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: { seconds: 1n },
    loadAssignment: {
      clusterName: ADMIN_CLUSTER,
      endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: adminPort } } } } } } }] }],
    },
  };
}
