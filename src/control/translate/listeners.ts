import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { ListenerSchema, type Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { FilterChainSchema, FilterChainMatchSchema, type FilterChain } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { AddressSchema, SocketAddressSchema, CidrRangeSchema, type CidrRange } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';
import { TrafficDirection } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { RouteConfigurationSchema } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema, RouteSchema, RouteActionSchema } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import type { L4MatchAttributes } from '../config/kinds.js';
import type { Service } from '../registry/model.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { selects } from '../registry/labels.js';
import { isHttp, portProtocol } from '../registry/protocol.js';
import { seconds } from './duration.js';
import type { MeshIndex } from './mesh-index.js';
import { HTTP_PROXY_ROUTE, VIRTUAL_INBOUND, VIRTUAL_OUTBOUND, inboundCluster, outboundCluster, portListener } from './names.js';
import { hcmFilter, inlineHcm, outboundHttpFilters, rdsHcm, routerOnly, tcpProxyFilter } from './network-filters.js';
import { routeMatch } from './route-match.js';
import { inboundChains, tlsInspector, type InboundSecurity, type InboundTerminal } from './inbound.js';
import type { DirectionTelemetry } from './telemetry.js';

function socketAddress(address: string, port: number) {
  return create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address, portSpecifier: { case: 'portValue', value: port } }) } });
}

/**
 * `virtualOutbound` on 127.0.0.1:<outboundPort>: applications send plain HTTP proxy requests
 * (HTTP_PROXY) here, routed by `http_proxy`. use_original_dst hands connections that were
 * redirected here by traffic capture to the `0.0.0.0_<port>` listener of their original port.
 */
export function virtualOutbound(outboundPort: number, telemetry?: DirectionTelemetry): Listener {
  return create(ListenerSchema, {
    name: VIRTUAL_OUTBOUND,
    address: socketAddress('127.0.0.1', outboundPort),
    useOriginalDst: true,
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [create(FilterChainSchema, { name: VIRTUAL_OUTBOUND, filters: [hcmFilter(rdsHcm(`outbound_0.0.0.0_${outboundPort}`, HTTP_PROXY_ROUTE, outboundHttpFilters(), telemetry))] })],
  });
}

/**
 * `0.0.0.0_<port>` per service port, not bound (bind_to_port false: it only receives
 * connections handed over by virtualOutbound). HTTP ports: an HCM with the port's routes.
 * TCP services: tcp_proxy, selected by the service's VIPs when it has them; a TCP service
 * without VIPs owns the port only when no HTTP service and no earlier VIP-less TCP service has
 * it (Istio reports the same conflict).
 */
export function portListenerOf(port: number, services: readonly Service[], index: MeshIndex, proxy: ProxyIdentity, telemetry: DirectionTelemetry | undefined, unknownDestinations: FilterChain): Listener | undefined {
  const log = telemetry;
  const chains: FilterChain[] = [];
  let catchAllTaken = false;
  const http = services.some((s) => s.ports.some((p) => p.number === port && isHttp(portProtocol(p))));
  for (const svc of services) {
    const sp = svc.ports.find((p) => p.number === port);
    if (!sp || isHttp(portProtocol(sp))) continue;
    const ranges = svc.addresses.map(cidr).filter((c) => c !== undefined);
    if (ranges.length === 0 && (http || catchAllTaken)) continue;
    const chain = create(FilterChainSchema, { name: `${svc.hostname}:${port}`, filters: [tcpProxyFilter(outboundCluster(port, '', svc.hostname), tcpDestinations(svc, port, index, proxy), log)] });
    if (ranges.length > 0) chain.filterChainMatch = create(FilterChainMatchSchema, { prefixRanges: ranges });
    else catchAllTaken = true;
    chains.push(chain);
  }
  if (http) chains.push(create(FilterChainSchema, { name: `0.0.0.0_${port}`, filters: [hcmFilter(rdsHcm(`outbound_0.0.0.0_${port}`, String(port), outboundHttpFilters(), log))] }));
  if (chains.length === 0) return undefined;
  // With traffic capture, a connection to this port at an address no service has must still
  // pass through (or be blocked) rather than find no chain.
  if (!http && !catchAllTaken) chains.push(unknownDestinations);
  return create(ListenerSchema, {
    name: portListener(port),
    address: socketAddress('0.0.0.0', port),
    bindToPort: false,
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: chains,
  });
}

/** The first VirtualService tcp route that applies to this port and proxy, else the service itself. */
function tcpDestinations(svc: Service, port: number, index: MeshIndex, proxy: ProxyIdentity): { name: string; weight: number }[] {
  const vs = index.virtualService(svc);
  const ns = vs?.metadata.namespace ?? svc.namespace;
  for (const r of vs?.spec.tcp ?? []) {
    if (r.match && r.match.length > 0 && !r.match.some((m) => l4Applies(m, port, proxy))) continue;
    const dests = (r.route.length > 1 ? r.route.filter((d) => (d.weight ?? 0) > 0) : r.route);
    if (dests.length === 0) continue;
    return dests.map((d) => {
      const host = index.resolve(d.destination.host, ns);
      const target = index.service(host);
      const p = d.destination.port?.number ?? (target && target.ports.length === 1 ? target.ports[0]!.number : port);
      return { name: outboundCluster(p, d.destination.subset ?? '', host), weight: d.weight ?? 100 };
    });
  }
  return [{ name: outboundCluster(port, '', svc.hostname), weight: 100 }];
}

function l4Applies(m: L4MatchAttributes, port: number, proxy: ProxyIdentity): boolean {
  if (m.port !== undefined && m.port !== port) return false;
  if (m.sourceLabels && !selects(m.sourceLabels, proxy.labels)) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== proxy.namespace) return false;
  if (m.gateways && m.gateways.length > 0 && !m.gateways.includes('mesh')) return false;
  return true;
}

function cidr(addr: string): CidrRange | undefined {
  const [ip, len] = addr.split('/') as [string, string | undefined];
  const fam = isIP(ip);
  if (fam === 0) return undefined;
  return create(CidrRangeSchema, { addressPrefix: ip, prefixLen: len !== undefined ? Number(len) : fam === 4 ? 32 : 128 });
}

/**
 * `virtualInbound` on 0.0.0.0:<inboundPort>: everything that reaches the sidecar from the mesh
 * goes to the application on its first port (`inbound|<appPort>||`). HTTP unless every service
 * port this workload serves is TCP. Chains, TLS and policies per the workload's security (inbound.ts).
 */
export function virtualInbound(inboundPort: number, appPort: number, tcp: boolean, sec: InboundSecurity, telemetry?: DirectionTelemetry): Listener {
  const cluster = inboundCluster(appPort);
  const terminal: InboundTerminal = tcp
    ? { kind: 'tcp', filter: tcpProxyFilter(cluster, [{ name: cluster, weight: 100 }], telemetry) }
    : { kind: 'http', hcm: inlineHcm(`inbound_0.0.0.0_${appPort}`, create(RouteConfigurationSchema, {
      name: cluster,
      virtualHosts: [create(VirtualHostSchema, {
        name: `inbound|http|${appPort}`,
        domains: ['*'],
        routes: [create(RouteSchema, {
          name: 'default',
          match: routeMatch(undefined),
          action: { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster }, timeout: seconds(0), maxGrpcTimeout: seconds(0) }) },
        })],
      })],
    }), routerOnly(), telemetry) };
  const { chains, tlsInspector: inspect } = inboundChains(sec, { port: appPort, name: cluster, terminal });
  return create(ListenerSchema, {
    name: VIRTUAL_INBOUND,
    address: socketAddress('0.0.0.0', inboundPort),
    trafficDirection: TrafficDirection.INBOUND,
    ...(inspect ? { listenerFilters: [tlsInspector()] } : {}),
    filterChains: chains,
  });
}
