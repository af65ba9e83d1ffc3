import type { HeaderMap } from '../../http/headers.js';

/** An IP address and port (UpstreamHost is one). IPv6 addresses print as `[addr]:port`. */
export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * The request line of an HTTP request and its regular headers: what REQ(...) reads. The pseudo
 * headers `:method`, `:path`, `:authority`, `:scheme` come from the fields, every other name
 * from `headers` (names lower-case). The codec's RequestHeaders fits as is.
 */
export interface AccessLogRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly headers: HeaderMap;
}

/**
 * What one finished HTTP request or TCP connection produced: the values access log command
 * operators read. Absent means "not known" and prints `-` (typed JSON: null). For a TCP proxy
 * connection the HTTP fields (request, response headers, protocol, response code) are absent.
 * Plain data: a stream object may implement it with getters instead of copying.
 */
export interface AccessLogContext {
  /** Wall-clock start, ms since the epoch (fractions allowed, printed by %f). */
  readonly startTimeMs: number;
  readonly request?: AccessLogRequest;
  readonly responseHeaders?: HeaderMap;
  readonly responseTrailers?: HeaderMap;
  /** 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2'. */
  readonly protocol?: string;
  readonly upstreamProtocol?: string;
  /** Status sent downstream; absent or 0 means none was sent (Envoy prints 0). */
  readonly responseCode?: number;
  readonly responseCodeDetails?: string;
  /** ResponseFlag bits. */
  readonly responseFlags: number;
  /** Body bytes (HTTP) or connection bytes (TCP) received from / sent to downstream. */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Start to last byte out. */
  readonly durationMs?: number;
  /** Start to last byte of the request received. */
  readonly requestDurationMs?: number;
  /** Start to first byte of the upstream response. */
  readonly responseDurationMs?: number;
  readonly upstreamHost?: SocketAddress;
  readonly upstreamCluster?: string;
  readonly upstreamLocalAddress?: SocketAddress;
  readonly upstreamTransportFailureReason?: string;
  /** The client as the connection manager trusts it (may come from x-forwarded-for). */
  readonly downstreamRemoteAddress?: SocketAddress;
  /** The connection's peer; when absent, downstreamRemoteAddress. */
  readonly downstreamDirectRemoteAddress?: SocketAddress;
  readonly downstreamLocalAddress?: SocketAddress;
  readonly routeName?: string;
  /** SNI of the downstream TLS connection. */
  readonly requestedServerName?: string;
  readonly connectionId?: number;
  /** Upstream attempts, retries included; absent prints 0 as Envoy does. */
  readonly attemptCount?: number;
}
