import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { TransportSocket } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import type { Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { RawBufferSchema } from '../../envoy/generated/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../envoy/registry.js';
import { compileDownstreamTlsContext, compileUpstreamTlsContext, type TlsContextSpec } from './context-config.js';

export const TLS_SOCKET = 'envoy.transport_sockets.tls';
export const RAW_BUFFER_SOCKET = 'envoy.transport_sockets.raw_buffer';
/** The endpoint filter_metadata key transport_socket_matches look in. */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';

/**
 * A transport_socket: TLS (its context) or plaintext (undefined), by `typed_config` type,
 * else by name. Pure.
 */
export function compileTransportSocket(ts: TransportSocket | undefined, side: 'downstream' | 'upstream', path: string): TlsContextSpec | undefined {
  if (!ts) return undefined;
  const any = ts.configType.case === 'typedConfig' ? ts.configType.value : undefined;
  const tp = `${path}.typed_config`;
  if (any?.typeUrl === typeUrlOf(RawBufferSchema) || (!any && ts.name === RAW_BUFFER_SOCKET)) {
    if (any) unpackAs(any, RawBufferSchema, tp);
    return undefined;
  }
  if (side === 'downstream' && any?.typeUrl === typeUrlOf(DownstreamTlsContextSchema)) {
    return compileDownstreamTlsContext(unpackAs(any, DownstreamTlsContextSchema, tp), tp);
  }
  if (side === 'upstream' && any?.typeUrl === typeUrlOf(UpstreamTlsContextSchema)) {
    return compileUpstreamTlsContext(unpackAs(any, UpstreamTlsContextSchema, tp), tp);
  }
  if (!any) throw new ConfigError(tp, `${ts.name || 'a transport socket'} needs typed_config (${side === 'downstream' ? 'DownstreamTlsContext' : 'UpstreamTlsContext'} or RawBuffer)`);
  throw new ConfigError(tp, `unsupported transport socket ${ts.name} (${any.typeUrl}): a ${side} transport socket is ${side === 'downstream' ? 'DownstreamTlsContext' : 'UpstreamTlsContext'} or RawBuffer`);
}

/** One of a cluster's transport_socket_matches, compiled. */
export interface TransportSocketMatchSpec {
  readonly name: string;
  readonly match: JsonObject;
  readonly tls: TlsContextSpec | undefined;
}

/** A cluster's transport sockets: the default and the per-endpoint matches (Istio's auto mTLS). */
export interface ClusterTransportSpec {
  readonly default: TlsContextSpec | undefined;
  readonly matches: readonly TransportSocketMatchSpec[];
}

export function compileClusterTransport(c: Cluster, path: string): ClusterTransportSpec {
  const matches = c.transportSocketMatches.map((m, i) => {
    const p = `${path}.transport_socket_matches[${i}]`;
    if (!m.name) throw new ConfigError(`${p}.name`, 'required');
    if (!m.transportSocket) throw new ConfigError(`${p}.transport_socket`, 'required');
    return { name: m.name, match: m.match ?? {}, tls: compileTransportSocket(m.transportSocket, 'upstream', `${p}.transport_socket`) };
  });
  return { default: compileTransportSocket(c.transportSocket, 'upstream', `${path}.transport_socket`), matches };
}

/**
 * Envoy's transport socket selection for an endpoint: the first match whose every key equals
 * the endpoint's `envoy.transport_socket_match` metadata (an empty match takes every endpoint),
 * else the cluster's transport_socket. Returns the index of the match, or -1 for the default.
 */
export function selectTransportSocket(matches: readonly TransportSocketMatchSpec[], endpointMatch: JsonObject | undefined): number {
  for (let i = 0; i < matches.length; i++) {
    const want = matches[i]!.match;
    if (Object.keys(want).every((k) => endpointMatch !== undefined && k in endpointMatch && sameJson(want[k]!, endpointMatch[k]!))) return i;
  }
  return -1;
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
