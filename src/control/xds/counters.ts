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
}

export function newCounters(): XdsCounters {
  return { pushes: 0, pushRequests: 0, responses: 0, responseBytes: 0, acks: 0, nacks: 0, staleNonces: 0, unknownTypeRequests: 0, generates: 0, generateErrors: 0, connects: 0, disconnects: 0 };
}
