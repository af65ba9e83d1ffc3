import type { HeaderMap } from '../headers.js';
import type { UpstreamResetReason, UpstreamResponseHandler, UpstreamStream } from '../stream.js';
import type { ConnPool, PendingHandle, PoolCallbacks, PoolFailure } from '../../upstream/pool.js';
import type { UpstreamHost } from '../../upstream/host.js';
import type { ResourceManager } from '../../upstream/circuit-breakers.js';
import type { ClusterStats } from '../../upstream/cluster-stats.js';

/** What an attempt reports to its router. Stale attempts (reset, superseded) report nothing. */
export interface AttemptOwner {
  onAttemptReady(a: UpstreamRequest): void;
  onAttemptPoolFailure(a: UpstreamRequest, reason: PoolFailure, detail: string): void;
  onAttemptHeaders(a: UpstreamRequest, status: number, headers: HeaderMap, endStream: boolean): void;
  onAttemptData(a: UpstreamRequest, chunk: Buffer, endStream: boolean): void;
  onAttemptTrailers(a: UpstreamRequest, trailers: HeaderMap): void;
  onAttemptReset(a: UpstreamRequest, reason: UpstreamResetReason, detail: string): void;
  onPerTryTimeout(a: UpstreamRequest): void;
  onAttemptDrain(a: UpstreamRequest): void;
}

/**
 * One attempt of a routed request: a stream from a host's pool, its per-try timer, and the
 * cluster resources it holds (max_requests, the host's active request count) until it ends.
 */
export class UpstreamRequest implements PoolCallbacks, UpstreamResponseHandler {
  stream: UpstreamStream | undefined;
  readonly startMs = performance.now();
  #pending: PendingHandle | undefined;
  #perTry: NodeJS.Timeout | undefined;
  #done = false;
  #released = false;

  constructor(
    readonly owner: AttemptOwner,
    readonly host: UpstreamHost,
    readonly resources: ResourceManager,
    readonly stats: ClusterStats,
    /** 1 for the first attempt. */
    readonly number: number,
  ) {
    // The unit of max_requests was taken by the router (tryAcquire); release() gives it back.
    host.activeRequests++;
  }

  get done(): boolean { return this.#done; }

  start(pool: ConnPool): void {
    this.#pending = pool.newStream(this, this);
  }

  armPerTry(ms: number): void {
    if (ms > 0 && !this.#perTry && !this.#done) this.#perTry = setTimeout(() => this.#onPerTry(), ms);
  }

  cancelPerTry(): void {
    if (this.#perTry) { clearTimeout(this.#perTry); this.#perTry = undefined; }
  }

  // A method, not an arrow-function field: no closure per attempt unless a timer is armed.
  #onPerTry(): void {
    this.#perTry = undefined;
    if (!this.#done) this.owner.onPerTryTimeout(this);
  }

  /** Abandons the attempt: no more callbacks; the connection is not reused. */
  reset(): void {
    if (this.#done) return;
    this.#done = true;
    this.cancelPerTry();
    if (this.#pending) { this.#pending.cancel(); this.#pending = undefined; }
    const s = this.stream;
    if (s) {
      this.stream = undefined;
      this.stats.upstream_rq_tx_reset.inc();
      s.onDrain = undefined;
      s.reset();
    }
    this.#release();
  }

  /** The response is complete. */
  complete(): void {
    if (this.#done) return;
    this.#done = true;
    this.cancelPerTry();
    // The pooled connection outlives the request: its drain callback must not keep this
    // attempt, and through it the whole request, alive until the connection's next request.
    if (this.stream) this.stream.onDrain = undefined;
    this.stream = undefined;
    this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.resources.requests.dec();
    this.host.activeRequests--;
  }

  // --- PoolCallbacks ---

  onPoolReady(stream: UpstreamStream): void {
    this.#pending = undefined;
    if (this.#done) { stream.reset(); return; }
    this.stream = stream;
    stream.onDrain = () => { if (!this.#done) this.owner.onAttemptDrain(this); };
    this.owner.onAttemptReady(this);
  }

  onPoolFailure(reason: PoolFailure, detail: string): void {
    this.#pending = undefined;
    if (this.#done) return;
    this.#done = true;
    this.cancelPerTry();
    this.#release();
    this.owner.onAttemptPoolFailure(this, reason, detail);
  }

  // --- UpstreamResponseHandler ---

  onUpstreamHeaders(status: number, headers: HeaderMap, endStream: boolean): void {
    if (!this.#done) this.owner.onAttemptHeaders(this, status, headers, endStream);
  }

  onUpstreamData(chunk: Buffer, endStream: boolean): void {
    if (!this.#done) this.owner.onAttemptData(this, chunk, endStream);
  }

  onUpstreamTrailers(trailers: HeaderMap): void {
    if (!this.#done) this.owner.onAttemptTrailers(this, trailers);
  }

  onUpstreamReset(reason: UpstreamResetReason, detail: string): void {
    this.stream = undefined;
    if (this.#done) return;
    this.#done = true;
    this.cancelPerTry();
    this.#release();
    this.owner.onAttemptReset(this, reason, detail);
  }
}
