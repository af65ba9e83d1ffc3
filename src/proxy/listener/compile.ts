import type { Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../envoy/generated/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { TlsInspectorSchema } from '../../envoy/generated/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { OriginalDstSchema } from '../../envoy/generated/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { LocalRateLimitSchema as NetworkLocalRateLimitSchema } from '../../envoy/generated/envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit_pb.js';
import { durationMs } from '../../envoy/duration.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../envoy/registry.js';
import { compileHcm, type HcmConfig } from '../http/conn-manager/config.js';
import { compileTcpProxy, type TcpProxyConfig } from '../tcp/tcp-proxy.js';
import { compileNetworkLocalRateLimit, type NetworkLocalRateLimitConfig } from '../tcp/local-ratelimit.js';
import type { NetworkRbacConfig } from '../tcp/rbac.js';
import { NETWORK_RBAC_TYPE_URL, networkRbacCode } from '../tcp/rbac-load.js';
import { parseStatsPluginConfig, TYPED_STRUCT_TYPE_URL, type StatsPluginConfig } from '../istio-stats/plugin-config.js';
import { isMetadataExchangeConfig, parseMetadataExchangeConfig, METADATA_EXCHANGE_FILTER, METADATA_EXCHANGE_TYPE_URL, type MetadataExchangeConfig } from '../tcp/peer-exchange/config.js';
import { TrafficDirection } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import type { TrafficDirectionName } from '../http/filters/types.js';
import { compileMatch, matchKey, needsTlsInspection, type CompiledMatch } from './filter-chain-match.js';
import { compileTransportSocket } from '../tls/transport-socket.js';
import type { TlsContextSpec } from '../tls/context-config.js';

export type NetworkFilterSpec =
  | { readonly kind: 'http_connection_manager'; readonly config: HcmConfig }
  | { readonly kind: 'tcp_proxy'; readonly config: TcpProxyConfig };

/** A network filter that comes before the terminal one in a chain. */
export type NetworkReadFilterSpec =
  | { readonly kind: 'local_ratelimit'; readonly config: NetworkLocalRateLimitConfig }
  | { readonly kind: 'rbac'; readonly config: NetworkRbacConfig }
  | { readonly kind: 'istio_stats'; readonly config: StatsPluginConfig }
  /** Istio's TCP metadata exchange: the filters after it start once the peer's frame is read. */
  | { readonly kind: 'metadata_exchange'; readonly config: MetadataExchangeConfig };

export interface FilterChainSpec {
  readonly name: string;
  readonly match: CompiledMatch;
  /** `filters` before the last, in order: each sees a new connection first and may close it. */
  readonly readFilters: readonly NetworkReadFilterSpec[];
  /** The last of `filters`, which takes the connection. */
  readonly filter: NetworkFilterSpec;
  /** The listener's traffic_direction (Istio's stats filters report by it). */
  readonly direction: TrafficDirectionName;
  /** transport_socket `envoy.transport_sockets.tls`: the chain terminates TLS before its filters. */
  readonly tls: TlsContextSpec | undefined;
}

export interface ListenerSpec {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly chains: readonly FilterChainSpec[];
  readonly defaultChain: FilterChainSpec | undefined;
  readonly tlsInspector: boolean;
  readonly listenerFiltersTimeoutMs: number;
  readonly continueOnListenerFiltersTimeout: boolean;
  readonly statPrefix: string;
  /** false: never bound; it serves connections handed to it by a `useOriginalDst` listener. */
  readonly bindToPort: boolean;
  /** Hands each connection to the listener on its original destination (see handoff.ts). */
  readonly useOriginalDst: boolean;
  /**
   * Connections are seen with their original destination as local address (the
   * `envoy.filters.listener.original_dst` listener filter, implied by use_original_dst).
   */
  readonly originalDst: boolean;
}

/** Validates a Listener and compiles its filter chains. Pure. */
export function compileListener(l: Listener, path: string): ListenerSpec {
  if (!l.name) throw new ConfigError(`${path}.name`, 'a listener needs a name');
  const addr = l.address?.address;
  if (addr?.case !== 'socketAddress') throw new ConfigError(`${path}.address`, 'a socket_address is required');
  const sa = addr.value;
  if (sa.portSpecifier.case !== 'portValue') throw new ConfigError(`${path}.address.socket_address`, 'port_value is required');
  const port = sa.portSpecifier.value;
  if (port > 65535) throw new ConfigError(`${path}.address.socket_address.port_value`, `expected 0-65535, got ${port}`);
  let tlsInspector = false;
  let originalDst = false;
  l.listenerFilters.forEach((f, i) => {
    const p = `${path}.listener_filters[${i}]`;
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    if (any?.typeUrl === typeUrlOf(TlsInspectorSchema)) { unpackAs(any, TlsInspectorSchema, `${p}.typed_config`); tlsInspector = true; return; }
    if (any?.typeUrl === typeUrlOf(OriginalDstSchema)) { unpackAs(any, OriginalDstSchema, `${p}.typed_config`); originalDst = true; return; }
    throw new ConfigError(p, `unsupported listener filter ${f.name}${any ? ` (${any.typeUrl})` : ''}`);
  });
  const direction = directionName(l.trafficDirection);
  const chains = l.filterChains.map((c, i) => compileChain(c, `${path}.filter_chains[${i}]`, direction));
  const seen = new Map<string, number>();
  chains.forEach((c, i) => {
    const k = matchKey(c.match);
    const prev = seen.get(k);
    if (prev !== undefined) throw new ConfigError(`${path}.filter_chains[${i}].filter_chain_match`, `same match rules as filter_chains[${prev}]`);
    seen.set(k, i);
  });
  const defaultChain = l.defaultFilterChain ? compileChain(l.defaultFilterChain, `${path}.default_filter_chain`, direction) : undefined;
  if (chains.length === 0 && !defaultChain) throw new ConfigError(`${path}.filter_chains`, 'at least one filter chain is required');
  return {
    name: l.name,
    address: sa.address || '0.0.0.0',
    port,
    chains,
    defaultChain,
    tlsInspector: tlsInspector && needsTlsInspection(chains.map((c) => c.match)),
    listenerFiltersTimeoutMs: durationMs(l.listenerFiltersTimeout) ?? 15_000,
    continueOnListenerFiltersTimeout: l.continueOnListenerFiltersTimeout,
    statPrefix: l.statPrefix,
    bindToPort: l.bindToPort ?? true,
    useOriginalDst: l.useOriginalDst ?? false,
    // Envoy adds the original_dst listener filter itself when use_original_dst is set.
    originalDst: originalDst || (l.useOriginalDst ?? false),
  };
}

function directionName(d: TrafficDirection): TrafficDirectionName {
  return d === TrafficDirection.INBOUND ? 'INBOUND' : d === TrafficDirection.OUTBOUND ? 'OUTBOUND' : 'UNSPECIFIED';
}

function compileChain(c: FilterChain, path: string, direction: TrafficDirectionName): FilterChainSpec {
  const tls = compileTransportSocket(c.transportSocket, 'downstream', `${path}.transport_socket`);
  if (c.filters.length === 0) throw new ConfigError(`${path}.filters`, 'a terminal network filter (http_connection_manager or tcp_proxy) is required');
  const last = c.filters.length - 1;
  const readFilters: NetworkReadFilterSpec[] = [];
  let filter: NetworkFilterSpec | undefined;
  c.filters.forEach((f, i) => {
    const p = `${path}.filters[${i}]`;
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    if (!any) throw new ConfigError(`${p}.typed_config`, 'required');
    const tp = `${p}.typed_config`;
    let terminal: NetworkFilterSpec | undefined;
    if (any.typeUrl === typeUrlOf(HttpConnectionManagerSchema)) {
      terminal = { kind: 'http_connection_manager', config: compileHcm(unpackAs(any, HttpConnectionManagerSchema, tp), tp, direction === 'OUTBOUND' ? 'egress' : 'ingress') };
    } else if (any.typeUrl === typeUrlOf(TcpProxySchema)) {
      terminal = { kind: 'tcp_proxy', config: compileTcpProxy(unpackAs(any, TcpProxySchema, tp), tp) };
    } else if (any.typeUrl === typeUrlOf(NetworkLocalRateLimitSchema)) {
      if (i === last) throw new ConfigError(p, `${f.name || 'local_ratelimit'} cannot be the last filter: a chain ends with http_connection_manager or tcp_proxy`);
      readFilters.push({ kind: 'local_ratelimit', config: compileNetworkLocalRateLimit(unpackAs(any, NetworkLocalRateLimitSchema, tp), tp) });
      return;
    } else if (any.typeUrl === NETWORK_RBAC_TYPE_URL) {
      if (i === last) throw new ConfigError(p, `${f.name || 'rbac'} cannot be the last filter: a chain ends with http_connection_manager or tcp_proxy`);
      readFilters.push({ kind: 'rbac', config: networkRbacCode().compileNetworkRbacAny(any, tp) });
      return;
    } else if (any.typeUrl === METADATA_EXCHANGE_TYPE_URL || (any.typeUrl === TYPED_STRUCT_TYPE_URL && isMetadataExchangeConfig(any, tp))) {
      if (i === last) throw new ConfigError(p, `${f.name || METADATA_EXCHANGE_FILTER} cannot be the last filter: a chain ends with http_connection_manager or tcp_proxy`);
      readFilters.push({ kind: 'metadata_exchange', config: parseMetadataExchangeConfig(any, tp) });
      return;
    } else if (any.typeUrl === TYPED_STRUCT_TYPE_URL) {
      if (i === last) throw new ConfigError(p, `${f.name || 'istio.stats'} cannot be the last filter: a chain ends with http_connection_manager or tcp_proxy`);
      readFilters.push({ kind: 'istio_stats', config: parseStatsPluginConfig(any, tp) });
      return;
    } else {
      throw new ConfigError(tp, `unsupported network filter ${f.name} (${any.typeUrl})`);
    }
    if (i !== last) throw new ConfigError(p, `${f.name || terminal.kind} is a terminal filter: it must be the last in the chain`);
    filter = terminal;
  });
  return { name: c.name, match: compileMatch(c.filterChainMatch, `${path}.filter_chain_match`), readFilters, filter: filter!, direction, tls };
}
