/*
 * TLS of outbound clusters, as Istio's cluster builder decides it (pure):
 * - A DestinationRule `tls` (after port-level and subset overrides) is what the user asked:
 *   DISABLE plaintext, ISTIO_MUTUAL the mesh certificate, SIMPLE / MUTUAL files on the host.
 * - Otherwise auto mTLS (Istio's default): a mesh-internal service's cluster gets two
 *   transport_socket_matches, TLS for endpoints labelled `tlsMode: istio` in
 *   `envoy.transport_socket_match` metadata (workloads with a sidecar whose mTLS mode on that
 *   port is not DISABLE) and plaintext for the others. Only a client proxy with a mesh identity
 *   gets them: without a certificate it could not present one.
 * SANs: the SPIFFE IDs of the service accounts the service's mesh endpoints run as, plus the
 * ServiceEntry's subjectAltNames; the SNI is Istio's `outbound_.PORT_.SUBSET_.HOST`.
 */
import { create } from '@bufbuild/protobuf';
import { Cluster_TransportSocketMatchSchema, type Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import type { ConfigSnapshot, ServicePort } from '../config/kinds.js';
import type { Endpoint, Service } from '../registry/model.js';
import { hasMeshIdentity, mtlsModeFor, trustDomainOf } from './security-policies.js';
import { spiffeId } from '../../pki/spiffe.js';
import { RAW_BUFFER, istioMutualUpstream, meshSni, userTlsUpstream } from './tls-context.js';
import type { EffectivePolicy } from './policy.js';

/** Endpoint metadata key and value Istio's auto mTLS matches on. */
export const TRANSPORT_SOCKET_MATCH = 'envoy.transport_socket_match';
export const TLS_MODE_ISTIO = { tlsMode: 'istio' } as const;

export interface UpstreamTlsInput {
  readonly config: ConfigSnapshot;
  readonly service: Service;
  readonly port: ServicePort;
  readonly subset: string;
  /** Every endpoint of the service port (SANs are per service, not per subset). */
  readonly portEndpoints: readonly Endpoint[];
  readonly policy: EffectivePolicy;
  readonly http2: boolean;
  /** Whether the client proxy has a workload certificate (hasMeshIdentity of its labels). */
  readonly clientHasIdentity: boolean;
}

/**
 * Sets the cluster's transport socket (matches) from `input`; returns which endpoints must carry
 * the `tlsMode: istio` metadata (undefined: none, the cluster does not use auto mTLS).
 */
export function applyUpstreamTls(c: Cluster, input: UpstreamTlsInput): ((e: Endpoint) => boolean) | undefined {
  const { service, port, subset, policy, http2 } = input;
  const tls = policy.tls;
  if (tls) {
    if (tls.mode === 'DISABLE') return undefined;
    if (tls.mode === 'ISTIO_MUTUAL') {
      const sans = tls.subjectAltNames?.length ? tls.subjectAltNames : serviceSans(input, () => true);
      c.transportSocket = istioMutualUpstream(tls.sni ?? meshSni(port.number, subset, service.hostname), sans, http2);
      return undefined;
    }
    c.transportSocket = userTlsUpstream(tls, service.hostname.includes('*') ? undefined : service.hostname, http2);
    return undefined;
  }
  // Istio: no auto mTLS towards mesh-external services (their endpoints are not sidecars).
  if (!input.clientHasIdentity || service.location !== 'MESH_INTERNAL') return undefined;
  const capable = mtlsCapable(input.config, service, port);
  c.transportSocketMatches = [
    create(Cluster_TransportSocketMatchSchema, { name: 'tlsMode-istio', match: { ...TLS_MODE_ISTIO }, transportSocket: istioMutualUpstream(meshSni(port.number, subset, service.hostname), serviceSans(input, capable), http2) }),
    create(Cluster_TransportSocketMatchSchema, { name: 'tlsMode-disabled', match: {}, transportSocket: RAW_BUFFER }),
  ];
  return capable;
}

/** Whether an endpoint of `service` on `port` accepts mesh mTLS: a sidecar whose mode there is not DISABLE. */
export function mtlsCapable(config: ConfigSnapshot, service: Service, port: ServicePort): (e: Endpoint) => boolean {
  // The workload's own port: what portLevelMtls names (Istio keys it by the target port).
  const workloadPort = port.targetPort ?? port.number;
  return (e) => hasMeshIdentity(e.labels) && mtlsModeFor(config, { namespace: service.namespace, labels: e.labels }, workloadPort) !== 'DISABLE';
}

/** SPIFFE IDs of the service accounts of the `counted` endpoints, and the ServiceEntry's subjectAltNames. */
function serviceSans(input: UpstreamTlsInput, counted: (e: Endpoint) => boolean): string[] {
  const td = trustDomainOf(input.config);
  const out = new Set<string>();
  for (const e of input.portEndpoints) if (counted(e)) out.add(spiffeId({ trustDomain: td, namespace: input.service.namespace, serviceAccount: e.serviceAccount }));
  for (const s of input.service.subjectAltNames ?? []) out.add(s);
  return [...out].sort();
}
