import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { LocalityLbEndpointsSchema, LbEndpointSchema, EndpointSchema } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { AddressSchema, SocketAddressSchema } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';
import { LocalitySchema } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { MetadataSchema } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import type { Endpoint } from '../registry/model.js';
import { selects } from '../registry/labels.js';

/** The endpoints of a subset: those whose labels include all the subset's labels. */
export function subsetEndpoints(endpoints: readonly Endpoint[], labels: Readonly<Record<string, string>> | undefined): Endpoint[] {
  return endpoints.filter((e) => selects(labels, e.labels));
}

/**
 * A ClusterLoadAssignment in one (empty) locality. Unhealthy endpoints are left out, as Istio
 * does by default (PILOT_SEND_UNHEALTHY_ENDPOINTS off); healthy ones carry no health_status,
 * which Envoy reads as healthy. Proxyless gRPC needs IP addresses and a locality weight.
 * Endpoints for which `mtls` says yes carry Istio's auto-mTLS metadata
 * (`envoy.transport_socket_match: { tlsMode: istio }`).
 */
export function loadAssignment(clusterName: string, endpoints: readonly Endpoint[], target: 'sidecar' | 'grpc', mtls?: (e: Endpoint) => boolean): ClusterLoadAssignment {
  const eps = endpoints.filter((e) => e.healthy && (target === 'sidecar' || isIP(e.address) !== 0));
  const lbEndpoints = eps.map((e) => create(LbEndpointSchema, {
    hostIdentifier: {
      case: 'endpoint',
      value: create(EndpointSchema, {
        address: create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address: e.address, portSpecifier: { case: 'portValue', value: e.port } }) } }),
      }),
    },
    loadBalancingWeight: e.weight,
    ...(mtls?.(e) ? { metadata: MTLS_METADATA } : {}),
  }));
  const cla = create(ClusterLoadAssignmentSchema, { clusterName });
  if (lbEndpoints.length > 0) {
    const loc = create(LocalityLbEndpointsSchema, { locality: create(LocalitySchema), lbEndpoints });
    if (target === 'grpc') loc.loadBalancingWeight = eps.reduce((s, e) => s + e.weight, 0);
    cla.endpoints = [loc];
  }
  return cla;
}

// Shared by every marked endpoint (outputs are immutable).
const MTLS_METADATA = create(MetadataSchema, { filterMetadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } });
