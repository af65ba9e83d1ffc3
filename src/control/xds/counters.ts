/** Plain numbers for /metrics. Monotonic unless named otherwise. */
export interface XdsCounters {
  /** Pushes run (after debouncing). */
  pushes: number;
  /** push() calls, before debouncing. */
  pushRequests: number;
  /** DiscoveryResponse + DeltaDiscoveryResponse messages sent. */
  responses: number;
  /** Their serialized bytes. */
  responseBytes: number;
  acks: number;
  nacks: number;
  /** Requests whose response_nonce was not the latest sent (ignored as ACK/NACK). */
  staleNonces: number;
  /** Requests for a type URL the server does not serve (ignored). */
  unknownTypeRequests: number;
  /** generate() calls, and those that threw. */
  generates: number;
  generateErrors: number;
  connects: number;
  disconnects: number;
  /** Responses sent because of a push, by xDS type (cds, eds, lds, rds, ...): Istio's pilot_xds_pushes. */
  pushesByType: Record<string, number>;
  /** NACKs by xDS type: Istio's pilot_total_xds_rejects{type}. */
  nacksByType: Record<string, number>;
}

export function newCounters(): XdsCounters {
  return { pushes: 0, pushRequests: 0, responses: 0, responseBytes: 0, acks: 0, nacks: 0, staleNonces: 0, unknownTypeRequests: 0, generates: 0, generateErrors: 0, connects: 0, disconnects: 0, pushesByType: {}, nacksByType: {} };
}

/** Istio's short name of an xDS type URL, as its metrics label it (cds, eds, lds, rds, sds). */
export function xdsTypeLabel(typeUrl: string): string {
  const name = typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
  switch (name) {
    case 'Cluster': return 'cds';
    case 'ClusterLoadAssignment': return 'eds';
    case 'Listener': return 'lds';
    case 'RouteConfiguration': return 'rds';
    case 'Secret': return 'sds';
    default: return name;
  }
}
