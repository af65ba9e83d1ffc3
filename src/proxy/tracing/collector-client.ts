/**
 * POSTs a report to a collector cluster of the proxy: one of the cluster's hosts (a healthy one
 * when there is one), over a keep-alive HTTP/1.1 connection of its own — reports never take
 * a slot of the request path's pools. Resolves with the status, or 0 when it could not be sent.
 */
import http from 'node:http';
import type { ClusterManager } from '../upstream/cluster-manager.js';

export interface CollectorRequest {
  readonly cluster: string;
  readonly path: string;
  readonly authority: string;
  readonly contentType: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly timeoutMs: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

let rotation = 0;

export function postReport(clusters: ClusterManager, r: CollectorRequest, body: Uint8Array | string): Promise<number> {
  const hosts = clusters.get(r.cluster)?.hosts ?? [];
  const healthy = hosts.filter((h) => h.healthy);
  const pick = healthy.length > 0 ? healthy : hosts;
  const host = pick[rotation++ % Math.max(1, pick.length)];
  if (!host) return Promise.resolve(0);
  const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return new Promise((resolve) => {
    const headers: Record<string, string> = { host: r.authority, 'content-type': r.contentType, 'content-length': String(buf.length) };
    for (const [k, v] of r.headers) headers[k] = v;
    const req = http.request({ host: host.address, port: host.port, method: 'POST', path: r.path, headers, agent, timeout: r.timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(buf);
  });
}
