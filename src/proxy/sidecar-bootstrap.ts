import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { BootstrapSchema, type Bootstrap } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy } from '../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterSchema } from '../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RoutingPriority } from '../envoy/generated/envoy/config/core/v3/base_pb.js';
import { ApiConfigSource_ApiType, ApiVersion } from '../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import type { ConfigSourceSchema } from '../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import { HttpProtocolOptionsSchema } from '../envoy/generated/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { nodeOf, TLS_MODE_LABEL } from '../envoy/node-metadata.js';
import { adminCluster, statusListener, STATUS_TYPE_NAMES } from './sidecar-status.js';

/** What `tsmesh proxy --xds ...` is told about itself and its control plane. */
export interface SidecarOptions {
  /** The control plane's xDS address. */
  readonly xds: { readonly host: string; readonly port: number };
  /** SotW (`StreamAggregatedResources`) or incremental (`DeltaAggregatedResources`) ADS. */
  readonly xdsApi: 'sotw' | 'delta';
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** The workload's address (first of INSTANCE_IPS, part of the node id). */
  readonly ip: string;
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly adminPort: number;
  readonly appPorts: readonly number[];
  /** REDIRECT: iptables captures the workload's traffic (Istio's INTERCEPTION_MODE). */
  readonly interceptionMode?: 'REDIRECT';
  /** The service the workload offers where no ServiceEntry declares it (tsmesh run). */
  readonly service?: { readonly name: string; readonly ports: readonly { readonly number: number; readonly protocol: string }[] };
  /** The health port (`/healthz/ready` on 0.0.0.0, for the kubelet); none when undefined. */
  readonly statusPort?: number;
  /**
   * Joining with a token (`--token-file`): xDS goes to the control plane's TLS port and the
   * proxy's agent gets the workload certificate (src/proxy/agent). Absent: plaintext xDS.
   */
  readonly join?: SidecarJoin;
}

export interface SidecarJoin {
  /** The join token's text (read from --token-file). */
  readonly token: string;
  /** Where the CA is, when not at the xDS address (--ca-address). */
  readonly ca?: { readonly host: string; readonly port: number };
  /** Requested workload certificate lifetime (--workload-cert-ttl); undefined: the CA's default. */
  readonly certTtlSeconds?: number;
}

/** Istio's defaults (see DESIGN.md, ports). */
export const SIDECAR_DEFAULTS = {
  xdsApi: 'sotw',
  namespace: 'default',
  serviceAccount: 'default',
  ip: '127.0.0.1',
  outboundPort: 15001,
  inboundPort: 15006,
  adminPort: 15000,
} as const;

/** The cluster that carries xDS, named as Istio's pilot-agent names it. */
export const XDS_CLUSTER = 'xds-grpc';

/**
 * The SDS source transport sockets name for `default` and `ROOTCA` (as in Istio's generated
 * config): the proxy answers it in-process from its SecretStore, which its agent fills.
 */
export const SDS_CLUSTER = 'sds-grpc';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * The bootstrap a sidecar runs from when no file is given, shaped like the one Istio's
 * pilot-agent writes: node identity in Istio's metadata keys, admin on 127.0.0.1, one static
 * HTTP/2 cluster to the control plane and ADS for listeners and clusters (routes and endpoints
 * follow from them over the same stream). `typeNames` are the `Any` types it holds, for
 * `registryFor`. Pure.
 */
export function sidecarBootstrap(o: SidecarOptions): { bootstrap: Bootstrap; typeNames: string[] } {
  const node = nodeOf({
    name: o.name,
    namespace: o.namespace,
    // A sidecar that joins with a token has a workload certificate: like Istio's injector, it
    // says so with this label, which the control plane's auto mTLS reads.
    labels: o.join ? { [TLS_MODE_LABEL]: 'istio', ...o.labels } : o.labels,
    serviceAccount: o.serviceAccount,
    ips: [o.ip],
    generator: 'sidecar',
    inboundPort: o.inboundPort,
    outboundPort: o.outboundPort,
    appPorts: o.appPorts,
    ...(o.interceptionMode ? { interceptionMode: o.interceptionMode } : {}),
    ...(o.service ? { service: o.service } : {}),
    // The admin port serves /stats/prometheus; on loopback, where the control plane runs too.
    statsPort: o.adminPort,
  });
  const ads: MessageInitShape<typeof ConfigSourceSchema> = {
    configSourceSpecifier: { case: 'ads', value: {} },
    resourceApiVersion: ApiVersion.V3,
  };
  const bootstrap = create(BootstrapSchema, {
    node,
    admin: { address: socketAddress('127.0.0.1', o.adminPort) },
    staticResources: o.statusPort
      ? { listeners: [statusListener(o.statusPort)], clusters: [xdsCluster(o.xds.host, o.xds.port), adminCluster(o.adminPort)] }
      : { clusters: [xdsCluster(o.xds.host, o.xds.port)] },
    dynamicResources: {
      adsConfig: {
        apiType: o.xdsApi === 'delta' ? ApiConfigSource_ApiType.DELTA_GRPC : ApiConfigSource_ApiType.GRPC,
        transportApiVersion: ApiVersion.V3,
        grpcServices: [{ targetSpecifier: { case: 'envoyGrpc', value: { clusterName: XDS_CLUSTER } } }],
        setNodeOnFirstMessageOnly: true,
      },
      cdsConfig: ads,
      ldsConfig: ads,
    },
  });
  return { bootstrap, typeNames: [HTTP_PROTOCOL_OPTIONS, ...(o.statusPort ? STATUS_TYPE_NAMES : [])] };
}

function xdsCluster(host: string, port: number): MessageInitShape<typeof ClusterSchema> {
  // Limits as high as Istio sets them: the xDS stream must never be refused by a breaker.
  const open = { maxConnections: 100_000, maxPendingRequests: 100_000, maxRequests: 100_000 };
  return {
    name: XDS_CLUSTER,
    clusterDiscoveryType: { case: 'type', value: isIP(host) ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
    connectTimeout: { seconds: 1n },
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    circuitBreakers: {
      thresholds: [{ priority: RoutingPriority.DEFAULT, ...open }, { priority: RoutingPriority.HIGH, ...open }],
    },
    // gRPC needs HTTP/2 to the control plane.
    typedExtensionProtocolOptions: {
      [HTTP_PROTOCOL_OPTIONS]: anyPack(HttpProtocolOptionsSchema, create(HttpProtocolOptionsSchema, {
        upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
      })),
    },
    loadAssignment: {
      clusterName: XDS_CLUSTER,
      endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: socketAddress(host, port) } } }] }],
    },
  };
}

function socketAddress(address: string, port: number) {
  return { address: { case: 'socketAddress' as const, value: { address, portSpecifier: { case: 'portValue' as const, value: port } } } };
}

/**
 * Parses `HOST:PORT` or `[IPv6]:PORT`; returns a reason instead when it is not one. Pure.
 */
export function parseHostPort(s: string): { host: string; port: number } | string {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]\s/]+):(\d{1,5})$/.exec(s);
  if (!m) return `expected HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(s)}`;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `port must be 1-65535, got ${m[2]}`;
  const host = m[1]!;
  if (s.startsWith('[') && isIP(host) !== 6) return `${JSON.stringify(host)} is not an IPv6 address`;
  if (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(host)) {
    return `${JSON.stringify(host)} is neither an IP address nor a DNS name`;
  }
  return { host, port };
}
