import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../../src/envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import type { ProxyIdentity } from '../../../src/envoy/node-metadata.js';
import type { ProxyResources, ResourceScope } from '../../../src/control/translate/types.js';
import type { ResourceSource } from '../../../src/control/xds/source.js';

/** An HCM with RDS over ADS and the router filter: what both Envoy and grpc-js-xds accept. */
export function hcm(routeName: string) {
  return create(HttpConnectionManagerSchema, {
    statPrefix: 'http',
    routeSpecifier: { case: 'rds', value: { routeConfigName: routeName, configSource: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: 2 } } },
    httpFilters: [{ name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema, {})) } }],
  });
}

/** A listener whose only job in these tests is to name a route config. */
export function listener(name: string, routeName: string, port = 15001): Listener {
  return create(ListenerSchema, {
    name,
    address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } } } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm(routeName)) } }] }],
  });
}

export function route(name: string, cluster: string, prefix = '/'): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: prefix } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: cluster } } } }] }],
  });
}

export function edsCluster(name: string): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: 2 } },
    connectTimeout: { seconds: 1n },
  });
}

export function cla(cluster: string, ports: number[], host = '127.0.0.1'): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: cluster,
    endpoints: [{
      lbEndpoints: ports.map((port) => ({
        hostIdentifier: { case: 'endpoint' as const, value: { address: { address: { case: 'socketAddress' as const, value: { address: host, portSpecifier: { case: 'portValue' as const, value: port } } } } } },
      })),
    }],
  });
}

/** A source whose resources the test sets, counting generate() calls. */
export class TestSource implements ResourceSource {
  generateCalls = 0;
  generatedFor: string[] = [];
  /** The scope of each generate() call. */
  scopes: string[] = [];
  failWith: Error | undefined;

  constructor(public resources: ProxyResources, private readonly key: (p: ProxyIdentity) => string = () => 'all') {}

  generate(proxy: ProxyIdentity, scope: ResourceScope = 'all'): ProxyResources {
    this.generateCalls++;
    this.scopes.push(scope);
    this.generatedFor.push(proxy.name);
    if (this.failWith) throw this.failWith;
    return this.resources;
  }

  shapeKey(proxy: ProxyIdentity): string {
    return this.key(proxy);
  }
}

/** Two services a, b: listener, route, clusters and endpoints. */
export function twoServices(): ProxyResources {
  return {
    listeners: [listener('l-a', 'r-a'), listener('l-b', 'r-b', 15002)],
    routes: [route('r-a', 'c-a'), route('r-b', 'c-b')],
    clusters: [edsCluster('c-a'), edsCluster('c-b')],
    endpoints: [cla('c-a', [8001]), cla('c-b', [8002])],
  };
}
