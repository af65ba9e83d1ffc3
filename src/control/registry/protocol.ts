import type { ServicePort } from '../config/kinds.js';

/**
 * A port's protocol as Istio decides it: the `protocol` field, else the port name's prefix
 * (`http-web`, `grpc`, `tcp-db`: Istio's "protocol selection" by name), else TCP. Upper case.
 * https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
export function portProtocol(port: ServicePort): string {
  if (port.protocol) return port.protocol.toUpperCase();
  const prefix = (port.name.split('-')[0] ?? '').toUpperCase();
  return KNOWN.has(prefix) ? prefix : 'TCP';
}

const KNOWN = new Set(['HTTP', 'HTTPS', 'HTTP2', 'GRPC', 'GRPC-WEB', 'TCP', 'TLS', 'MONGO', 'REDIS', 'MYSQL', 'UDP']);
// "grpc-web" would be split above; Istio only knows it as a protocol value, as here.

/** Ports whose traffic the sidecar handles as HTTP (an HTTP connection manager, routes). */
export function isHttp(protocol: string): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-WEB';
}

/** Ports whose upstream connections speak HTTP/2. */
export function isHttp2(protocol: string): boolean {
  return protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-WEB';
}
