import type { ProxySpec } from './config.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import { ActiveListener, type NetworkFilter } from './listener/active-listener.js';
import { chainOf } from './listener/network-filters.js';
import { handoffTarget } from './listener/handoff.js';
import type { SocketAddress } from './listener/original-dst.js';
import { NetworkLocalRateLimitFilter } from './tcp/local-ratelimit.js';
import type { FilterChainSpec } from './listener/compile.js';
import { HttpConnectionManagerFilter } from './http/conn-manager/hcm-filter.js';
import { HcmStats } from './http/conn-manager/stats.js';
import { TcpProxyFilter, tcpProxyStats, type TcpProxyStats } from './tcp/tcp-proxy.js';
import type { StatScopes } from './stat-scopes.js';
import type { InstanceShared } from './shared/context.js';

/**
 * The serving half of a proxy in one thread: clusters, pools and listeners, built from the
 * compiled config. With --concurrency N there are N of these, one per worker thread.
 */
export class ProxyInstance {
  readonly clusters: ClusterManager;
  readonly listeners: ActiveListener[];

  constructor(readonly spec: ProxySpec, scopes: StatScopes, readonly shared: InstanceShared) {
    this.clusters = new ClusterManager(spec.clusters, (name) => scopes.cluster(name), shared);
    const hcmStats = new Map<string, HcmStats>();
    const tcpStats = new Map<string, TcpProxyStats>();
    const filterFor = (chain: FilterChainSpec): NetworkFilter =>
      chainOf(chain.readFilters.map((rf) => new NetworkLocalRateLimitFilter(rf.config, scopes, shared.slots)), terminalFor(chain));
    const terminalFor = (chain: FilterChainSpec): NetworkFilter => {
      const f = chain.filter;
      if (f.kind === 'http_connection_manager') {
        let stats = hcmStats.get(f.config.statPrefix);
        if (!stats) hcmStats.set(f.config.statPrefix, (stats = new HcmStats(scopes.http(f.config.statPrefix))));
        const httpScope = scopes.http(f.config.statPrefix);
        const filters = f.config.filters.flatMap((fc) => (fc.instantiate ? [fc.instantiate({ httpScope, statPrefix: f.config.statPrefix, scopes, shared })] : []));
        return new HttpConnectionManagerFilter({ config: f.config, stats, clusters: this.clusters, filters });
      }
      let stats = tcpStats.get(f.config.statPrefix);
      if (!stats) tcpStats.set(f.config.statPrefix, (stats = tcpProxyStats(scopes.tcp(f.config.statPrefix))));
      return new TcpProxyFilter(f.config, this.clusters, stats);
    };
    this.listeners = spec.listeners.map((l) => new ActiveListener(l, scopes.listener(l.statPrefix || `${l.address}_${l.port}`), filterFor));
    const index = this.listeners.map((l) => ({ ...l.spec, active: l }));
    const byDestination = (dst: SocketAddress): ActiveListener | undefined => handoffTarget(index, dst)?.active;
    for (const l of this.listeners) if (l.spec.useOriginalDst) l.handoff = byDestination;
  }

  /** Starts every listener; `fds` gives pre-opened SO_REUSEPORT sockets by listener index. */
  async listen(fds?: readonly (number | undefined)[]): Promise<number[]> {
    return Promise.all(this.listeners.map((l, i) => l.listen(fds?.[i])));
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close()));
    this.clusters.close();
  }

  /** Stops accepting and lets open connections finish; resolves when all have closed. */
  async drain(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.drain()));
  }

  destroyConnections(): void {
    for (const l of this.listeners) l.destroyConnections();
  }
}
