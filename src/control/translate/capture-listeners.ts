import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { FilterChainSchema, FilterChainMatchSchema, ListenerFilterSchema, type FilterChain } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { AddressSchema, SocketAddressSchema } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';
import { TrafficDirection } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { OriginalDstSchema } from '../../envoy/generated/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { RouteConfigurationSchema } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema, RouteSchema, RouteActionSchema } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { seconds } from './duration.js';
import { BLACKHOLE, PASSTHROUGH, VIRTUAL_INBOUND, VIRTUAL_OUTBOUND, inboundCluster } from './names.js';
import { inlineHcm, routerOnly, tcpProxyFilter } from './network-filters.js';
import { routeMatch } from './route-match.js';
import { inboundChains, tlsInspector, type InboundSecurity, type InboundTerminal } from './inbound.js';
import type { DirectionTelemetry } from './telemetry.js';

/*
 * Listeners of a sidecar whose traffic iptables redirects (node metadata INTERCEPTION_MODE
 * REDIRECT; src/capture): Istio's shapes. Outbound connections arrive at virtualOutbound and are
 * handed to the listener of their original destination (`0.0.0.0_<port>`); what no listener
 * takes passes through to where it was going (ALLOW_ANY) or is closed (REGISTRY_ONLY). Inbound
 * connections arrive at virtualInbound and are served by the chain of their original port.
 */

const ORIGINAL_DST_FILTER = 'envoy.filters.listener.original_dst';

function socketAddress(address: string, port: number) {
  return create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address, portSpecifier: { case: 'portValue', value: port } }) } });
}

/** The chain for destinations the mesh does not know: Istio's PassthroughFilterChain / BlackHole. */
export function unknownDestinationChain(registryOnly: boolean, telemetry?: DirectionTelemetry): FilterChain {
  const cluster = registryOnly ? BLACKHOLE : PASSTHROUGH;
  return create(FilterChainSchema, { name: registryOnly ? 'BlackHoleFilterChain' : 'PassthroughFilterChain', filters: [tcpProxyFilter(cluster, [{ name: cluster, weight: 100 }], telemetry)] });
}

/**
 * `virtualOutbound` on 0.0.0.0:<outboundPort> with use_original_dst: every captured outbound
 * connection arrives here and goes on to the listener of its original destination; one no
 * listener takes (a port no service has) is passed through or blocked.
 */
export function captureVirtualOutbound(outboundPort: number, registryOnly: boolean, telemetry?: DirectionTelemetry): Listener {
  return create(ListenerSchema, {
    name: VIRTUAL_OUTBOUND,
    address: socketAddress('0.0.0.0', outboundPort),
    useOriginalDst: true,
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [unknownDestinationChain(registryOnly, telemetry)],
  });
}

export interface CapturePort {
  readonly port: number;
  readonly http: boolean;
}

/**
 * `virtualInbound` on 0.0.0.0:<inboundPort>: the original_dst listener filter restores the port
 * the caller dialled (no hand-off: the `0.0.0.0_<port>` listeners are outbound ones), and the
 * chains of each workload port match it (`destination_port`) and end at `inbound|<port>||` on
 * 127.0.0.1: HTTP through a connection manager, TCP as bytes (a TCP port is never parsed, so
 * server-first protocols work). mTLS / plaintext chains, RBAC and JWT per port as without
 * capture (inbound.ts). Ports not listed are not captured (tsmesh run captures only its ports).
 */
export function captureVirtualInbound(inboundPort: number, ports: readonly CapturePort[], sec: InboundSecurity, telemetry?: DirectionTelemetry): Listener {
  const chains: FilterChain[] = [];
  let inspect = false;
  for (const { port, http } of ports) {
    const cluster = inboundCluster(port);
    const terminal: InboundTerminal = http
      ? { kind: 'http', hcm: inlineHcm(`inbound_0.0.0.0_${port}`, create(RouteConfigurationSchema, {
        name: cluster,
        virtualHosts: [create(VirtualHostSchema, {
          name: `inbound|http|${port}`,
          domains: ['*'],
          routes: [create(RouteSchema, {
            name: 'default',
            match: routeMatch(undefined),
            action: { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster }, timeout: seconds(0), maxGrpcTimeout: seconds(0) }) },
          })],
        })],
      }), routerOnly(), telemetry) }
      : { kind: 'tcp', filter: tcpProxyFilter(cluster, [{ name: cluster, weight: 100 }], telemetry) };
    const r = inboundChains(sec, { port, name: cluster, destinationPort: port, terminal });
    chains.push(...r.chains);
    inspect ||= r.tlsInspector;
  }
  const originalDst = create(ListenerFilterSchema, { name: ORIGINAL_DST_FILTER, configType: { case: 'typedConfig', value: anyPack(OriginalDstSchema, create(OriginalDstSchema)) } });
  return create(ListenerSchema, {
    name: VIRTUAL_INBOUND,
    address: socketAddress('0.0.0.0', inboundPort),
    trafficDirection: TrafficDirection.INBOUND,
    listenerFilters: inspect ? [originalDst, tlsInspector()] : [originalDst],
    filterChains: chains,
  });
}
