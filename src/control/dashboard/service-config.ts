import type { ConfigSnapshot, MeshResource } from '../config/kinds.js';
import { hostMatches, resolveHost } from '../config/hosts.js';
import type { MeshSnapshot } from '../registry/model.js';

export interface ServiceView {
  readonly host: string;
  readonly namespace: string;
  readonly ports: readonly { number: number; protocol: string; name: string }[];
  /** Instances per service port, with the labels subsets select on. */
  readonly endpoints: readonly { port: number; address: string; endpointPort: number; labels: Readonly<Record<string, string>>; healthy: boolean; source: string }[];
  /** The ServiceEntry, VirtualServices and DestinationRules that apply to this host, as stored. */
  readonly config: readonly MeshResource[];
}

/** For each service: what declares it, what routes it, and its instances. Pure. */
export function serviceViews(mesh: MeshSnapshot): ServiceView[] {
  return mesh.services.map((svc) => ({
    host: svc.hostname,
    namespace: svc.namespace,
    ports: svc.ports.map((p) => ({ number: p.number, protocol: (p.protocol ?? "").toUpperCase(), name: p.name })),
    endpoints: svc.ports.flatMap((p) => (mesh.endpoints.get(`${svc.hostname}:${p.number}`) ?? []).map((e) => ({ port: p.number, address: e.address, endpointPort: e.port, labels: e.labels, healthy: e.healthy, source: e.source }))),
    config: appliedTo(mesh.config, svc.hostname, svc.source),
  })).sort((a, b) => a.host.localeCompare(b.host));
}

function appliedTo(c: ConfigSnapshot, host: string, source: string): MeshResource[] {
  const covers = (hosts: readonly string[], ns: string): boolean => hosts.some((h) => hostMatches(resolveHost(h, ns), host));
  return [
    ...c.serviceEntries.filter((r) => `${r.metadata.namespace}/${r.metadata.name}` === source),
    ...c.virtualServices.filter((r) => covers(r.spec.hosts, r.metadata.namespace)),
    ...c.destinationRules.filter((r) => covers([r.spec.host], r.metadata.namespace)),
  ];
}
