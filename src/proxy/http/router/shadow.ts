import { HeaderMap } from '../headers.js';
import type { RequestHeaders, UpstreamResetReason, UpstreamResponseHandler, UpstreamStream } from '../stream.js';
import type { HcmRuntime } from '../conn-manager/http-stream.js';
import type { PoolCallbacks, PoolFailure, PendingHandle } from '../../upstream/pool.js';
import type { UpstreamCluster } from '../../upstream/cluster.js';
import type { UpstreamHost } from '../../upstream/host.js';
import { shadowAuthority, type MirrorPolicySpec } from './mirror-policy.js';

const EMPTY = Buffer.alloc(0);

/**
 * Sends copies of a finished request to the mirror policies' clusters. Fire and forget: the
 * responses are read and dropped, failures are only counted in the shadow cluster's stats, and
 * nothing here can touch the primary request or its response.
 */
export function sendShadows(rt: HcmRuntime, mirrors: readonly MirrorPolicySpec[], req: RequestHeaders, bodyless: boolean, body: readonly Buffer[], trailers: HeaderMap | undefined, timeoutMs: number): void {
  for (const m of mirrors) {
    if (m.fraction < 1 && Math.random() >= m.fraction) continue;
    const cluster = rt.clusters.get(m.cluster);
    if (!cluster) continue;
    const host = cluster.chooseHost({ hash: undefined, random: Math.random, headers: req.headers });
    if (!host) continue;
    // The shadow owns this unit of max_requests from here and gives it back when it ends.
    if (!cluster.resources.default.requests.tryAcquire()) { cluster.stats.upstream_rq_pending_overflow.inc(); continue; }
    const pool = cluster.pool(host);
    if (!pool) { cluster.resources.default.requests.dec(); continue; }
    const copy: RequestHeaders = {
      method: req.method,
      path: req.path,
      authority: m.appendShadowSuffix ? shadowAuthority(req.authority) : req.authority,
      scheme: req.scheme,
      headers: new HeaderMap(req.headers.list.slice()),
      protocol: req.protocol,
    };
    const shadow = new ShadowRequest(cluster, host, copy, bodyless, body, trailers, timeoutMs);
    shadow.pending = pool.newStream(shadow, shadow);
  }
}

class ShadowRequest implements PoolCallbacks, UpstreamResponseHandler {
  pending: PendingHandle | undefined;
  #stream: UpstreamStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #status = 0;
  #done = false;
  readonly #start = performance.now();

  constructor(
    readonly cluster: UpstreamCluster,
    readonly host: UpstreamHost,
    readonly req: RequestHeaders,
    readonly bodyless: boolean,
    readonly body: readonly Buffer[],
    readonly trailers: HeaderMap | undefined,
    timeoutMs: number,
  ) {
    host.activeRequests++;
    if (timeoutMs > 0) this.#timer = setTimeout(this.#onTimeout, timeoutMs);
  }

  #onTimeout = (): void => {
    this.#timer = undefined;
    this.cluster.stats.upstream_rq_timeout.inc();
    if (this.pending) { this.pending.cancel(); this.pending = undefined; }
    this.#stream?.reset();
    this.#end();
  };

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.cluster.resources.default.requests.dec();
    this.host.activeRequests--;
  }

  onPoolReady(stream: UpstreamStream): void {
    this.pending = undefined;
    if (this.#done) { stream.reset(); return; }
    this.#stream = stream;
    const body = this.body;
    stream.encodeHeaders(this.req, this.bodyless);
    if (this.bodyless) return;
    for (let i = 0; i < body.length; i++) stream.encodeData(body[i]!, !this.trailers && i === body.length - 1);
    if (body.length === 0 && !this.trailers) stream.encodeData(EMPTY, true);
    if (this.trailers) stream.encodeTrailers(this.trailers);
  }

  onPoolFailure(_reason: PoolFailure, _detail: string): void {
    this.pending = undefined;
    this.#end();
  }

  onUpstreamHeaders(status: number, _headers: HeaderMap, endStream: boolean): void {
    this.#status = status;
    if (endStream) this.#complete();
  }

  onUpstreamData(_chunk: Buffer, endStream: boolean): void {
    if (endStream) this.#complete();
  }

  onUpstreamTrailers(_trailers: HeaderMap): void {
    this.#complete();
  }

  onUpstreamReset(_reason: UpstreamResetReason, _detail: string): void {
    this.#stream = undefined;
    if (!this.#done) this.cluster.stats.upstream_rq_rx_reset.inc();
    this.#end();
  }

  #complete(): void {
    if (this.#done) return;
    this.#stream = undefined;
    this.cluster.stats.recordResponse(this.#status, performance.now() - this.#start);
    this.#end();
  }
}
