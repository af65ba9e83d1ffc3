/**
 * The config of Istio's metadata exchange filter (`istio.metadata_exchange`, a network filter
 * on listeners and an upstream network filter on clusters): an `xds.type.v3.TypedStruct` whose
 * type_url is `type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange`, as
 * Istio's control plane sends it (istio/istio, pilot/pkg/xds/filters). The Istio proto is not
 * among the Envoy protos tsmesh generates types from, and the TypedStruct form is what istiod
 * generates, so that is the form accepted; the packed message form is refused with a reason.
 * Pure.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { TypedStructSchema } from '../../../envoy/generated/xds/type/v3/typed_struct_pb.js';
import type { Filter as ClusterFilter } from '../../../envoy/generated/envoy/config/cluster/v3/filter_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../../envoy/registry.js';
import { METADATA_EXCHANGE_FILTER, METADATA_EXCHANGE_TYPE_URL, PEER_EXCHANGE_ALPN } from '../../../envoy/metadata-exchange.js';

export { METADATA_EXCHANGE_FILTER, METADATA_EXCHANGE_TYPE_URL, PEER_EXCHANGE_ALPN };

export interface MetadataExchangeConfig {
  /** The ALPN that turns the exchange on for a connection. */
  readonly protocol: string;
}

const FIELDS = ['protocol', 'enable_discovery', 'additional_labels'] as const;

/** Whether a TypedStruct `typed_config` is this filter's (to tell it from istio.stats's). */
export function isMetadataExchangeConfig(any: Any | undefined, path: string): boolean {
  return unpackAs(any, TypedStructSchema, path).typeUrl === METADATA_EXCHANGE_TYPE_URL;
}

/** Parses the filter's typed_config (`path` is its path, for errors). */
export function parseMetadataExchangeConfig(any: Any | undefined, path: string): MetadataExchangeConfig {
  if (any?.typeUrl === METADATA_EXCHANGE_TYPE_URL) {
    throw new ConfigError(path, `${METADATA_EXCHANGE_TYPE_URL} is accepted as an xds.type.v3.TypedStruct (as istiod sends it), not packed`);
  }
  const ts = unpackAs(any, TypedStructSchema, path);
  if (ts.typeUrl !== METADATA_EXCHANGE_TYPE_URL) throw new ConfigError(`${path}.type_url`, `expected ${METADATA_EXCHANGE_TYPE_URL}, got ${ts.typeUrl || '(empty)'}`);
  const value: Record<string, JsonValue> = ts.value ?? {};
  for (const k of Object.keys(value)) {
    if (!(FIELDS as readonly string[]).includes(k)) throw new ConfigError(`${path}.value.${k}`, `field is not supported by tsmesh (supported: ${FIELDS.join(', ')})`);
  }
  const protocol = value['protocol'];
  if (typeof protocol !== 'string' || protocol === '') throw new ConfigError(`${path}.value.protocol`, `expected a non-empty ALPN string such as "${PEER_EXCHANGE_ALPN}", got ${JSON.stringify(protocol ?? null)}`);
  // Workload discovery (Istio's WDS fallback for peers without the exchange) and extra labels
  // are not implemented: only their off values are accepted, so nothing is silently ignored.
  const discovery = value['enable_discovery'] ?? false;
  if (discovery !== false) throw new ConfigError(`${path}.value.enable_discovery`, `workload discovery is not supported by tsmesh: expected false or absent, got ${JSON.stringify(discovery)}`);
  const labels = value['additional_labels'] ?? [];
  if (!Array.isArray(labels) || labels.length > 0) throw new ConfigError(`${path}.value.additional_labels`, `not supported by tsmesh: expected empty or absent, got ${JSON.stringify(labels)}`);
  return { protocol };
}

/**
 * A cluster's `filters` (upstream network filters): tsmesh implements only
 * `istio.metadata_exchange`, which tcp_proxy runs on the cluster's connections (Istio's ALPN
 * override keeps it inert on HTTP connections; tsmesh's HTTP pools do not run it).
 */
export function compileClusterFilters(filters: readonly ClusterFilter[], path: string): MetadataExchangeConfig | undefined {
  let mx: MetadataExchangeConfig | undefined;
  filters.forEach((f, i) => {
    const p = `${path}[${i}]`;
    if (f.configDiscovery) throw new ConfigError(`${p}.config_discovery`, 'not supported by tsmesh (use typed_config)');
    const any = f.typedConfig;
    const isMx = any?.typeUrl === METADATA_EXCHANGE_TYPE_URL || (any?.typeUrl === typeUrlOf(TypedStructSchema) && isMetadataExchangeConfig(any, `${p}.typed_config`));
    if (!isMx) throw new ConfigError(`${p}.typed_config`, `unsupported upstream network filter ${f.name || '(unnamed)'} (${any?.typeUrl ?? 'no typed_config'}): tsmesh implements ${METADATA_EXCHANGE_FILTER} only`);
    if (mx) throw new ConfigError(p, `${METADATA_EXCHANGE_FILTER} is already in this cluster's filters`);
    mx = parseMetadataExchangeConfig(any, `${p}.typed_config`);
  });
  return mx;
}
