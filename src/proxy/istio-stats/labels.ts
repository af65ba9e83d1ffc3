/**
 * Istio's standard metric labels (https://istio.io/latest/docs/reference/config/metrics/), in
 * the order Istio's stats filter prints them, and the rules for their values: "unknown" for a
 * peer nobody told us about, `response_flags` "-" when there are none, `grpc_response_status`
 * empty for plain HTTP, `connection_security_policy` mutual_tls / none on the server side and
 * unknown on the client side (the client's proxy does not see how the server terminated). Pure.
 */
import { responseFlagsToString } from '../admin/access-log/response-flags.js';
import { UNKNOWN, type PeerNode } from './peer.js';

export type Reporter = 'source' | 'destination';
export type SecurityPolicy = 'mutual_tls' | 'none' | 'unknown';

/** What is fixed for every request between one pair of workloads for one service. */
export interface EdgeLabels {
  readonly reporter: Reporter;
  readonly source: PeerNode;
  readonly destination: PeerNode;
  readonly sourcePrincipal: string;
  readonly destinationPrincipal: string;
  /** The destination service's host (`reviews.default.svc.cluster.local`), or unknown. */
  readonly destinationService: string;
  readonly securityPolicy: SecurityPolicy;
}

/** The labels before the per-request ones, as [name, value] pairs. */
export function edgeLabelPairs(e: EdgeLabels): [string, string][] {
  const { name, namespace } = serviceNameParts(e.destinationService);
  return [
    ['reporter', e.reporter],
    ['source_workload', e.source.workload],
    ['source_canonical_service', e.source.canonicalService],
    ['source_canonical_revision', e.source.canonicalRevision],
    ['source_workload_namespace', e.source.namespace],
    ['source_principal', e.sourcePrincipal],
    ['source_app', e.source.app],
    ['source_version', e.source.version],
    ['source_cluster', e.source.cluster],
    ['destination_workload', e.destination.workload],
    ['destination_workload_namespace', e.destination.namespace],
    ['destination_principal', e.destinationPrincipal],
    ['destination_app', e.destination.app],
    ['destination_version', e.destination.version],
    ['destination_service', e.destinationService],
    ['destination_canonical_service', e.destination.canonicalService],
    ['destination_canonical_revision', e.destination.canonicalRevision],
    ['destination_service_name', name],
    ['destination_service_namespace', namespace],
    ['destination_cluster', e.destination.cluster],
  ];
}

/** The per-request labels of istio_requests_total and the HTTP histograms. */
export function requestLabelPairs(protocol: 'http' | 'grpc', code: number, grpcStatus: number | undefined, flags: number): [string, string][] {
  return [
    ['request_protocol', protocol],
    ['response_code', String(code)],
    ['grpc_response_status', grpcStatus === undefined ? '' : String(grpcStatus)],
    ['response_flags', flagsLabel(flags)],
  ];
}

/** Envoy's short response flags, comma-separated, or "-" (Istio's value for none). */
export function flagsLabel(flags: number): string {
  return flags === 0 ? '-' : responseFlagsToString(flags);
}

/**
 * A service host's short name and namespace: `NAME.NS.svc.DOMAIN` (Kubernetes form) gives both;
 * any other host is its own name with namespace unknown.
 */
export function serviceNameParts(host: string): { name: string; namespace: string } {
  if (host === UNKNOWN || host === '') return { name: UNKNOWN, namespace: UNKNOWN };
  const parts = host.split('.');
  if (parts.length >= 3 && parts[2] === 'svc') return { name: parts[0]!, namespace: parts[1]! };
  return { name: host, namespace: UNKNOWN };
}

/**
 * The service host of an Istio cluster name (`outbound|9080|v1|reviews.default.svc.cluster.local`);
 * undefined for other names (inbound clusters carry no service).
 */
export function serviceOfCluster(cluster: string): string | undefined {
  if (!cluster.startsWith('outbound|')) return undefined;
  const host = cluster.slice(cluster.lastIndexOf('|') + 1);
  return host === '' ? undefined : host;
}

/** An authority without its port (`[::1]:80` keeps the brackets' content whole). */
export function hostOfAuthority(authority: string): string {
  if (authority.startsWith('[')) { const end = authority.indexOf(']'); return end < 0 ? authority : authority.slice(0, end + 1); }
  const colon = authority.indexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}
