import type { Bootstrap } from '../../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ApiConfigSource_ApiType, ApiVersion, type ConfigSource } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import type { Node } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { durationMs } from '../../envoy/duration.js';
import { ConfigError } from '../../envoy/registry.js';
import type { ClusterSpec } from '../upstream/cluster.js';
import type { ListenerSpec } from '../listener/compile.js';

/** Envoy's default initial_fetch_timeout: /ready waits this long for the first config. */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** What `dynamic_resources` asks for, validated. */
export interface XdsBootstrap {
  /** The ADS server, from the static cluster `grpc_services[0].envoy_grpc.cluster_name` names. */
  readonly server: { readonly host: string; readonly port: number; readonly cluster: string };
  /** DELTA_GRPC (incremental) rather than GRPC (state of the world). */
  readonly delta: boolean;
  /** set_node_on_first_message_only: the node goes in the first request of a stream only. */
  readonly nodeOnFirstMessageOnly: boolean;
  readonly lds: boolean;
  readonly cds: boolean;
  /** How long /ready waits for the first LDS/CDS (and what they need) before serving anyway; 0: no limit. */
  readonly initialFetchTimeoutMs: number;
  readonly node: Node | undefined;
}

/**
 * Validates `dynamic_resources` against the static clusters (the ADS cluster must be one) and
 * checks that static resources needing ADS (EDS clusters, RDS) have it. Undefined when the
 * bootstrap is static (or invalid: every problem found is added to `errors`). Pure.
 */
export function compileXdsBootstrap(b: Bootstrap, clusters: readonly ClusterSpec[], listeners: readonly ListenerSpec[], errors: ConfigError[]): XdsBootstrap | undefined {
  const before = errors.length;
  const dr = b.dynamicResources;
  const ads = dr?.adsConfig;
  if (!ads) {
    if (dr?.ldsConfig) errors.push(new ConfigError('dynamic_resources.lds_config', 'needs dynamic_resources.ads_config (only ADS is supported)'));
    if (dr?.cdsConfig) errors.push(new ConfigError('dynamic_resources.cds_config', 'needs dynamic_resources.ads_config (only ADS is supported)'));
    clusters.forEach((c, i) => { if (c.discovery === 'EDS') errors.push(new ConfigError(`static_resources.clusters[${i}].eds_cluster_config`, 'EDS needs dynamic_resources.ads_config')); });
    listeners.forEach((l, i) => { if (usesRds(l)) errors.push(new ConfigError(`static_resources.listeners[${i}]`, 'rds needs dynamic_resources.ads_config')); });
    return undefined;
  }
  const p = 'dynamic_resources.ads_config';
  const delta = ads.apiType === ApiConfigSource_ApiType.DELTA_GRPC || ads.apiType === ApiConfigSource_ApiType.AGGREGATED_DELTA_GRPC;
  if (!delta && ads.apiType !== ApiConfigSource_ApiType.GRPC && ads.apiType !== ApiConfigSource_ApiType.AGGREGATED_GRPC) {
    errors.push(new ConfigError(`${p}.api_type`, `expected GRPC or DELTA_GRPC, got ${ApiConfigSource_ApiType[ads.apiType] ?? ads.apiType}`));
  }
  if (ads.transportApiVersion !== ApiVersion.V3) errors.push(new ConfigError(`${p}.transport_api_version`, 'V3 is required'));
  let server: XdsBootstrap['server'] | undefined;
  if (ads.grpcServices.length !== 1) errors.push(new ConfigError(`${p}.grpc_services`, `expected exactly one grpc service, got ${ads.grpcServices.length}`));
  else {
    const g = ads.grpcServices[0]!.targetSpecifier;
    if (g.case !== 'envoyGrpc') errors.push(new ConfigError(`${p}.grpc_services[0]`, 'envoy_grpc is required'));
    else {
      const name = g.value.clusterName;
      const c = clusters.find((x) => x.name === name);
      if (!c) errors.push(new ConfigError(`${p}.grpc_services[0].envoy_grpc.cluster_name`, `unknown static cluster "${name}"`));
      else if (c.discovery === 'EDS' || c.endpoints.length === 0) errors.push(new ConfigError(`${p}.grpc_services[0].envoy_grpc.cluster_name`, `cluster "${name}" needs an endpoint in load_assignment`));
      else server = { host: c.endpoints[0]!.address, port: c.endpoints[0]!.port, cluster: name };
    }
  }
  const timeouts: number[] = [];
  const source = (cs: ConfigSource | undefined, path: string): boolean => {
    if (!cs) return false;
    if (cs.configSourceSpecifier.case !== 'ads') errors.push(new ConfigError(path, 'only ads: {} is supported'));
    if (cs.resourceApiVersion !== ApiVersion.V3 && cs.resourceApiVersion !== ApiVersion.AUTO) errors.push(new ConfigError(`${path}.resource_api_version`, 'V3 is required'));
    const t = durationMs(cs.initialFetchTimeout);
    timeouts.push(t ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS);
    return true;
  };
  const lds = source(dr.ldsConfig, 'dynamic_resources.lds_config');
  const cds = source(dr.cdsConfig, 'dynamic_resources.cds_config');
  if (errors.length > before) return undefined;
  return {
    server: server!,
    delta,
    nodeOnFirstMessageOnly: ads.setNodeOnFirstMessageOnly,
    lds,
    cds,
    // Envoy: 0 disables the timeout.
    initialFetchTimeoutMs: timeouts.includes(0) ? 0 : Math.max(0, ...timeouts),
    node: b.node,
  };
}

function usesRds(l: ListenerSpec): boolean {
  return [...l.chains, ...(l.defaultChain ? [l.defaultChain] : [])].some((c) => c.filter.kind === 'http_connection_manager' && c.filter.config.rds !== undefined);
}
