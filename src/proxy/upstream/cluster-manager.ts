import type { ClusterSpec } from './cluster.js';
import { UpstreamCluster } from './cluster.js';
import type { EndpointSpec } from './load-assignment.js';
import type { StatScope } from '../stats-scope.js';
import type { InstanceShared } from '../shared/context.js';

/**
 * The clusters of one worker, by name. Dynamic (CDS) clusters are added, replaced and removed at
 * run time: a replaced cluster stays with the requests that already hold it (their host and
 * pool), new requests get the new one, and the old one's pools close as they go idle.
 */
export class ClusterManager {
  readonly #clusters = new Map<string, UpstreamCluster>();
  /** EDS assignments by service name, for clusters that are (re)created after they arrived. */
  readonly #endpoints = new Map<string, readonly EndpointSpec[]>();

  constructor(specs: readonly ClusterSpec[], readonly scopeFor: (cluster: string) => StatScope, readonly shared: InstanceShared) {
    for (const s of specs) this.#clusters.set(s.name, new UpstreamCluster(s, scopeFor(s.name), shared));
  }

  get(name: string): UpstreamCluster | undefined {
    return this.#clusters.get(name);
  }

  all(): IterableIterator<UpstreamCluster> {
    return this.#clusters.values();
  }

  /** Adds `spec`'s cluster, or replaces the cluster of that name. */
  upsert(spec: ClusterSpec): UpstreamCluster {
    const c = new UpstreamCluster(spec, this.scopeFor(spec.name), this.shared);
    const eps = spec.discovery === 'EDS' ? this.#endpoints.get(spec.edsServiceName) : undefined;
    if (eps) c.setEndpoints(eps);
    const old = this.#clusters.get(spec.name);
    this.#clusters.set(spec.name, c);
    old?.close();
    return c;
  }

  /** Removes a cluster: requests that name it from now on get 503 NC. */
  remove(name: string): void {
    const old = this.#clusters.get(name);
    this.#clusters.delete(name);
    old?.close();
  }

  /** An EDS ClusterLoadAssignment: every EDS cluster of `serviceName` gets these hosts (undefined: forgotten). */
  setEndpoints(serviceName: string, endpoints: readonly EndpointSpec[] | undefined): void {
    if (endpoints === undefined) { this.#endpoints.delete(serviceName); return; }
    this.#endpoints.set(serviceName, endpoints);
    for (const c of this.#clusters.values()) {
      if (c.spec.discovery === 'EDS' && c.spec.edsServiceName === serviceName) c.setEndpoints(endpoints);
    }
  }

  /** Resolves when every cluster finished warming (first active health checks done). */
  async initialized(): Promise<void> {
    await Promise.all([...this.#clusters.values()].map((c) => c.initialized()));
  }

  close(): void {
    for (const c of this.#clusters.values()) c.close();
  }
}
