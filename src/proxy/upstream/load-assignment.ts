import net from 'node:net';
import type { JsonObject } from '@bufbuild/protobuf';
import { TRANSPORT_SOCKET_MATCH_KEY } from '../tls/transport-socket.js';
import type { ClusterLoadAssignment } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { ConfigError } from '../../envoy/registry.js';

/** An endpoint as configured (a `load_assignment` or an EDS ClusterLoadAssignment), before DNS. */
export interface EndpointSpec {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  /** metadata.filter_metadata["envoy.transport_socket_match"]: picks the cluster's transport socket. */
  readonly transportMatch?: JsonObject;
}

/**
 * The endpoints of a ClusterLoadAssignment, validated. `requireIp`: STATIC and EDS clusters
 * take addresses as they are, so they must be IPs (DNS clusters resolve names): `requireIp` is
 * then the reason given for a name. Pure.
 */
export function compileEndpoints(cla: ClusterLoadAssignment | undefined, path: string, requireIp: string | undefined): EndpointSpec[] {
  const endpoints: EndpointSpec[] = [];
  (cla?.endpoints ?? []).forEach((loc, li) => {
    loc.lbEndpoints.forEach((lbe, ei) => {
      const ep = `${path}.endpoints[${li}].lb_endpoints[${ei}]`;
      if (lbe.hostIdentifier.case !== 'endpoint') throw new ConfigError(ep, 'expected an endpoint');
      const addr = lbe.hostIdentifier.value.address?.address;
      if (addr?.case !== 'socketAddress') throw new ConfigError(`${ep}.endpoint.address`, 'expected a socket_address');
      const sa = addr.value;
      if (sa.portSpecifier.case !== 'portValue') throw new ConfigError(`${ep}.endpoint.address.socket_address`, 'expected port_value');
      const port = sa.portSpecifier.value;
      if (port < 1 || port > 65535) throw new ConfigError(`${ep}.endpoint.address.socket_address.port_value`, `expected 1-65535, got ${port}`);
      if (!sa.address) throw new ConfigError(`${ep}.endpoint.address.socket_address.address`, 'empty address');
      if (requireIp && net.isIP(sa.address) === 0) throw new ConfigError(`${ep}.endpoint.address.socket_address.address`, `${requireIp}, got ${sa.address}`);
      const weight = lbe.loadBalancingWeight ?? 1;
      if (weight < 1) throw new ConfigError(`${ep}.load_balancing_weight`, `expected >= 1, got ${weight}`);
      const transportMatch = lbe.metadata?.filterMetadata[TRANSPORT_SOCKET_MATCH_KEY];
      endpoints.push({ address: sa.address, port, weight, ...(transportMatch ? { transportMatch } : {}) });
    });
  });
  return endpoints;
}
