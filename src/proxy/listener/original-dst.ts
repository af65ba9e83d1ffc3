import type net from 'node:net';

export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * The address a connection was sent to before any redirection. Without traffic capture nothing
 * redirects, so it is the socket's local address. This is the one place that learns it:
 * traffic capture (iptables REDIRECT) replaces it with a SO_ORIGINAL_DST lookup.
 */
export function originalDestination(socket: net.Socket): SocketAddress {
  return { address: unmapped(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
export function unmapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
