/** Envoy resources for xDS tests, built from proto3 JSON like a control plane would send them. */
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { envoyRegistry } from '../../src/envoy/full-registry.js';
import { ListenerSchema, type Listener } from '../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, type Cluster } from '../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

/** An HTTP listener on 127.0.0.1:`port` whose connection manager takes route `rds` over ADS. */
export function rdsListener(name: string, port: number, rds: string, hcmExtra: JsonObject = {}): Listener {
  return fromJson(ListenerSchema, {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: name, rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: rds }, http_filters: [ROUTER], ...hcmExtra,
    } }] }],
  }, { registry: envoyRegistry });
}

/** A route configuration: one virtual host for every domain, `routes` as [prefix, cluster]. */
export function routeConfig(name: string, routes: readonly (readonly [string, string])[], responseHeader?: string): RouteConfiguration {
  return fromJson(RouteConfigurationSchema, {
    name,
    virtual_hosts: [{ name: 'all', domains: ['*'], routes: routes.map(([prefix, cluster]) => ({ match: { prefix }, route: { cluster } })),
      ...(responseHeader ? { response_headers_to_add: [{ header: { key: 'x-route', value: responseHeader } }] } : {}) }],
  }, { registry: envoyRegistry });
}

/** An EDS cluster over ADS. */
export function edsCluster(name: string, extra: JsonObject = {}): Cluster {
  return fromJson(ClusterSchema, { name, type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } }, ...extra }, { registry: envoyRegistry });
}

/** A STATIC cluster over loopback ports. */
export function staticXdsCluster(name: string, ports: readonly number[], extra: JsonObject = {}): Cluster {
  return fromJson(ClusterSchema, { name, type: 'STATIC', connect_timeout: '1s', load_assignment: claJson(name, ports), ...extra }, { registry: envoyRegistry });
}

export function cla(name: string, ports: readonly number[]): ClusterLoadAssignment {
  return fromJson(ClusterLoadAssignmentSchema, claJson(name, ports), { registry: envoyRegistry });
}

function claJson(name: string, ports: readonly number[]): JsonObject {
  return { cluster_name: name, endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }] };
}

/** A bootstrap with admin on ADMIN_PORT and dynamic_resources over ADS to 127.0.0.1:`xdsPort`. */
export function xdsBootstrap(o: { xdsPort: number; delta?: boolean; nodeId?: string; initialFetchTimeout?: string; staticResources?: string }): string {
  return `
node: { id: ${o.nodeId ?? 'sidecar~127.0.0.1~test.default~default.svc.cluster.local'}, cluster: test }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } }
dynamic_resources:
  ads_config:
    api_type: ${o.delta ? 'DELTA_GRPC' : 'GRPC'}
    transport_api_version: V3
    grpc_services: [{ envoy_grpc: { cluster_name: xds-grpc } }]
    set_node_on_first_message_only: true
  lds_config: { ads: {}, resource_api_version: V3${o.initialFetchTimeout ? `, initial_fetch_timeout: ${o.initialFetchTimeout}` : ''} }
  cds_config: { ads: {}, resource_api_version: V3${o.initialFetchTimeout ? `, initial_fetch_timeout: ${o.initialFetchTimeout}` : ''} }
static_resources:
  clusters:
  - name: xds-grpc
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: xds-grpc
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.xdsPort} } } }
${o.staticResources ?? ''}`;
}
