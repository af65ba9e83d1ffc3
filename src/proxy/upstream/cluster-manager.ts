import type { ClusterSpec } from './cluster.js';
import { UpstreamCluster } from './cluster.js';
import type { StatScope } from '../stats-scope.js';
import type { InstanceShared } from '../shared/context.js';

/** The clusters of one worker, by name. */
export class ClusterManager {
  readonly #clusters = new Map<string, UpstreamCluster>();

  constructor(specs: readonly ClusterSpec[], scopeFor: (cluster: string) => StatScope, readonly shared: InstanceShared) {
    for (const s of specs) this.#clusters.set(s.name, new UpstreamCluster(s, scopeFor(s.name), shared));
  }

  get(name: string): UpstreamCluster | undefined {
    return this.#clusters.get(name);
  }

  all(): IterableIterator<UpstreamCluster> {
    return this.#clusters.values();
  }

  /** Resolves when every cluster finished warming (first active health checks done). */
  async initialized(): Promise<void> {
    await Promise.all([...this.#clusters.values()].map((c) => c.initialized()));
  }

  close(): void {
    for (const c of this.#clusters.values()) c.close();
  }
}
