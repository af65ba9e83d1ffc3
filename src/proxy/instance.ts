import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../envoy/generated/envoy/config/route/v3/route_pb.js';
import { compileRouteConfig } from './http/route/compile.js';
import type { ProxySpec } from './config.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import { ActiveListener, type NetworkFilter } from './listener/active-listener.js';
import type { ListenerSpec } from './listener/compile.js';
import { chainOf } from './listener/network-filters.js';
import { handoffTarget } from './listener/handoff.js';
import type { SocketAddress } from './listener/original-dst.js';
import { NetworkLocalRateLimitFilter } from './tcp/local-ratelimit.js';
import { NetworkRbacFilter } from './tcp/rbac.js';
import { IstioTcpStatsFilter } from './tcp/istio-stats.js';
import { localNodeOf, type LocalNode } from './istio-stats/local-node.js';
import type { NetworkReadFilter } from './listener/network-filters.js';
import type { FilterChainSpec } from './listener/compile.js';
import { HttpConnectionManagerFilter } from './http/conn-manager/hcm-filter.js';
import { HcmStats } from './http/conn-manager/stats.js';
import type { RouteSource } from './http/conn-manager/http-stream.js';
import type { RouteTable } from './http/route/route-table.js';
import { TcpProxyFilter, tcpProxyStats, type TcpProxyStats } from './tcp/tcp-proxy.js';
import type { StatScopes } from './stat-scopes.js';
import type { InstanceShared } from './shared/context.js';
import { SecretStore } from './tls/secret-store.js';

/** An RDS route configuration as the connection managers that name it see it. */
class RdsRouteSource implements RouteSource {
  constructor(public table: RouteTable) {}
}

/**
 * The serving half of a proxy in one thread: clusters, pools and listeners, built from the
 * compiled config. With --concurrency N there are N of these, one per worker thread. Dynamic
 * (xDS) listeners, clusters and route tables are added, replaced and removed at run time through
 * the methods below; each replaces whole objects, so a request in flight keeps what it started with.
 */
export class ProxyInstance {
  readonly clusters: ClusterManager;
  /** SDS secrets by name (`default`, `ROOTCA`, bootstrap static secrets) for transport sockets. */
  readonly secrets = new SecretStore();
  readonly #listeners = new Map<string, ActiveListener>();
  readonly #staticListeners: ActiveListener[];
  readonly #rds = new Map<string, RdsRouteSource>();
  readonly #hcmStats = new Map<string, HcmStats>();
  readonly #tcpStats = new Map<string, TcpProxyStats>();
  readonly #emptyTables = new Map<string, RouteTable>();

  constructor(readonly spec: ProxySpec, readonly scopes: StatScopes, readonly shared: InstanceShared) {
    this.clusters = new ClusterManager(spec.clusters, (name) => scopes.cluster(name), shared);
    this.#staticListeners = spec.listeners.map((l) => this.#build(l));
    for (const l of this.#staticListeners) this.#listeners.set(l.spec.name, l);
  }

  /** Every listener, static ones first. */
  get listeners(): ActiveListener[] {
    return [...this.#listeners.values()];
  }

  listener(name: string): ActiveListener | undefined {
    return this.#listeners.get(name);
  }

  /** Starts the static listeners; `fds` gives pre-opened SO_REUSEPORT sockets by listener index. */
  async listen(fds?: readonly (number | undefined)[]): Promise<number[]> {
    return Promise.all(this.#staticListeners.map((l, i) => l.listen(fds?.[i])));
  }

  /**
   * Adds a dynamic listener. `listen`: bind it (with an SO_REUSEPORT fd when given), or
   * `false` to keep it as a view only (the admin thread when workers serve). Resolves with the port.
   */
  async addListener(spec: ListenerSpec, listen: boolean, fd?: number): Promise<number> {
    const l = this.#build(spec);
    this.#listeners.set(spec.name, l);
    this.#handoffIndex = undefined;
    return listen ? l.listen(fd) : spec.port;
  }

  /** New connections get `spec`'s filter chains; connections open on the old ones drain. */
  updateListener(spec: ListenerSpec): void {
    const l = this.#listeners.get(spec.name);
    if (!l) throw new Error(`no listener ${spec.name}`);
    l.update(spec, this.#filterFor);
    this.#handoffIndex = undefined;
  }

  /** Stops accepting on `name` and drains its connections; resolves when they have closed. */
  removeListener(name: string): Promise<void> {
    const l = this.#listeners.get(name);
    if (!l) return Promise.resolve();
    this.#listeners.delete(name);
    this.#handoffIndex = undefined;
    return l.drain();
  }

  /** Sets (or, with undefined, empties) the RDS route configuration `name`, for requests that start from now. */
  setRoutes(name: string, table: RouteTable | undefined): void {
    const src = this.#routeSource(name);
    src.table = table ?? this.#emptyTable(name);
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

  #routeSource(name: string): RdsRouteSource {
    let src = this.#rds.get(name);
    if (!src) this.#rds.set(name, (src = new RdsRouteSource(this.#emptyTable(name))));
    return src;
  }

  /** The table of an RDS name not (or no longer) known: no virtual host, so requests get 404 NR. */
  #emptyTable(name: string): RouteTable {
    let t = this.#emptyTables.get(name);
    if (!t) this.#emptyTables.set(name, (t = compileRouteConfig(create(RouteConfigurationSchema, { name }))));
    return t;
  }

  #build(l: ListenerSpec): ActiveListener {
    const a = new ActiveListener(l, this.scopes.listener(l.statPrefix || `${l.address}_${l.port}`), this.#filterFor);
    a.handoff = this.#byDestination;
    return a;
  }

  /** What hand-offs search, built on first use after the listeners changed (not per connection). */
  #handoffIndex: { readonly name: string; readonly address: string; readonly port: number; readonly bindToPort: boolean; readonly active: ActiveListener }[] | undefined;

  /**
   * use_original_dst: the listener serving a connection sent to `dst` (exact address, then the
   * wildcard one), among this thread's listeners as they are now.
   */
  #byDestination = (dst: SocketAddress): ActiveListener | undefined =>
    handoffTarget(this.#handoffIndex ??= this.listeners.map((l) => ({ name: l.spec.name, address: l.spec.address, port: l.spec.port, bindToPort: l.spec.bindToPort, active: l })), dst)?.active;

  #filterFor = (chain: FilterChainSpec): NetworkFilter =>
    chainOf(chain.readFilters.map((rf) => this.#readFilterFor(rf, chain)), this.#terminalFor(chain));

  #readFilterFor(rf: FilterChainSpec['readFilters'][number], chain: FilterChainSpec): NetworkReadFilter {
    if (rf.kind === 'local_ratelimit') return new NetworkLocalRateLimitFilter(rf.config, this.scopes, this.shared.slots);
    if (rf.kind === 'rbac') return new NetworkRbacFilter(rf.config, this.scopes);
    const cluster = chain.filter.kind === 'tcp_proxy' ? chain.filter.config.clusters[0]?.name : undefined;
    return new IstioTcpStatsFilter(rf.config, { scopes: this.scopes, node: this.#node, direction: chain.direction, cluster });
  }

  #localNode: LocalNode | undefined;
  /** This proxy's node for Istio's metrics: built on first use (most chains never ask). */
  get #node(): LocalNode {
    return (this.#localNode ??= localNodeOf(this.spec.bootstrap.node));
  }

  #terminalFor(chain: FilterChainSpec): NetworkFilter {
    const { scopes, shared } = this;
    const f = chain.filter;
    if (f.kind === 'http_connection_manager') {
      let stats = this.#hcmStats.get(f.config.statPrefix);
      if (!stats) this.#hcmStats.set(f.config.statPrefix, (stats = new HcmStats(scopes.http(f.config.statPrefix))));
      const httpScope = scopes.http(f.config.statPrefix);
      const filters = f.config.filters.flatMap((fc) => (fc.instantiate ? [fc.instantiate({ httpScope, statPrefix: f.config.statPrefix, scopes, shared, clusters: this.clusters, direction: chain.direction, node: this.#node })] : []));
      const routes: RouteSource = f.config.rds === undefined ? { table: f.config.routes } : this.#routeSource(f.config.rds);
      return new HttpConnectionManagerFilter({ config: f.config, routes, stats, clusters: this.clusters, filters });
    }
    let stats = this.#tcpStats.get(f.config.statPrefix);
    if (!stats) this.#tcpStats.set(f.config.statPrefix, (stats = tcpProxyStats(scopes.tcp(f.config.statPrefix))));
    return new TcpProxyFilter(f.config, this.clusters, stats);
  }
}

