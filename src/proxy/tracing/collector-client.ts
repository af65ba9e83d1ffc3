/**
 * POSTs a report to a collector cluster of the proxy through the proxy's own upstream machinery
 * (upstream/http-fetch.ts), as Envoy's tracers send through its cluster manager's async client:
 * the cluster's load balancing, health, transport socket (TLS to the collector), circuit
 * breakers and stats apply, and the collector cluster's pools are its own, so reports never take
 * a slot of the request path's. Resolves with the status, or 0 when it could not be sent.
 */
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { fetchViaCluster } from '../upstream/http-fetch.js';

export interface CollectorRequest {
  readonly cluster: string;
  readonly path: string;
  readonly authority: string;
  readonly contentType: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly timeoutMs: number;
}

/** A collector's answer is a few bytes (an OTLP ExportTraceServiceResponse, Zipkin's 202). */
const MAX_RESPONSE_BYTES = 64 * 1024;

export async function postReport(clusters: ClusterManager, r: CollectorRequest, body: Buffer): Promise<number> {
  try {
    const res = await fetchViaCluster(clusters, r.cluster, {
      method: 'POST', path: r.path, authority: r.authority, timeoutMs: r.timeoutMs, maxBodyBytes: MAX_RESPONSE_BYTES, body,
      headers: [['content-type', r.contentType], ...r.headers],
    });
    return res.status;
  } catch {
    return 0;
  }
}
