import type { ClusterManager } from '../../../upstream/cluster-manager.js';
import { fetchViaCluster } from '../../../upstream/http-fetch.js';
import { log } from '../../../log.js';
import { parseJwks, type Jwks } from './jwks.js';
import type { RemoteJwksSpec } from './provider.js';
import { JwtStatus } from './status.js';

const MAX_JWKS_BYTES = 1 << 20;

interface Entry {
  jwks: Jwks | undefined;
  expiresAt: number;
  inflight: Promise<Jwks | JwtStatus> | undefined;
  /** The last fetch failed: further failures are logged at debug level only (each request retries). */
  failing: boolean;
}

/** Counters of the JWKS fetches (`http.<prefix>.jwt_authn.jwks_fetch_success` / `_failed`). */
export interface FetchStats {
  readonly jwks_fetch_success: { inc(): void };
  readonly jwks_fetch_failed: { inc(): void };
}

/**
 * The remote JWKS of one jwt_authn filter in one thread, fetched through the provider's cluster
 * when first needed (or when the filter is built, with async_fetch) and kept for cache_duration.
 * Concurrent requests share one fetch; a failed fetch is reported to the requests waiting for it
 * and the next request tries again. With async_fetch an expired set keeps serving while a new
 * one is fetched.
 */
export class RemoteJwksCache {
  readonly #entries = new Map<RemoteJwksSpec, Entry>();
  constructor(readonly clusters: ClusterManager | undefined, readonly stats: FetchStats, readonly now: () => number = Date.now) {}

  /** The cached set, or undefined when it must be fetched first. */
  get(spec: RemoteJwksSpec): Jwks | undefined {
    const e = this.#entries.get(spec);
    if (!e?.jwks) return undefined;
    if (this.now() < e.expiresAt) return e.jwks;
    if (spec.asyncFetch) { void this.fetch(spec); return e.jwks; }
    return undefined;
  }

  /** Fetches (or joins the fetch in flight); resolves with the keys or why there are none. Never rejects. */
  fetch(spec: RemoteJwksSpec): Promise<Jwks | JwtStatus> {
    let e = this.#entries.get(spec);
    if (!e) this.#entries.set(spec, (e = { jwks: undefined, expiresAt: 0, inflight: undefined, failing: false }));
    if (e.inflight) return e.inflight;
    const entry = e;
    const p = this.#load(spec, entry.failing ? log.debug : log.warn).then((r) => {
      entry.inflight = undefined;
      entry.failing = typeof r === 'string';
      if (typeof r === 'string') { this.stats.jwks_fetch_failed.inc(); return r; }
      this.stats.jwks_fetch_success.inc();
      entry.jwks = r;
      entry.expiresAt = this.now() + spec.cacheDurationMs;
      return r;
    });
    entry.inflight = p;
    return p;
  }

  async #load(spec: RemoteJwksSpec, report: (m: string) => void): Promise<Jwks | JwtStatus> {
    if (!this.clusters) return JwtStatus.JwksFetchFail;
    try {
      const res = await fetchViaCluster(this.clusters, spec.cluster, {
        method: 'GET', path: spec.path, authority: spec.authority, scheme: spec.scheme, timeoutMs: spec.timeoutMs, maxBodyBytes: MAX_JWKS_BYTES,
      });
      if (res.status !== 200) {
        report(`jwt_authn: fetching ${spec.uri} through cluster ${spec.cluster}: HTTP ${res.status}`);
        return JwtStatus.JwksFetchFail;
      }
      const jwks = parseJwks(res.body.toString('utf8'));
      if (typeof jwks !== 'string') return jwks;
      // Envoy's fetcher reports a body that is no usable JWKS as a failed fetch.
      report(`jwt_authn: JWKS from ${spec.uri}: ${jwks}`);
      return JwtStatus.JwksFetchFail;
    } catch (e) {
      report(`jwt_authn: fetching ${spec.uri} through cluster ${spec.cluster}: ${(e as Error).message}`);
      return JwtStatus.JwksFetchFail;
    }
  }
}
