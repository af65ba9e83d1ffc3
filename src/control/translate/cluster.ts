import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy, Cluster_DnsLookupFamily, Cluster_EdsClusterConfigSchema,
  Cluster_RingHashLbConfigSchema, Cluster_MaglevLbConfigSchema, Cluster_CommonLbConfigSchema, Cluster_OriginalDstLbConfigSchema,
  type Cluster,
} from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { CircuitBreakersSchema, CircuitBreakers_ThresholdsSchema } from '../../envoy/generated/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { OutlierDetectionSchema, type OutlierDetection as EnvoyOutlier } from '../../envoy/generated/envoy/config/cluster/v3/outlier_detection_pb.js';
import { ConfigSourceSchema, AggregatedConfigSourceSchema, ApiVersion } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import { HttpProtocolOptionsSchema as CoreHttpProtocolOptionsSchema, Http2ProtocolOptionsSchema, Http1ProtocolOptionsSchema } from '../../envoy/generated/envoy/config/core/v3/protocol_pb.js';
import { HttpProtocolOptionsSchema, HttpProtocolOptions_ExplicitHttpConfigSchema } from '../../envoy/generated/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { PercentSchema } from '../../envoy/generated/envoy/type/v3/percent_pb.js';
import type { ConnectionPoolSettings, OutlierDetection } from '../config/kinds.js';
import type { Endpoint, Service } from '../registry/model.js';
import { isHttp, isHttp2 } from '../registry/protocol.js';
import { duration, seconds } from './duration.js';
import { loadAssignment } from './endpoints.js';
import { BLACKHOLE, PASSTHROUGH, inboundCluster } from './names.js';
import type { EffectivePolicy } from './policy.js';

/** Istio's default connect timeout (MeshConfig.connectTimeout). */
const CONNECT_TIMEOUT_S = 10;
const MAX_U32 = 4294967295;
const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

export interface OutboundClusterInput {
  readonly name: string;
  readonly service: Service;
  readonly protocol: string;
  /** Endpoints of this service port, already filtered by the subset's labels. */
  readonly endpoints: readonly Endpoint[];
  /** Endpoints of the service port before subset filtering (decides EDS vs original destination). */
  readonly portEndpointCount: number;
  readonly policy: EffectivePolicy;
  /** Proxyless gRPC accepts only EDS / LOGICAL_DNS clusters with ROUND_ROBIN or RING_HASH. */
  readonly target: 'sidecar' | 'grpc';
}

/** How a service's endpoints reach the proxy: EDS, DNS in the cluster, or the original destination. */
export type Discovery = 'EDS' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';

/**
 * `portEndpoints`: endpoints of the service port; `endpoints`: those of this cluster (subset).
 * Proxyless gRPC has LOGICAL_DNS for one DNS name and EDS (IP endpoints) otherwise.
 */
export function discoveryOf(svc: Service, portEndpoints: number, endpoints: number, target: 'sidecar' | 'grpc', passthroughLb: boolean): Discovery {
  if (passthroughLb && target === 'sidecar') return 'ORIGINAL_DST';
  if (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN') {
    if (target === 'grpc') return endpoints === 1 ? 'LOGICAL_DNS' : 'EDS';
    // Istio: DNS_ROUND_ROBIN → LOGICAL_DNS (one name, connections to whichever address it gives).
    return svc.resolution === 'DNS_ROUND_ROBIN' && endpoints === 1 ? 'LOGICAL_DNS' : 'STRICT_DNS';
  }
  // Istio: resolution NONE without endpoints forwards to the address the client asked for.
  if (svc.resolution === 'NONE' && portEndpoints === 0 && target === 'sidecar') return 'ORIGINAL_DST';
  return 'EDS';
}

/** `outbound|<port>|<subset>|<host>`, with the DestinationRule's policy applied as Istio does. */
export function outboundClusterOf(input: OutboundClusterInput): Cluster {
  const { name, service, protocol, endpoints, policy, target } = input;
  const lb = policy.loadBalancer;
  const discovery = discoveryOf(service, input.portEndpointCount, endpoints.length, target, lb?.simple === 'PASSTHROUGH');
  const c = create(ClusterSchema, { name, connectTimeout: seconds(CONNECT_TIMEOUT_S) });
  switch (discovery) {
    case 'EDS':
      c.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.EDS };
      c.edsClusterConfig = EDS_OVER_ADS;
      break;
    case 'STRICT_DNS':
    case 'LOGICAL_DNS':
      c.clusterDiscoveryType = { case: 'type', value: discovery === 'STRICT_DNS' ? Cluster_DiscoveryType.STRICT_DNS : Cluster_DiscoveryType.LOGICAL_DNS };
      c.dnsLookupFamily = Cluster_DnsLookupFamily.V4_ONLY;
      // Names for Envoy / gRPC to resolve: no IP filter, no locality weights needed.
      c.loadAssignment = loadAssignment(name, endpoints, 'sidecar');
      break;
    case 'ORIGINAL_DST':
      return originalDst(name);
  }
  applyLoadBalancer(c, policy, target);
  applyConnectionPool(c, policy, protocol, target);
  if (policy.outlierDetection) applyOutlierDetection(c, policy.outlierDetection);
  return c;
}

// Shared by every cluster (outputs are immutable, see route-policies.ts).
const EDS_OVER_ADS = create(Cluster_EdsClusterConfigSchema, {
  edsConfig: create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema) }, resourceApiVersion: ApiVersion.V3 }),
});

/**
 * Istio's applyLoadBalancer: LEAST_REQUEST when the rule is silent (Istio's default since 1.14),
 * LEAST_CONN is LEAST_REQUEST, consistentHash is RING_HASH (minimum ring size 1024 unless set)
 * or MAGLEV. Proxyless gRPC has no LEAST_REQUEST / RANDOM / MAGLEV: ROUND_ROBIN there.
 */
function applyLoadBalancer(c: Cluster, policy: EffectivePolicy, target: 'sidecar' | 'grpc'): void {
  const lb = policy.loadBalancer;
  const ch = lb?.consistentHash;
  if (ch) {
    if (ch.maglev && target === 'sidecar') {
      c.lbPolicy = Cluster_LbPolicy.MAGLEV;
      if (ch.maglev.tableSize) c.lbConfig = { case: 'maglevLbConfig', value: create(Cluster_MaglevLbConfigSchema, { tableSize: BigInt(ch.maglev.tableSize) }) };
      return;
    }
    c.lbPolicy = Cluster_LbPolicy.RING_HASH;
    const min = ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? 1024;
    c.lbConfig = { case: 'ringHashLbConfig', value: create(Cluster_RingHashLbConfigSchema, { minimumRingSize: BigInt(min) }) };
    return;
  }
  if (target === 'grpc') { c.lbPolicy = Cluster_LbPolicy.ROUND_ROBIN; return; }
  switch (lb?.simple) {
    case 'ROUND_ROBIN': c.lbPolicy = Cluster_LbPolicy.ROUND_ROBIN; break;
    case 'RANDOM': c.lbPolicy = Cluster_LbPolicy.RANDOM; break;
    default: c.lbPolicy = Cluster_LbPolicy.LEAST_REQUEST;
  }
}

/**
 * Istio's applyConnectionPool: circuit breakers start from Istio's defaults (every threshold
 * 2^32-1, so Envoy's small defaults never shed mesh traffic) and take the rule's limits;
 * idle timeout / max requests per connection go in the upstream HTTP protocol options, which
 * also say HTTP/2 for HTTP2 / gRPC ports and for h2UpgradePolicy UPGRADE.
 */
function applyConnectionPool(c: Cluster, policy: EffectivePolicy, protocol: string, target: 'sidecar' | 'grpc'): void {
  const cp = policy.connectionPool;
  if (!cp) { c.circuitBreakers = DEFAULT_BREAKERS; applyHttpOptions(c, undefined, protocol, target); return; }
  const t = defaultThresholds();
  if (cp.http?.http2MaxRequests) t.maxRequests = cp.http.http2MaxRequests;
  if (cp.http?.http1MaxPendingRequests) t.maxPendingRequests = cp.http.http1MaxPendingRequests;
  if (cp.http?.maxRetries) t.maxRetries = cp.http.maxRetries;
  if (cp.tcp?.maxConnections) t.maxConnections = cp.tcp.maxConnections;
  if (cp.tcp?.connectTimeout) c.connectTimeout = duration(cp.tcp.connectTimeout);
  c.circuitBreakers = create(CircuitBreakersSchema, { thresholds: [t] });
  applyHttpOptions(c, cp, protocol, target);
}

/** Istio's default thresholds: 2^32-1 everywhere, so Envoy's small defaults never shed mesh traffic. */
function defaultThresholds() {
  return create(CircuitBreakers_ThresholdsSchema, { maxConnections: MAX_U32, maxPendingRequests: MAX_U32, maxRequests: MAX_U32, maxRetries: MAX_U32, trackRemaining: true });
}

// Shared by every cluster without a connection pool setting (outputs are immutable).
const DEFAULT_BREAKERS = create(CircuitBreakersSchema, { thresholds: [defaultThresholds()] });

function applyHttpOptions(c: Cluster, cp: ConnectionPoolSettings | undefined, protocol: string, target: 'sidecar' | 'grpc'): void {
  if (target === 'grpc' || !isHttp(protocol)) return;
  const idle = cp?.http?.idleTimeout ?? cp?.tcp?.idleTimeout;
  const maxReq = cp?.http?.maxRequestsPerConnection;
  const maxDuration = cp?.tcp?.maxConnectionDuration;
  const h2 = isHttp2(protocol) || cp?.http?.h2UpgradePolicy === 'UPGRADE';
  if (!h2 && !idle && !maxReq && !maxDuration) return;
  const opts = create(HttpProtocolOptionsSchema, {
    upstreamProtocolOptions: {
      case: 'explicitHttpConfig',
      value: create(HttpProtocolOptions_ExplicitHttpConfigSchema, {
        protocolConfig: h2
          ? { case: 'http2ProtocolOptions', value: create(Http2ProtocolOptionsSchema, cp?.http?.maxConcurrentStreams ? { maxConcurrentStreams: cp.http.maxConcurrentStreams } : {}) }
          : { case: 'httpProtocolOptions', value: create(Http1ProtocolOptionsSchema) },
      }),
    },
  });
  if (idle || maxReq || maxDuration) {
    opts.commonHttpProtocolOptions = create(CoreHttpProtocolOptionsSchema, {
      ...(idle ? { idleTimeout: duration(idle) } : {}),
      ...(maxReq ? { maxRequestsPerConnection: maxReq } : {}),
      ...(maxDuration ? { maxConnectionDuration: duration(maxDuration) } : {}),
    });
  }
  c.typedExtensionProtocolOptions[HTTP_OPTIONS_KEY] = anyPack(HttpProtocolOptionsSchema, opts);
}

/**
 * Istio's applyOutlierDetection, field by field: success-rate ejection off; each consecutive
 * error kind enforced at 100% when its threshold is > 0 (0 when 0); the deprecated
 * consecutiveErrors counts gateway errors only; minHealthPercent is the panic threshold, which
 * Istio sets even at 0 (Envoy's 50% default would send traffic to ejected hosts).
 */
function applyOutlierDetection(c: Cluster, od: OutlierDetection): void {
  const out: EnvoyOutlier = create(OutlierDetectionSchema, { enforcingSuccessRate: 0 });
  if (od.consecutiveErrors !== undefined && od.consecutiveErrors > 0) {
    out.consecutiveGatewayFailure = od.consecutiveErrors;
    out.enforcingConsecutiveGatewayFailure = 100;
    out.enforcingConsecutive5xx = 0;
  }
  if (od.consecutive5xxErrors !== undefined) {
    out.consecutive5xx = od.consecutive5xxErrors;
    out.enforcingConsecutive5xx = od.consecutive5xxErrors > 0 ? 100 : 0;
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    out.consecutiveGatewayFailure = od.consecutiveGatewayErrors;
    out.enforcingConsecutiveGatewayFailure = od.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  if (od.interval) out.interval = duration(od.interval);
  if (od.baseEjectionTime) out.baseEjectionTime = duration(od.baseEjectionTime);
  if (od.maxEjectionPercent !== undefined && od.maxEjectionPercent > 0) out.maxEjectionPercent = od.maxEjectionPercent;
  if (od.splitExternalLocalOriginErrors) {
    out.splitExternalLocalOriginErrors = true;
    if (od.consecutiveLocalOriginFailures !== undefined && od.consecutiveLocalOriginFailures > 0) {
      out.consecutiveLocalOriginFailure = od.consecutiveLocalOriginFailures;
      out.enforcingConsecutiveLocalOriginFailure = 100;
    }
    out.enforcingLocalOriginSuccessRate = 0;
  }
  c.outlierDetection = out;
  c.commonLbConfig = create(Cluster_CommonLbConfigSchema, { healthyPanicThreshold: create(PercentSchema, { value: Math.max(0, od.minHealthPercent ?? 0) }) });
}

/** `inbound|<port>||`: the application behind this sidecar, on loopback. */
export function inboundClusterOf(appPort: number): Cluster {
  const name = inboundCluster(appPort);
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: seconds(CONNECT_TIMEOUT_S),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    loadAssignment: loadAssignment(name, [{ address: '127.0.0.1', port: appPort, labels: {}, weight: 1, healthy: true, serviceAccount: '', source: 'inbound' }], 'sidecar'),
    circuitBreakers: DEFAULT_BREAKERS,
  });
}

/** Traffic for no known service goes where the client sent it (Istio's PassthroughCluster). */
export function passthroughClusterOf(): Cluster {
  return originalDst(PASSTHROUGH);
}

function originalDst(name: string): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    connectTimeout: seconds(CONNECT_TIMEOUT_S),
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    // Without traffic capture the destination comes from the request (HTTP proxy mode).
    lbConfig: { case: 'originalDstLbConfig', value: create(Cluster_OriginalDstLbConfigSchema, { useHttpHeader: true }) },
  });
}

/** A cluster with no endpoints: REGISTRY_ONLY's destination for unknown TCP traffic. */
export function blackholeClusterOf(): Cluster {
  return create(ClusterSchema, {
    name: BLACKHOLE,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: seconds(CONNECT_TIMEOUT_S),
  });
}
