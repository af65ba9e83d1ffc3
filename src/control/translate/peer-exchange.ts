/*
 * Istio's TCP metadata exchange in generated config (istio/istio, pilot/pkg/xds/filters:
 * TCPListenerMx, TCPClusterMx): `istio.metadata_exchange` first on inbound TCP chains that
 * terminate mesh mTLS, and as an upstream network filter (Cluster.filters) on outbound clusters
 * of TCP ports that use mesh mTLS, so that both sidecars learn who the other is and label
 * istio_tcp_* with it. Config as istiod sends it (a TypedStruct), without enable_discovery:
 * tsmesh has no workload discovery fallback. Pure.
 */
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { FilterSchema, type Filter } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { FilterSchema as ClusterFilterSchema, type Filter as ClusterFilter } from '../../envoy/generated/envoy/config/cluster/v3/filter_pb.js';
import { TypedStructSchema } from '../../envoy/generated/xds/type/v3/typed_struct_pb.js';
import { METADATA_EXCHANGE_FILTER, METADATA_EXCHANGE_TYPE_URL, PEER_EXCHANGE_ALPN } from '../../envoy/metadata-exchange.js';


// Shared (outputs are immutable).
const CONFIG: Any = anyPack(TypedStructSchema, create(TypedStructSchema, { typeUrl: METADATA_EXCHANGE_TYPE_URL, value: { protocol: PEER_EXCHANGE_ALPN } }));
const LISTENER_FILTER: Filter = create(FilterSchema, { name: METADATA_EXCHANGE_FILTER, configType: { case: 'typedConfig', value: CONFIG } });
const CLUSTER_FILTER: ClusterFilter = create(ClusterFilterSchema, { name: METADATA_EXCHANGE_FILTER, typedConfig: CONFIG });

/** The network filter for an inbound mTLS TCP chain (first, before RBAC, stats and tcp_proxy). */
export function metadataExchangeFilter(): Filter {
  return LISTENER_FILTER;
}

/** The upstream network filter for an outbound cluster of a TCP port under mesh mTLS. */
export function metadataExchangeClusterFilter(): ClusterFilter {
  return CLUSTER_FILTER;
}
