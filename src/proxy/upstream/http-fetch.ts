import { HeaderMap } from '../http/headers.js';
import type { RequestHeaders, UpstreamResetReason, UpstreamResponseHandler, UpstreamStream } from '../http/stream.js';
import type { PendingHandle, PoolCallbacks, PoolFailure } from './pool.js';
import type { ClusterManager } from './cluster-manager.js';
import type { UpstreamCluster } from './cluster.js';
import type { UpstreamHost } from './host.js';

/** What a proxy-originated request got back. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Buffer;
}

/** A request the proxy makes itself (Envoy's AsyncClient), e.g. jwt_authn's JWKS fetch. */
export interface FetchRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** Default: `https` when the chosen host is reached over TLS, else `http` (what HTTP/2 sends as :scheme). */
  readonly scheme?: 'http' | 'https';
  readonly headers?: readonly (readonly [string, string])[];
  readonly timeoutMs: number;
  /** A longer response body fails the fetch (the proxy buffers it whole). */
  readonly maxBodyBytes?: number;
  /** The request body, sent with its content-length; none when absent. */
  readonly body?: Buffer;
}

/**
 * Sends a request through cluster `clusterName` with the proxy's own upstream machinery
 * (load balancing, pools, circuit breakers, cluster stats), buffering the response. Rejects with
 * an Error saying why (no cluster, no healthy host, overflow, connect failure, reset, timeout,
 * body too large); never throws synchronously.
 */
export function fetchViaCluster(clusters: ClusterManager, clusterName: string, req: FetchRequest): Promise<FetchResponse> {
  return new Promise((resolve, reject) => {
    const cluster = clusters.get(clusterName);
    if (!cluster) { reject(new Error(`cluster ${clusterName} not found`)); return; }
    const host = cluster.chooseHost({ hash: undefined, random: Math.random });
    if (!host) { reject(new Error(`no healthy upstream in cluster ${clusterName}`)); return; }
    // The fetch owns this unit of max_requests from here and gives it back when it ends.
    if (!cluster.resources.default.requests.tryAcquire()) { cluster.stats.upstream_rq_pending_overflow.inc(); reject(new Error(`cluster ${clusterName} is overflowing`)); return; }
    const pool = cluster.pool(host);
    if (!pool) { cluster.resources.default.requests.dec(); reject(new Error(`cluster ${clusterName}: no connection pool available`)); return; }
    const f = new ClusterFetch(cluster, host, req, resolve, reject);
    f.pending = pool.newStream(f, f);
  });
}

class ClusterFetch implements PoolCallbacks, UpstreamResponseHandler {
  pending: PendingHandle | undefined;
  #stream: UpstreamStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #status = 0;
  #headers: HeaderMap | undefined;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #done = false;
  readonly #start = performance.now();

  constructor(
    readonly cluster: UpstreamCluster,
    readonly host: UpstreamHost,
    readonly req: FetchRequest,
    readonly resolve: (r: FetchResponse) => void,
    readonly reject: (e: Error) => void,
  ) {
    host.activeRequests++;
    this.#timer = setTimeout(this.#onTimeout, req.timeoutMs);
  }

  #onTimeout = (): void => {
    this.#timer = undefined;
    this.cluster.stats.upstream_rq_timeout.inc();
    this.#fail(new Error(`timed out after ${this.req.timeoutMs} ms`));
  };

  #fail(e: Error): void {
    if (this.#done) return;
    if (this.pending) { this.pending.cancel(); this.pending = undefined; }
    const s = this.#stream;
    this.#stream = undefined;
    s?.reset();
    this.#end();
    this.reject(e);
  }

  #end(): void {
    this.#done = true;
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
    this.cluster.resources.default.requests.dec();
    this.host.activeRequests--;
  }

  onPoolReady(stream: UpstreamStream): void {
    this.pending = undefined;
    if (this.#done) { stream.reset(); return; }
    this.#stream = stream;
    const r = this.req;
    const h: RequestHeaders = {
      method: r.method, path: r.path, authority: r.authority, scheme: r.scheme ?? (this.cluster.transportFor(this.host).tls ? 'https' : 'http'),
      headers: new HeaderMap((r.headers ?? []).flatMap(([k, v]) => [k, v])), protocol: 'HTTP/1.1',
    };
    const body = r.body;
    if (body === undefined) { stream.encodeHeaders(h, true); return; }
    h.headers.set('content-length', String(body.length));
    stream.encodeHeaders(h, false);
    stream.encodeData(body, true);
  }

  onPoolFailure(reason: PoolFailure, detail: string): void {
    this.pending = undefined;
    this.#fail(new Error(`${reason}${detail ? `: ${detail}` : ''}`));
  }

  onUpstreamHeaders(status: number, headers: HeaderMap, endStream: boolean): void {
    this.#status = status;
    this.#headers = headers;
    if (endStream) this.#complete();
  }

  onUpstreamData(chunk: Buffer, endStream: boolean): void {
    if (this.#done) return;
    this.#bytes += chunk.length;
    if (this.req.maxBodyBytes !== undefined && this.#bytes > this.req.maxBodyBytes) { this.#fail(new Error(`response body over ${this.req.maxBodyBytes} bytes`)); return; }
    if (chunk.length > 0) this.#chunks.push(Buffer.from(chunk));
    if (endStream) this.#complete();
  }

  onUpstreamTrailers(): void {
    this.#complete();
  }

  onUpstreamReset(reason: UpstreamResetReason, detail: string): void {
    this.#stream = undefined;
    if (this.#done) return;
    this.cluster.stats.upstream_rq_rx_reset.inc();
    this.#fail(new Error(`${reason}${detail ? `: ${detail}` : ''}`));
  }

  #complete(): void {
    if (this.#done) return;
    this.#stream = undefined;
    this.cluster.stats.recordResponse(this.#status, performance.now() - this.#start);
    this.#end();
    this.resolve({ status: this.#status, headers: this.#headers ?? new HeaderMap(), body: Buffer.concat(this.#chunks) });
  }
}
