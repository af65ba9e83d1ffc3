import type { ConfigSnapshot, ServicePort } from '../config/kinds.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';

/** A service of the mesh: one per ServiceEntry host (Istio's model.Service). */
export interface Service {
  /** The FQDN as written in the ServiceEntry (e.g. reviews.default.svc.cluster.local). */
  readonly hostname: string;
  readonly namespace: string;
  readonly ports: readonly ServicePort[];
  /** VIPs from ServiceEntry.addresses (used as extra route domains). */
  readonly addresses: readonly string[];
  /**
   * The addresses traffic capture matches the service by: `addresses`, else one allocated from
   * 198.19.0.0/16 (registry/vips.ts). Absent for wildcard hosts.
   */
  readonly vips?: readonly string[];
  readonly resolution: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  readonly location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  /** ServiceEntry.subjectAltNames: identities its endpoints may present besides their service accounts'. */
  readonly subjectAltNames?: readonly string[];
  /**
   * Which ServiceEntry made it ("namespace/name"), for error messages; "run:namespace/name" for
   * a service no ServiceEntry declares, registered by the workloads that offer it (tsmesh run).
   */
  readonly source: string;
}

/** One instance of a service on one port: where traffic for that port goes. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly weight: number;
  readonly healthy: boolean;
  readonly serviceAccount: string;
  /** "entry:<ns>/<name>" (ServiceEntry inline / WorkloadEntry) or "proxy:<node id>" (auto-registered). */
  readonly source: string;
}

/** A workload: a WorkloadEntry, an inline ServiceEntry endpoint, or a connected sidecar. */
export interface Workload {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Named ports (WorkloadEntry.ports); a sidecar without capture maps every port to its inbound port. */
  readonly ports: Readonly<Record<string, number>>;
  /** Used for a service port with no named entry: the sidecar's inbound port, or undefined. */
  readonly defaultPort?: number;
  readonly serviceAccount: string;
  readonly weight: number;
  readonly healthy: boolean;
  readonly source: string;
}

/** Everything the translation needs besides the proxy's identity. Pure data. */
export interface MeshSnapshot {
  readonly config: ConfigSnapshot;
  readonly services: readonly Service[];
  /** Endpoints per "hostname:port" (the service port number, not the target port). */
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  /** Auto-registered (connected) sidecars, for the registry's own view and `tsmesh get workloads`. */
  readonly connected: readonly ProxyIdentity[];
}
