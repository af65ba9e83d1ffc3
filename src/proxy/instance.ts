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
import { networkRbacCode } from './tcp/rbac-load.js';
import { IstioTcpStatsFilter } from './tcp/istio-stats.js';
import { metadataExchangeStats, peerExchanging, PeerExchange } from './tcp/peer-exchange/exchange.js';
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
import type { StatScope } from './stats-scope.js';
import { SecretStore, type SecretRef } from './tls/secret-store.js';
import { loadStaticSecrets } from './tls/static-secrets.js';
import type { TracingRuntime } from './tracing/runtime.js';
import { tracingCode } from './tracing/load.js';
import { DownstreamTlsTerminator } from './tls/downstream-tls.js';
import { tlsTerminating } from './tls/tls-filter.js';
import { sslStats } from './tls/ssl-stats.js';
import type { TlsContextSpec } from './tls/context-config.js';

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
  /**
   * Secrets by name (SDS): static ones from the bootstrap; `default` and `ROOTCA` set by the
   * proxy's agent. With workers, the main thread's store is forwarded to every worker.
   */
  readonly secrets: SecretStore;
  readonly shared: InstanceShared;
  readonly #listeners = new Map<string, ActiveListener>();
  readonly #staticListeners: ActiveListener[];
  readonly #rds = new Map<string, RdsRouteSource>();
  readonly #hcmStats = new Map<string, HcmStats>();
  readonly #tcpStats = new Map<string, TcpProxyStats>();
  readonly #emptyTables = new Map<string, RouteTable>();
  /** This thread's span exporters, made for the first connection manager that traces. */
  #tracing: TracingRuntime | undefined;

  constructor(readonly spec: ProxySpec, readonly scopes: StatScopes, shared: InstanceShared) {
    this.secrets = shared.secrets ?? new SecretStore();
    loadStaticSecrets(this.secrets, spec.secrets);
    this.shared = { ...shared, secrets: this.secrets };
    this.clusters = new ClusterManager(spec.clusters, (name) => scopes.cluster(name), this.shared);
    this.#staticListeners = spec.listeners.map((l) => this.#build(l));
    for (const l of this.#staticListeners) this.#listeners.set(l.spec.name, l);
  }

  #tracingRuntime(): TracingRuntime {
    return this.#tracing ??= new (tracingCode().TracingRuntime)(this.clusters, (p) => this.scopes.tracing(p), this.spec.bootstrap);
  }

  /** Every listener, static ones first. */
  get listeners(): ActiveListener[] {
    return [...this.#listeners.values()];
  }

  /** Every TLS context in use: listener filter chains' and clusters' transport sockets. */
  tlsContexts(): TlsContextSpec[] {
    const out: TlsContextSpec[] = [];
    for (const l of this.#listeners.values()) for (const c of [...l.spec.chains, ...(l.spec.defaultChain ? [l.spec.defaultChain] : [])]) if (c.tls) out.push(c.tls);
    for (const c of this.clusters.all()) {
      const t = c.spec.transport;
      for (const x of [t.default, ...t.matches.map((m) => m.tls)]) if (x) out.push(x);
    }
    return out;
  }

  listener(name: string): ActiveListener | undefined {
    return this.#listeners.get(name);
  }

  /** Starts the static listeners; `fds` gives pre-opened SO_REUSEPORT sockets by listener index. */
  async listen(fds?: readonly (number | undefined)[]): Promise<number[]> {
    return Promise.all(this.#staticListeners.map(async (l, i) => { await this.#warm(l.spec); return l.listen(fds?.[i]); }));
  }

  /**
   * Resolves once every secret the listener's TLS chains name is present: until then it is
   * warming and does not accept (Envoy's listener warming on SDS).
   */
  #warm(spec: ListenerSpec): Promise<void> {
    return this.secrets.whenPresent(secretRefs(spec));
  }

  /**
   * Adds a dynamic listener. `listen`: bind it (with an SO_REUSEPORT fd when given), or
   * `false` to keep it as a view only (the admin thread when workers serve). Resolves with the port.
   */
  async addListener(spec: ListenerSpec, listen: boolean, fd?: number): Promise<number> {
    const l = this.#build(spec);
    this.#listeners.set(spec.name, l);
    this.#handoffIndex = undefined;
    if (!listen) return spec.port;
    const refs = secretRefs(spec);
    if (refs.every((r) => this.secrets.has(r.kind, r.name))) return l.listen(fd);
    // Warming on a secret: bind when it arrives, without holding up the rest of the update.
    void this.secrets.whenPresent(refs).then(() => (this.#listeners.get(spec.name) === l ? l.listen(fd) : undefined)).catch(() => undefined);
    return spec.port;
  }

  /** New connections get `spec`'s filter chains; connections open on the old ones drain. */
  updateListener(spec: ListenerSpec): void {
    const l = this.#listeners.get(spec.name);
    if (!l) throw new Error(`no listener ${spec.name}`);
    const apply = (): void => {
      l.update(spec, (c) => this.#filterFor(c, this.#listenerScope(spec)));
      this.#handoffIndex = undefined;
    };
    const refs = secretRefs(spec);
    const token = Symbol(spec.name);
    this.#pendingUpdates.set(spec.name, token);
    if (refs.every((r) => this.secrets.has(r.kind, r.name))) { apply(); return; }
    // The new version warms on its secrets while the old one keeps serving (Envoy's listener
    // update); a later update or removal supersedes it.
    void this.secrets.whenPresent(refs).then(() => {
      if (this.#pendingUpdates.get(spec.name) === token && this.#listeners.get(spec.name) === l) apply();
    });
  }

  /** The latest update of each listener, so that one warming on a secret cannot land after a newer one. */
  readonly #pendingUpdates = new Map<string, symbol>();

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
    await this.#tracing?.flush();
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
    const scope = this.#listenerScope(l);
    const a = new ActiveListener(l, scope, (c) => this.#filterFor(c, scope));
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

  #readFilterFor(rf: Exclude<FilterChainSpec['readFilters'][number], { kind: 'metadata_exchange' }>, chain: FilterChainSpec): NetworkReadFilter {
    if (rf.kind === 'local_ratelimit') return new NetworkLocalRateLimitFilter(rf.config, this.scopes, this.shared.slots);
    if (rf.kind === 'rbac') return new (networkRbacCode().NetworkRbacFilter)(rf.config, this.scopes);
    const cluster = chain.filter.kind === 'tcp_proxy' ? chain.filter.config.clusters[0]?.name : undefined;
    return new IstioTcpStatsFilter(rf.config, { scopes: this.scopes, node: this.#node, direction: chain.direction, cluster });
  }

  #localNode: LocalNode | undefined;
  /** This proxy's node for Istio's metrics: built on first use (most chains never ask). */
  get #node(): LocalNode {
    return (this.#localNode ??= localNodeOf(this.spec.bootstrap.node));
  }

  #listenerScope(l: ListenerSpec): StatScope {
    return this.scopes.listener(l.statPrefix || `${l.address}_${l.port}`);
  }

  #peerExchange: PeerExchange | undefined;
  /** This thread's TCP metadata exchange state: built on first use (most proxies never ask). */
  #mx = (): PeerExchange => (this.#peerExchange ??= new PeerExchange(this.#node, metadataExchangeStats(this.scopes.root('metadata_exchange'))));

  /**
   * A chain's filters in order. istio.metadata_exchange holds back the filters after it until
   * the peer's frame is read, so those are built as the inner chain it wraps.
   */
  #chainFilters(chain: FilterChainSpec, from: number): NetworkFilter {
    const rfs = chain.readFilters;
    const at = rfs.findIndex((rf, i) => i >= from && rf.kind === 'metadata_exchange');
    const end = at < 0 ? rfs.length : at;
    const before: NetworkReadFilter[] = [];
    for (let i = from; i < end; i++) {
      const rf = rfs[i]!;
      if (rf.kind !== 'metadata_exchange') before.push(this.#readFilterFor(rf, chain));
    }
    const mx = rfs[at];
    const rest = mx?.kind === 'metadata_exchange' ? peerExchanging(mx.config, this.#mx(), this.#chainFilters(chain, at + 1)) : this.#terminalFor(chain);
    return chainOf(before, rest);
  }

  #filterFor(chain: FilterChainSpec, listenerScope: StatScope): NetworkFilter {
    const filters = this.#chainFilters(chain, 0);
    return chain.tls ? tlsTerminating(new DownstreamTlsTerminator(chain.tls, this.secrets, sslStats(listenerScope)), filters) : filters;
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
      const tracer = f.config.tracing ? this.#tracingRuntime().tracerFor(f.config.tracing) : undefined;
      return new HttpConnectionManagerFilter({ config: f.config, routes, stats, clusters: this.clusters, filters, ...(tracer ? { tracer } : {}) });
    }
    let stats = this.#tcpStats.get(f.config.statPrefix);
    if (!stats) this.#tcpStats.set(f.config.statPrefix, (stats = tcpProxyStats(scopes.tcp(f.config.statPrefix))));
    return new TcpProxyFilter(f.config, this.clusters, stats, this.#mx);
  }
}


/** The secrets a listener's TLS filter chains name. */
function secretRefs(spec: ListenerSpec): SecretRef[] {
  const refs: SecretRef[] = [];
  for (const c of [...spec.chains, ...(spec.defaultChain ? [spec.defaultChain] : [])]) if (c.tls) refs.push(...c.tls.secrets);
  return refs;
}
