/**
 * A ResourceSource shaped like what istiod gives a sidecar in a mesh of N HTTP services, for the
 * control-plane benchmark: one outbound listener (0.0.0.0_80, HCM with RDS "80"), one route
 * configuration "80" with a virtual host per service (Istio's domains: FQDN, short names, VIP;
 * default retry policy and timeout), and per service an EDS cluster (circuit breakers, outlier
 * detection, Istio metadata) and a ClusterLoadAssignment with 3 endpoints in a locality.
 * Every proxy gets the same resources (one namespace, no Sidecar scoping): one shape.
 */
import type { ScopedChange } from '../../../src/control/translate/scope.js';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import type { VirtualHost } from '../../../src/envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../../src/envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import type { ProxyIdentity } from '../../../src/envoy/node-metadata.js';
import type { ProxyResources } from '../../../src/control/translate/types.js';
import type { ResourceSource } from '../../../src/control/xds/source.js';

/** A source plus the two changes the benchmark makes: one VirtualService, one endpoint. */
export interface BenchSource {
  readonly source: ResourceSource;
  /**
   * Changes the routing of one service (as editing one VirtualService would). Returns the
   * stored change, as ConfigStore reports it, when the source is made of config (for its scope).
   */
  changeRoute(): readonly ScopedChange[] | void;
  /** Changes one endpoint of one service (as a pod being replaced would); returns as changeRoute. */
  changeEndpoint(): readonly ScopedChange[] | void;
  /** The RDS names a sidecar subscribes to (from its listeners). */
  readonly routeNames: readonly string[];
}

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} }, resourceApiVersion: 2 };
const host = (i: number): string => `svc-${i}.default.svc.cluster.local`;
const clusterName = (i: number): string => `outbound|80||${host(i)}`;
const vip = (i: number): string => `198.19.${(i >> 8) & 255}.${i & 255}`;

function listener(): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: 'outbound_0.0.0.0_80',
    routeSpecifier: { case: 'rds', value: { routeConfigName: '80', configSource: ads } },
    httpFilters: [{ name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema, {})) } }],
    useRemoteAddress: false,
    normalizePath: true,
    streamIdleTimeout: { seconds: 0n },
  });
  return create(ListenerSchema, {
    name: '0.0.0.0_80',
    address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 80 } } } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }] }],
    bindToPort: false,
  });
}

function virtualHost(i: number, variant: number): VirtualHost {
  const h = host(i);
  const retry = {
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', numRetries: 2,
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }], hostSelectionRetryMaxAttempts: 5n,
    retriableStatusCodes: [503],
  };
  const toCluster = (name: string) => ({ clusterSpecifier: { case: 'cluster' as const, value: name }, timeout: { seconds: 0n }, retryPolicy: retry, maxStreamDuration: { maxStreamDuration: { seconds: 0n } } });
  // variant > 0: the VirtualService sends a header-matched canary route first.
  const routes = variant === 0 ? [] : [{
    name: `canary-${variant}`,
    match: { pathSpecifier: { case: 'prefix' as const, value: '/' }, headers: [{ name: 'x-canary', headerMatchSpecifier: { case: 'stringMatch' as const, value: { matchPattern: { case: 'exact' as const, value: String(variant) } } } }] },
    action: { case: 'route' as const, value: toCluster(clusterName((i + 1) % 1000)) },
  }];
  return {
    name: `${h}:80`,
    domains: [h, `${h}:80`, `svc-${i}`, `svc-${i}:80`, `svc-${i}.default`, `svc-${i}.default:80`, `svc-${i}.default.svc`, `svc-${i}.default.svc:80`, vip(i), `${vip(i)}:80`],
    routes: [...routes, { name: 'default', match: { pathSpecifier: { case: 'prefix' as const, value: '/' } }, action: { case: 'route' as const, value: toCluster(clusterName(i)) }, decorator: { operation: `${h}:80/*` } }],
    includeRequestAttemptCount: true,
  } as unknown as VirtualHost;
}

function cluster(i: number): Cluster {
  return create(ClusterSchema, {
    name: clusterName(i),
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads, serviceName: clusterName(i) },
    connectTimeout: { seconds: 10n },
    circuitBreakers: { thresholds: [{ maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, trackRemaining: true }] },
    outlierDetection: { consecutive5xx: 5, interval: { seconds: 10n }, baseEjectionTime: { seconds: 30n }, maxEjectionPercent: 10 },
    commonLbConfig: { localityConfigSpecifier: { case: 'localityWeightedLbConfig', value: {} } },
    metadata: { filterMetadata: { istio: { services: [{ host: host(i), name: `svc-${i}`, namespace: 'default' }] } } },
  });
}

function cla(i: number, generation: number): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: clusterName(i),
    endpoints: [{
      locality: { region: 'local', zone: 'a' }, loadBalancingWeight: 3,
      lbEndpoints: [0, 1, 2].map((k) => ({
        hostIdentifier: { case: 'endpoint' as const, value: { address: { address: { case: 'socketAddress' as const, value: { address: `198.18.${i & 255}.${(k * 50 + generation) & 255}`, portSpecifier: { case: 'portValue' as const, value: 8080 } } } } } },
        loadBalancingWeight: 1,
        metadata: { filterMetadata: { istio: { workload: `svc-${i}-v1;default;svc-${i};v1;cluster.local` } } },
      })),
    }],
  });
}

/** The synthetic mesh of `services` services. Changes go to service 0 (route) and 1 (endpoint). */
export function syntheticMesh(services = 500): BenchSource {
  let routeVariant = 0;
  let endpointGeneration = 0;
  const listeners = [listener()];
  const clusters = Array.from({ length: services }, (_, i) => cluster(i));
  const endpoints = Array.from({ length: services }, (_, i) => cla(i, 0));
  const vhosts = Array.from({ length: services }, (_, i) => virtualHost(i, 0));
  const routes = (): RouteConfiguration[] => [create(RouteConfigurationSchema, { name: '80', virtualHosts: vhosts, validateClusters: false })];
  let current: ProxyResources = { listeners, routes: routes(), clusters, endpoints };
  return {
    routeNames: ['80'],
    source: {
      generate: (_proxy: ProxyIdentity) => current,
      shapeKey: (proxy: ProxyIdentity) => proxy.namespace,
    },
    changeRoute() {
      vhosts[0] = virtualHost(0, ++routeVariant);
      current = { ...current, routes: routes() };
    },
    changeEndpoint() {
      endpoints[1] = cla(1, ++endpointGeneration);
      current = { ...current, endpoints: [...endpoints] };
    },
  };
}

/** The factory the benchmark's server process loads (`--source MODULE` must export one like it). */
/** What the benchmark's sidecars are like. */
export interface BenchSidecars {
  /** Traffic capture (node metadata INTERCEPTION_MODE REDIRECT, as injected Kubernetes pods). */
  readonly capture: boolean;
}

export const createBenchSource: (services: number, sidecars?: BenchSidecars) => BenchSource | Promise<BenchSource> = syntheticMesh;
