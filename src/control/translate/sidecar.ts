import type { Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { Cluster_DiscoveryType } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import type { Service } from '../registry/model.js';
import { selects } from '../registry/labels.js';
import { isHttp, isHttp2, portProtocol } from '../registry/protocol.js';
import { blackholeClusterOf, inboundClusterOf, outboundClusterOf, passthroughClusterOf } from './cluster.js';
import { loadAssignment, subsetEndpoints } from './endpoints.js';
import { portListenerOf, virtualInbound, virtualOutbound } from './listeners.js';
import { captureVirtualInbound, captureVirtualOutbound, unknownDestinationChain, type CapturePort } from './capture-listeners.js';
import type { MeshIndex } from './mesh-index.js';
import { outboundCluster } from './names.js';
import { effectivePolicy } from './policy.js';
import { within } from './errors.js';
import { httpPorts, httpProxyRouteConfig, portRouteConfig } from './route-config.js';
import type { ProxyResources, ResourceScope } from './types.js';
import { hasMeshIdentity, workloadLabels } from './security-policies.js';
import { applyUpstreamTls } from './upstream-tls.js';
import { inboundSecurity } from './inbound.js';
import { withIstioStats } from './istio-stats.js';
import { metadataExchangeClusterFilter } from './peer-exchange.js';
import { proxyTelemetry } from './telemetry.js';

/**
 * Everything a sidecar gets (generator "sidecar"); with scope `routing`, no clusters or
 * endpoints; with scope `endpoints`, no listeners or routes.
 */
export function sidecarResources(index: MeshIndex, proxy: ProxyIdentity, scope: ResourceScope = 'all'): ProxyResources {
  const withClusters = scope !== 'routing';
  const withRouting = scope !== 'endpoints';
  const capture = proxy.interceptionMode === 'REDIRECT';
  const registryOnly = index.mesh.config.mesh.outboundTrafficPolicy?.mode === 'REGISTRY_ONLY';
  const { clusters, endpoints }: ReturnType<typeof outboundClusters> = withClusters ? outboundClusters(index, proxy, 'sidecar') : { clusters: [], endpoints: [] };
  for (const p of new Set(proxy.appPorts)) clusters.push(inboundClusterOf(p));
  clusters.push(blackholeClusterOf(), passthroughClusterOf());

  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  const telemetry = proxyTelemetry(index, proxy);
  const names = new Set(clusters.map((c) => c.name));
  for (const c of telemetry.clusters) if (!names.has(c.name)) clusters.push(c);
  if (withRouting) {
    // Routes also go to hosts only a VirtualService names; clusters exist for services only.
    // With capture, services are matched by their VIPs (declared or allocated) too.
    const routed = [...index.mesh.services, ...index.virtualServiceHosts].map((s) => (capture && s.vips ? { ...s, addresses: s.vips } : s));
    const routeCtx = { index, proxy, target: 'sidecar' as const, memo: new Map() };
    if (capture) {
      routes.push(...httpPorts(routed).map((p) => portRouteConfig(p, routed, routeCtx, registryOnly)));
      if (proxy.outboundPort !== undefined) listeners.push(captureVirtualOutbound(proxy.outboundPort, registryOnly, telemetry.outbound));
      const unknown = unknownDestinationChain(registryOnly, telemetry.outbound);
      const ports = new Set<number>();
      for (const s of routed) for (const p of s.ports) ports.add(p.number);
      for (const p of [...ports].sort((a, b) => a - b)) {
        const l = portListenerOf(p, routed, index, proxy, telemetry.outbound, unknown);
        if (l) listeners.push(l);
      }
    } else if (proxy.outboundPort !== undefined) {
      // Without capture nothing reaches per-port listeners (virtualOutbound's original
      // destination is itself), so neither they nor their route configurations are sent: the
      // app reaches the mesh through http_proxy. Istio likewise sends a sidecar without capture
      // only the listeners its Sidecar egress binds.
      routes.push(httpProxyRouteConfig(routed, routeCtx, registryOnly));
      listeners.push(virtualOutbound(proxy.outboundPort, telemetry.outbound));
    }
  }
  const appPort = proxy.appPorts[0];
  if (proxy.inboundPort !== undefined && (capture || appPort !== undefined)) {
    const sec = inboundSecurity(index, proxy);
    if (withRouting) {
      listeners.push(capture
        ? captureVirtualInbound(proxy.inboundPort, inboundPorts(index, proxy), sec, telemetry.inbound)
        : virtualInbound(proxy.inboundPort, appPort!, servesOnlyTcp(index, proxy), sec, telemetry.inbound));
    }
    const have = new Set(clusters.map((c) => c.name));
    for (const c of sec.clusters) if (!have.has(c.name)) clusters.push(c);
  }
  return sorted({ listeners: withIstioStats(listeners), routes, clusters: withClusters ? clusters : [], endpoints });
}

/** Clusters per service port and DestinationRule subset, and the assignments of the EDS ones. */
export function outboundClusters(index: MeshIndex, proxy: ProxyIdentity, target: 'sidecar' | 'grpc'): { clusters: Cluster[]; endpoints: ClusterLoadAssignment[] } {
  const clusters: Cluster[] = [];
  const endpoints: ClusterLoadAssignment[] = [];
  const identity = hasMeshIdentity(workloadLabels(index.mesh.config, proxy));
  for (const svc of index.mesh.services) {
    const dr = index.destinationRule(svc.hostname, proxy);
    for (const port of svc.ports) {
      const all = index.mesh.endpoints.get(`${svc.hostname}:${port.number}`) ?? [];
      const variants: { subset: string; labels?: Record<string, string> }[] = [{ subset: '' }];
      for (const s of dr?.spec.subsets ?? []) variants.push({ subset: s.name, ...(s.labels ? { labels: s.labels } : {}) });
      for (const v of variants) {
        const name = outboundCluster(port.number, v.subset, svc.hostname);
        const eps = subsetEndpoints(all, v.labels);
        const policy = effectivePolicy(dr, port.number, v.subset || undefined);
        const build = (): Cluster => outboundClusterOf({ name, service: svc, protocol: portProtocol(port), endpoints: eps, portEndpointCount: all.length, policy, target });
        const c = dr ? within(`DestinationRule ${dr.metadata.namespace}/${dr.metadata.name}`, v.subset ? `spec.subsets[${v.subset}]` : 'spec.trafficPolicy', build) : build();
        const original = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.ORIGINAL_DST;
        const mtls = target === 'sidecar' && !original
          ? applyUpstreamTls(c, { config: index.mesh.config, service: svc, port, subset: v.subset, portEndpoints: all, policy, http2: isHttp2(portProtocol(port)), clientHasIdentity: identity })
          : undefined;
        if (mtls && c.loadAssignment) c.loadAssignment = loadAssignment(name, eps, 'sidecar', mtls);
        // TCP to mesh workloads over mesh mTLS (auto or ISTIO_MUTUAL): the client side of Istio's metadata exchange.
        const meshMtls = mtls !== undefined || (target === 'sidecar' && !original && policy.tls?.mode === 'ISTIO_MUTUAL');
        if (meshMtls && !isHttp(portProtocol(port))) c.filters = [metadataExchangeClusterFilter()];
        clusters.push(c);
        if (c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS) endpoints.push(loadAssignment(name, eps, target, mtls));
      }
    }
  }
  return { clusters, endpoints };
}

/**
 * The workload's ports and how each is served inbound: HTTP when a service this proxy is an
 * endpoint of (a selecting ServiceEntry, or the one it offers itself) says so for the port it
 * targets, else TCP (bytes are passed on unparsed, so any protocol works).
 */
function inboundPorts(index: MeshIndex, proxy: ProxyIdentity): CapturePort[] {
  const mine = servicesOf(index, proxy);
  const own = proxy.service ? index.service(`${proxy.service.name}.${proxy.namespace}.svc.cluster.local`) : undefined;
  if (own && !mine.includes(own)) mine.push(own);
  return [...new Set(proxy.appPorts)].sort((a, b) => a - b).map((port) => {
    const sp = mine.flatMap((s) => s.ports).find((p) => (p.targetPort ?? p.number) === port);
    const declared = proxy.service?.ports.find((p) => p.number === port);
    return { port, http: sp ? isHttp(portProtocol(sp)) : declared ? isHttp(declared.protocol) : false };
  });
}

/** The ServiceEntry services whose workloadSelector selects this proxy. */
function servicesOf(index: MeshIndex, proxy: ProxyIdentity): Service[] {
  const labels = workloadLabels(index.mesh.config, proxy);
  const selecting = new Set(index.mesh.config.serviceEntries
    .filter((se) => se.metadata.namespace === proxy.namespace && se.spec.workloadSelector && selects(se.spec.workloadSelector.labels, labels))
    .map((se) => `${se.metadata.namespace}/${se.metadata.name}`));
  return index.mesh.services.filter((s) => selecting.has(s.source));
}

/**
 * Whether the services this proxy is an endpoint of are all TCP on every port. Decided from
 * the proxy's namespace and labels (with its WorkloadGroup's), never its id, so that proxies
 * of one shape get the same output.
 */
function servesOnlyTcp(index: MeshIndex, proxy: ProxyIdentity): boolean {
  const labels = workloadLabels(index.mesh.config, proxy);
  const mine: Service[] = [];
  const selecting = new Set(index.mesh.config.serviceEntries
    .filter((se) => se.metadata.namespace === proxy.namespace && se.spec.workloadSelector && selects(se.spec.workloadSelector.labels, labels))
    .map((se) => `${se.metadata.namespace}/${se.metadata.name}`));
  for (const s of index.mesh.services) if (selecting.has(s.source)) mine.push(s);
  const ports = mine.flatMap((s) => s.ports);
  return ports.length > 0 && ports.every((p) => !isHttp(portProtocol(p)));
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function sorted(r: { listeners: Listener[]; routes: RouteConfiguration[]; clusters: Cluster[]; endpoints: ClusterLoadAssignment[] }): ProxyResources {
  return {
    listeners: r.listeners.sort(byName),
    routes: r.routes.sort(byName),
    clusters: r.clusters.sort(byName),
    endpoints: r.endpoints.sort((a, b) => (a.clusterName < b.clusterName ? -1 : a.clusterName > b.clusterName ? 1 : 0)),
  };
}
