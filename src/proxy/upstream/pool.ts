import type { UpstreamResponseHandler, UpstreamStream } from '../http/stream.js';
import type { ResourceManager } from './circuit-breakers.js';

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

/** What a pool works within. */
export interface PoolLimits {
  /** The cluster's circuit breakers at the pool's priority (max_connections, max_pending_requests). */
  resources?: ResourceManager;
  connectTimeoutMs: number;
  /** Close an idle upstream connection after this long (Envoy's common idle_timeout: 1 h). */
  idleTimeoutMs: number;
}
