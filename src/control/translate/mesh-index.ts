import type { DestinationRule, VirtualService } from '../config/kinds.js';
import type { MeshSnapshot, Service } from '../registry/model.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { byCreation, selects } from '../registry/labels.js';
import { matchRank, resolveHost } from './hosts.js';

/**
 * The mesh indexed once per snapshot (and shared by every proxy translated from it): services
 * by host, the VirtualService bound to each host, the DestinationRules that may apply.
 */
export interface MeshIndex {
  readonly mesh: MeshSnapshot;
  readonly hostnames: ReadonlySet<string>;
  service(hostname: string): Service | undefined;
  /** The VirtualService for `svc` in the mesh gateway, with its hosts resolved. */
  virtualService(svc: Service): VirtualService | undefined;
  /** The DestinationRule `proxy` applies to `host`. */
  destinationRule(host: string, proxy: ProxyIdentity): DestinationRule | undefined;
  /** Resolves a host written in a resource of `namespace`. */
  resolve(host: string, namespace: string): string;
  /**
   * Hosts named by a mesh VirtualService that are no service (e.g. `api.internal` routed to
   * reviews), as port-80 HTTP pseudo-services: Istio gives them a virtual host on port 80.
   */
  readonly virtualServiceHosts: readonly Service[];
}

const cache = new WeakMap<MeshSnapshot, MeshIndex>();

export function indexOf(mesh: MeshSnapshot): MeshIndex {
  let idx = cache.get(mesh);
  if (!idx) { idx = build(mesh); cache.set(mesh, idx); }
  return idx;
}

/** Binds to the sidecars: no gateways, or the reserved `mesh` among them. */
export function bindsToMesh(gateways: readonly string[] | undefined): boolean {
  return !gateways || gateways.length === 0 || gateways.includes('mesh');
}

function build(mesh: MeshSnapshot): MeshIndex {
  const byHost = new Map(mesh.services.map((s) => [s.hostname, s]));
  const hostnames = new Set(byHost.keys());
  const resolve = (host: string, ns: string): string => resolveHost(host, ns, hostnames);
  const vss = mesh.config.virtualServices.filter((vs) => bindsToMesh(vs.spec.gateways)).sort(byCreation)
    .map((vs) => ({ vs, hosts: vs.spec.hosts.map((h) => resolve(h, vs.metadata.namespace)) }));
  // By exact host, plus the wildcard ones that every lookup must consider.
  const drsByHost = new Map<string, { dr: DestinationRule; host: string }[]>();
  const wildcardDrs: { dr: DestinationRule; host: string }[] = [];
  for (const dr of [...mesh.config.destinationRules].sort(byCreation)) {
    const host = resolve(dr.spec.host, dr.metadata.namespace);
    if (host.startsWith('*')) wildcardDrs.push({ dr, host });
    else drsByHost.set(host, [...(drsByHost.get(host) ?? []), { dr, host }]);
  }
  const vsOf = new Map<string, VirtualService | undefined>();
  const virtualServiceHosts: Service[] = [];
  const seen = new Set(hostnames);
  for (const { vs, hosts } of vss) {
    for (const h of hosts) {
      if (h.includes('*') || seen.has(h) || !(vs.spec.http?.length)) continue;
      seen.add(h);
      virtualServiceHosts.push({
        hostname: h, namespace: vs.metadata.namespace, ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], addresses: [],
        resolution: 'NONE', location: 'MESH_EXTERNAL', source: `VirtualService ${vs.metadata.namespace}/${vs.metadata.name}`,
      });
    }
  }
  virtualServiceHosts.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  return {
    mesh,
    hostnames,
    virtualServiceHosts,
    service: (h) => byHost.get(h),
    resolve,
    virtualService(svc) {
      if (vsOf.has(svc.hostname)) return vsOf.get(svc.hostname);
      // Istio, for sidecars: one VirtualService per host; the most specific host wins, then the oldest.
      let best: { vs: VirtualService; rank: number } | undefined;
      for (const { vs, hosts } of vss) {
        const rank = Math.max(...hosts.map((h) => matchRank(h, svc.hostname)));
        if (rank >= 0 && (!best || rank > best.rank)) best = { vs, rank };
      }
      vsOf.set(svc.hostname, best?.vs);
      return best?.vs;
    },
    destinationRule(host, proxy) {
      const svcNs = byHost.get(host)?.namespace;
      let best: { dr: DestinationRule; key: [number, number] } | undefined;
      for (const { dr, host: h } of [...(drsByHost.get(host) ?? []), ...wildcardDrs]) {
        const rank = matchRank(h, host);
        if (rank < 0) continue;
        const sel = dr.spec.workloadSelector?.matchLabels;
        if (sel && (dr.metadata.namespace !== proxy.namespace || !selects(sel, proxy.labels))) continue;
        // Istio's lookup order: the proxy's namespace, then the service's, then any other.
        const nsRank = dr.metadata.namespace === proxy.namespace ? 2 : dr.metadata.namespace === svcNs ? 1 : 0;
        const key: [number, number] = [rank, nsRank + (sel ? 3 : 0)];
        if (!best || key[0] > best.key[0] || (key[0] === best.key[0] && key[1] > best.key[1])) best = { dr, key };
      }
      return best?.dr;
    },
  };
}
