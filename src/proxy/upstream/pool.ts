import type { UpstreamResponseHandler, UpstreamStream } from '../http/stream.js';

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
}

export interface PendingHandle {
  cancel(): void;
}

/** Limits a pool enforces (Envoy circuit breakers, defaults from Envoy). */
export interface PoolLimits {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  connectTimeoutMs: number;
  /** Close an idle upstream connection after this long (Envoy's common idle_timeout: 1 h). */
  idleTimeoutMs: number;
}
