/*
 * The filter chains of an inbound listener for one workload port, with the workload's security:
 * - the effective mTLS mode at that port (security-policies.ts) decides the chains, as Istio:
 *   STRICT a TLS chain only (transport_protocol "tls", client certificate required); PERMISSIVE
 *   that TLS chain (for clients offering Istio's ALPN) and a plaintext one (transport_protocol
 *   "raw_buffer"); DISABLE plaintext only. Chains told apart by transport need the listener's
 *   tls_inspector. A sidecar without a mesh identity (no certificate) keeps PERMISSIVE plaintext
 *   only; STRICT keeps its TLS chain and so accepts nothing until the certificate arrives.
 * - HTTP: jwt_authn (RequestAuthentication), then RBAC (AuthorizationPolicy), then the router;
 *   the TLS chain's connection manager tells the application who called (x-forwarded-client-cert,
 *   APPEND_FORWARD with the peer's subject, URI and DNS SANs).
 * - TCP: network RBAC before tcp_proxy; on the mTLS chain Istio's TCP metadata exchange first.
 * Used by virtualInbound (listeners.ts) and by any inbound listener built per port. Pure.
 */
import { clone, create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { FilterChainSchema, FilterChainMatchSchema, ListenerFilterSchema, type FilterChain, type Filter, type ListenerFilter } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import {
  HttpConnectionManagerSchema, HttpConnectionManager_ForwardClientCertDetails, HttpConnectionManager_SetCurrentClientCertDetailsSchema, type HttpConnectionManager, type HttpFilter,
} from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TlsInspectorSchema } from '../../envoy/generated/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import type { Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { httpRbacFilters, networkRbacFilters } from './authz.js';
import { jwtConfig } from './jwt.js';
import { hcmFilter } from './network-filters.js';
import type { MeshIndex } from './mesh-index.js';
import { authorizationPoliciesFor, hasMeshIdentity, mtlsModeFor, requestAuthenticationsFor, workloadLabels, type EffectiveMtls, type WorkloadRef } from './security-policies.js';
import { MTLS_ALPN, istioMutualDownstream } from './tls-context.js';
import { metadataExchangeFilter } from './peer-exchange.js';

export const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';

/** A workload's inbound security, computed once per proxy and shared by its inbound chains. */
export interface InboundSecurity {
  readonly workload: WorkloadRef;
  /** Whether the sidecar has a workload certificate (its `security.istio.io/tlsMode: istio` label). */
  readonly identity: boolean;
  mode(port: number | undefined): EffectiveMtls;
  /**
   * jwt_authn and RBAC filters, to put before the router. `workloadPort`: the chain serves that
   * one workload port but connections arrive on another (no traffic capture).
   */
  httpFilters(workloadPort?: number): HttpFilter[];
  /** Network RBAC filters, to put before tcp_proxy (`workloadPort` as for httpFilters). */
  networkFilters(workloadPort?: number): Filter[];
  /** Clusters the jwt_authn filter fetches remote JWKS through. */
  readonly clusters: readonly Cluster[];
}

export function inboundSecurity(index: MeshIndex, proxy: ProxyIdentity): InboundSecurity {
  const config = index.mesh.config;
  const workload: WorkloadRef = { namespace: proxy.namespace, labels: workloadLabels(config, proxy) };
  const policies = authorizationPoliciesFor(config, workload);
  const jwt = jwtConfig(requestAuthenticationsFor(config, workload), index);
  return {
    workload,
    identity: hasMeshIdentity(workload.labels),
    mode: (port) => mtlsModeFor(config, workload, port),
    httpFilters: (workloadPort) => [...(jwt.filter ? [jwt.filter] : []), ...httpRbacFilters(policies, jwt.issuers, workloadPort)],
    networkFilters: (workloadPort) => networkRbacFilters(policies, workloadPort),
    clusters: jwt.clusters,
  };
}

export interface InboundPort {
  /** The workload's port (where the application listens): what portLevelMtls names. */
  readonly port: number;
  /** Base name of the chains (today `inbound|<port>||`). */
  readonly name: string;
  /** Only with traffic capture: the original destination port the chains match. */
  readonly destinationPort?: number;
  /** Where the chains end: an HTTP connection manager (its router last) or a tcp_proxy. */
  readonly terminal: InboundTerminal;
}

export type InboundTerminal = { readonly kind: 'http'; readonly hcm: HttpConnectionManager } | { readonly kind: 'tcp'; readonly filter: Filter };

/**
 * The chains for one workload port, and whether the listener needs tls_inspector. A plaintext-only
 * port keeps one chain named `name` (no transport match), exactly as before mTLS existed.
 */
export function inboundChains(sec: InboundSecurity, p: InboundPort): { chains: FilterChain[]; tlsInspector: boolean } {
  const mode = sec.mode(p.port);
  const tls = mode === 'STRICT' || (mode === 'PERMISSIVE' && sec.identity);
  const plain = mode !== 'STRICT';
  // Without capture the connection's destination is the sidecar's port: decide port rules here.
  const workloadPort = p.destinationPort === undefined ? p.port : undefined;
  const filters = (mtls: boolean): Filter[] => withSecurity(sec, p.terminal, mtls, workloadPort);
  const dst = p.destinationPort !== undefined ? { destinationPort: p.destinationPort } : {};
  if (!tls) {
    const chain = create(FilterChainSchema, { name: p.name, filters: filters(false) });
    if (p.destinationPort !== undefined) chain.filterChainMatch = create(FilterChainMatchSchema, dst);
    return { chains: [chain], tlsInspector: false };
  }
  const chains = [create(FilterChainSchema, {
    name: `${p.name}/mtls`,
    filterChainMatch: create(FilterChainMatchSchema, { ...dst, transportProtocol: 'tls', ...(plain ? { applicationProtocols: [...MTLS_ALPN] } : {}) }),
    transportSocket: istioMutualDownstream(),
    filters: filters(true),
  })];
  if (plain) chains.push(create(FilterChainSchema, { name: `${p.name}/plaintext`, filterChainMatch: create(FilterChainMatchSchema, { ...dst, transportProtocol: 'raw_buffer' }), filters: filters(false) }));
  return { chains, tlsInspector: true };
}

export function tlsInspector(): ListenerFilter {
  return TLS_INSPECTOR_FILTER;
}

// Shared (outputs are immutable).
const TLS_INSPECTOR_FILTER = create(ListenerFilterSchema, { name: TLS_INSPECTOR, configType: { case: 'typedConfig', value: anyPack(TlsInspectorSchema, create(TlsInspectorSchema)) } });

/** The terminal with the security filters in front (TCP) or inside the HCM before its router (HTTP). */
function withSecurity(sec: InboundSecurity, terminal: InboundTerminal, mtls: boolean, workloadPort: number | undefined): Filter[] {
  // Istio's TCP metadata exchange runs only under mesh mTLS (its ALPN), first in the chain.
  if (terminal.kind === 'tcp') return [...(mtls ? [metadataExchangeFilter()] : []), ...sec.networkFilters(workloadPort), terminal.filter];
  const hcm = clone(HttpConnectionManagerSchema, terminal.hcm);
  hcm.httpFilters = [...sec.httpFilters(workloadPort), ...hcm.httpFilters];
  if (mtls) {
    hcm.forwardClientCertDetails = HttpConnectionManager_ForwardClientCertDetails.APPEND_FORWARD;
    hcm.setCurrentClientCertDetails = create(HttpConnectionManager_SetCurrentClientCertDetailsSchema, { subject: true, uri: true, dns: true });
  }
  return [hcmFilter(hcm)];
}
