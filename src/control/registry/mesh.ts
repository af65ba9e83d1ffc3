import type { ConfigSnapshot, ServiceEntry, ServicePort } from '../config/kinds.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import type { Endpoint, MeshSnapshot, Service, Workload } from './model.js';
import { byCreation, selects, sortedRecord } from './labels.js';
import { entryWorkloads, proxyWorkload } from './workloads.js';
import { allocateVips } from './vips.js';

/**
 * The mesh's services and endpoints from the stored config and the connected sidecars. Pure and
 * deterministic: the same input gives the same output, in the same order.
 *
 * - One service per ServiceEntry host. When two entries name the same host, the oldest wins
 *   (Istio merges them; tsmesh keeps one so that every route domain has one owner).
 * - Endpoints per "hostname:servicePort": the entry's inline `endpoints`, the WorkloadEntries
 *   and connected sidecars its `workloadSelector` selects (same namespace), and for a DNS
 *   service without any, the host itself (Envoy resolves it).
 */
export function buildMesh(config: ConfigSnapshot, connected: readonly ProxyIdentity[]): MeshSnapshot {
  const proxies = [...connected].sort((a, b) => cmp(a.id, b.id));
  const workloads: Workload[] = [...entryWorkloads(config)];
  for (const p of proxies) {
    const w = proxyWorkload(p, config.workloadGroups);
    if (w) workloads.push(w);
  }
  const services: Service[] = [];
  const endpoints = new Map<string, Endpoint[]>();
  const seen = new Set<string>();
  for (const se of [...config.serviceEntries].sort(byCreation)) {
    for (const hostname of se.spec.hosts) {
      if (seen.has(hostname)) continue;
      seen.add(hostname);
      const svc = serviceOf(se, hostname);
      services.push(svc);
      for (const port of svc.ports) endpoints.set(`${hostname}:${port.number}`, endpointsOf(se, svc, port, workloads));
    }
  }
  for (const svc of runServices(proxies, seen)) {
    services.push(svc.service);
    for (const [k, eps] of svc.endpoints) endpoints.set(k, eps);
  }
  services.sort((a, b) => cmp(a.hostname, b.hostname));
  const vips = allocateVips(services.filter((s) => s.addresses.length === 0 && !s.hostname.includes('*')).map((s) => s.hostname), services.flatMap((s) => s.addresses));
  const withVips = services.map((s) => (s.hostname.includes('*') ? s : { ...s, vips: s.addresses.length > 0 ? s.addresses : [vips.get(s.hostname)!] }));
  return { config, services: withVips, endpoints, connected: proxies };
}

/**
 * Services no ServiceEntry declares, offered by connected sidecars (node metadata TSMESH_SERVICE,
 * as `tsmesh run --name NAME --port P` sends): `NAME.NAMESPACE.svc.cluster.local` with the union
 * of their ports (the first proxy by id decides a port's protocol), every such proxy an endpoint.
 * Running a workload is enough to make it callable by name.
 */
function runServices(proxies: readonly ProxyIdentity[], declared: ReadonlySet<string>): { service: Service; endpoints: Map<string, Endpoint[]> }[] {
  const byHost = new Map<string, ProxyIdentity[]>();
  for (const p of proxies) {
    if (!p.service || !p.ips[0]) continue;
    const host = `${p.service.name}.${p.namespace}.svc.cluster.local`;
    if (declared.has(host)) continue;
    byHost.set(host, [...(byHost.get(host) ?? []), p]);
  }
  const out: { service: Service; endpoints: Map<string, Endpoint[]> }[] = [];
  for (const [hostname, ps] of byHost) {
    const ports = new Map<number, ServicePort>();
    for (const p of ps) for (const sp of p.service!.ports) if (!ports.has(sp.number)) ports.set(sp.number, { number: sp.number, name: `${sp.protocol.toLowerCase()}-${sp.number}`, protocol: sp.protocol });
    const service: Service = {
      hostname, namespace: ps[0]!.namespace, ports: [...ports.values()].sort((a, b) => a.number - b.number), addresses: [],
      resolution: 'STATIC', location: 'MESH_INTERNAL', source: `run:${ps[0]!.namespace}/${ps[0]!.service!.name}`,
    };
    const endpoints = new Map<string, Endpoint[]>();
    for (const port of service.ports) {
      const eps: Endpoint[] = [];
      for (const p of ps) {
        if (!p.service!.ports.some((sp) => sp.number === port.number)) continue;
        const w = proxyWorkload(p, []);
        if (!w) continue;
        eps.push({ address: w.address, port: w.defaultPort ?? port.number, labels: w.labels, weight: 1, healthy: true, serviceAccount: w.serviceAccount, source: w.source });
      }
      endpoints.set(`${hostname}:${port.number}`, eps.sort((a, b) => cmp(a.address, b.address) || a.port - b.port || cmp(a.source, b.source)));
    }
    out.push({ service, endpoints });
  }
  return out;
}

function serviceOf(se: ServiceEntry, hostname: string): Service {
  return {
    hostname,
    namespace: se.metadata.namespace,
    ports: [...(se.spec.ports ?? [])].sort((a, b) => a.number - b.number),
    addresses: [...(se.spec.addresses ?? [])].sort(),
    resolution: se.spec.resolution ?? 'NONE',
    // Istio's default location is MESH_EXTERNAL.
    location: se.spec.location ?? 'MESH_EXTERNAL',
    ...(se.spec.subjectAltNames?.length ? { subjectAltNames: [...se.spec.subjectAltNames] } : {}),
    source: `${se.metadata.namespace}/${se.metadata.name}`,
  };
}

function endpointsOf(se: ServiceEntry, svc: Service, port: ServicePort, workloads: readonly Workload[]): Endpoint[] {
  const out: Endpoint[] = [];
  const source = `entry:${se.metadata.namespace}/${se.metadata.name}`;
  for (const ep of se.spec.endpoints ?? []) {
    if (!ep.address) continue;
    out.push({
      address: ep.address,
      port: ep.ports?.[port.name] ?? port.targetPort ?? port.number,
      labels: sortedRecord(ep.labels),
      weight: ep.weight !== undefined && ep.weight > 0 ? ep.weight : 1,
      healthy: true,
      serviceAccount: ep.serviceAccount ?? 'default',
      source,
    });
  }
  const selector = se.spec.workloadSelector?.labels;
  if (selector) {
    for (const w of workloads) {
      if (w.namespace !== se.metadata.namespace || !w.address || !selects(selector, w.labels)) continue;
      out.push({
        address: w.address,
        port: w.defaultPort ?? w.ports[port.name] ?? port.targetPort ?? port.number,
        labels: w.labels,
        weight: w.weight,
        healthy: w.healthy,
        serviceAccount: w.serviceAccount,
        source: w.source,
      });
    }
  }
  if (out.length === 0 && (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN') && !svc.hostname.includes('*')) {
    out.push({ address: svc.hostname, port: port.targetPort ?? port.number, labels: {}, weight: 1, healthy: true, serviceAccount: 'default', source });
  }
  return out.sort((a, b) => cmp(a.address, b.address) || a.port - b.port || cmp(a.source, b.source));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
