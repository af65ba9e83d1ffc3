/** Cluster and resource names exactly as Istio names them, so Istio habits and tools transfer. */

export const PASSTHROUGH = 'PassthroughCluster';
export const BLACKHOLE = 'BlackHoleCluster';
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';
/** The route configuration of the HTTP proxy (absolute-form requests) on the outbound port. */
export const HTTP_PROXY_ROUTE = 'http_proxy';

export function outboundCluster(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

export function inboundCluster(port: number): string {
  return `inbound|${port}||`;
}

/** `0.0.0.0_9080`: the outbound listener of a service port. */
export function portListener(port: number, address = '0.0.0.0'): string {
  return `${address}_${port}`;
}
