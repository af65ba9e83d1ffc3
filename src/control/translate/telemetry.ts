import { create } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import type { Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { FilterSchema, type Filter, type FilterChain } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema, HttpFilterSchema, type HttpFilter } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TypedStructSchema } from '../../envoy/generated/xds/type/v3/typed_struct_pb.js';
import { HCM_FILTER, TCP_PROXY_FILTER } from './network-filters.js';

/** Istio's name for its stats filters (HTTP and network). */
export const ISTIO_STATS_FILTER = 'istio.stats';

/**
 * Istio's stats filter config: a TypedStruct carrying stats.PluginConfig. Empty: the reporter
 * follows the listener's traffic_direction (inbound: destination, outbound: source), as in
 * the config istiod generates.
 */
function statsConfig(): Any {
  return anyPack(TypedStructSchema, create(TypedStructSchema, { typeUrl: 'type.googleapis.com/stats.PluginConfig', value: {} }));
}

/**
 * Adds Istio's standard metrics to a sidecar's listeners, as istiod does: `istio.stats` before
 * the router in every HTTP connection manager, and the network `istio.stats` before every
 * tcp_proxy. A pass over the finished listeners, so that every chain gets it, whoever built it.
 * Pure; changes `listeners` in place and returns them.
 */
export function withIstioStats(listeners: Listener[]): Listener[] {
  for (const l of listeners) {
    for (const chain of l.filterChains) addToChain(chain);
    if (l.defaultFilterChain) addToChain(l.defaultFilterChain);
  }
  return listeners;
}

function addToChain(chain: FilterChain): void {
  const fs = chain.filters;
  if (fs.some((f) => f.name === ISTIO_STATS_FILTER)) return;
  const last = fs[fs.length - 1];
  if (!last || last.configType.case !== 'typedConfig') return;
  if (last.name === TCP_PROXY_FILTER) {
    fs.splice(fs.length - 1, 0, create(FilterSchema, { name: ISTIO_STATS_FILTER, configType: { case: 'typedConfig', value: statsConfig() } }));
    return;
  }
  if (last.name !== HCM_FILTER) return;
  const hcm = anyUnpack(last.configType.value, HttpConnectionManagerSchema);
  if (!hcm || hcm.httpFilters.some((f) => f.name === ISTIO_STATS_FILTER)) return;
  const stats: HttpFilter = create(HttpFilterSchema, { name: ISTIO_STATS_FILTER, configType: { case: 'typedConfig', value: statsConfig() } });
  // Before the router (the last filter): it sees the request as the router will send it.
  hcm.httpFilters.splice(Math.max(0, hcm.httpFilters.length - 1), 0, stats);
  (last as Filter).configType = { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) };
}
