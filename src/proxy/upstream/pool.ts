import type { UpstreamResponseHandler, UpstreamStream } from '../http/stream.js';
import type { ResourceManager } from './circuit-breakers.js';
import type { UpstreamTransport } from '../tls/upstream-transport.js';

/** Why a pool could not give a stream. */
export type PoolFailure = 'connect_failure' | 'overflow' | 'connection_termination';

export interface PoolCallbacks {
  onPoolReady(stream: UpstreamStream): void;
  onPoolFailure(reason: PoolFailure, detail: string): void;
}

/**
 * Connections to one host. `newStream` either calls back at once (a free connection) or later
 * (after connecting, or when a busy connection frees up). `cancel` withdraws a pending request.
 */
export interface ConnPool {
  newStream(handler: UpstreamResponseHandler, cb: PoolCallbacks): PendingHandle | undefined;
  /** Close idle connections; busy ones close when their request ends. */
  drain(): void;
  readonly activeConnections: number;
  /** The transport its connections use (undefined: plaintext). */
  readonly transport?: UpstreamTransport | undefined;
}

export interface PendingHandle {
  cancel(): void;
}

/** What a pool works within. */
export interface PoolLimits {
  /** The cluster's circuit breakers at the pool's priority (max_connections, max_pending_requests). */
  resources?: ResourceManager;
  connectTimeoutMs: number;
  /** Close an idle upstream connection after this long (Envoy's common idle_timeout: 1 h). */
  idleTimeoutMs: number;
  /** common_http_protocol_options.max_requests_per_connection: a connection closes after this many. */
  maxRequestsPerConnection?: number | undefined;
  /** common_http_protocol_options.max_connection_duration: no new request on an older connection. */
  maxConnectionDurationMs?: number | undefined;
  /** http2_protocol_options.max_concurrent_streams: the most streams we open on one connection. */
  maxConcurrentStreams?: number | undefined;
  /** TLS (a transport socket) when the cluster gives this host one; plaintext when absent. */
  transport?: UpstreamTransport | undefined;
}

/** When a connection opened now must stop taking requests (max_connection_duration), or Infinity. */
export function connectionRetireAt(limits: PoolLimits): number {
  return limits.maxConnectionDurationMs === undefined ? Infinity : Date.now() + limits.maxConnectionDurationMs;
}

/**
 * Whether a connection that carried `served` requests and retires at `retireAt` (its
 * max_connection_duration or the expiry of its TLS certificates) may take another. The clock
 * is read only when there is a deadline: this runs once per request.
 */
export function connectionReusable(limits: PoolLimits, served: number, retireAt: number): boolean {
  if (limits.maxRequestsPerConnection !== undefined && served >= limits.maxRequestsPerConnection) return false;
  return retireAt === Infinity || Date.now() < retireAt;
}
