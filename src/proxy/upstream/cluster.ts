import { lookup } from 'node:dns/promises';
import type { Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { Cluster_DiscoveryType, Cluster_DnsLookupFamily } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { HttpProtocolOptionsSchema, type HttpProtocolOptions } from '../../envoy/generated/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { durationMs } from '../../envoy/duration.js';
import { ConfigError, unpackAs } from '../../envoy/registry.js';
import { compileLbPolicy, createLoadBalancer } from './lb/index.js';
import type { LbContext, LoadBalancer } from './lb/types.js';
import { UpstreamHost, hostKey } from './host.js';
import { compileEndpoints, type EndpointSpec } from './load-assignment.js';
import { compileOriginalDst, originalDstTarget, type OriginalDstSpec } from './original-dst.js';
import { countHcPassed, failImmediately, hostBlock, hostTimes } from './host-state.js';
import { ClusterHealth, compilePanicThreshold } from './cluster-health.js';
import { ClusterStats } from './cluster-stats.js';
import { compileHealthChecks, type HealthCheckSpec } from './health/config.js';
import { HealthChecker } from './health/checker.js';
import { healthCheckStats, type HealthCheckStats } from './health/stats.js';
import { compileOutlierDetection, type OutlierSpec } from './outlier/config.js';
import { OutlierDetector } from './outlier/detector.js';
import { OutlierSweep } from './outlier/sweep.js';
import { outlierStats } from './outlier/stats.js';
import type { ConnPool, PoolLimits } from './pool.js';
import { H1ConnPool } from './h1-pool.js';
import { H2ConnPool } from './h2-pool.js';
import type { StatScope } from '../stats-scope.js';
import type { InstanceShared } from '../shared/context.js';
import { compileClusterTransport, selectTransportSocket, type ClusterTransportSpec } from '../tls/transport-socket.js';
import { RAW_TRANSPORT, UpstreamTlsTransport, type UpstreamTransport } from '../tls/upstream-transport.js';
import { sslStats, type SslStats } from '../tls/ssl-stats.js';
import { SecretStore, type SecretRef } from '../tls/secret-store.js';
import { compileClusterFilters, type MetadataExchangeConfig } from '../tcp/peer-exchange/config.js';
import { clusterResources, compileCircuitBreakers, type CircuitBreakerSpec, type Priority, type ResourceManager } from './circuit-breakers.js';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';


/** What a cluster config compiles to: validated, immutable. */
export interface ClusterSpec {
  readonly name: string;
  readonly config: Cluster;
  readonly discovery: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';
  /** ORIGINAL_DST: where hosts come from. */
  readonly originalDst: OriginalDstSpec | undefined;
  /** EDS: the ClusterLoadAssignment name it takes its hosts from (service_name, else the cluster's name). */
  readonly edsServiceName: string;
  readonly endpoints: readonly EndpointSpec[];
  readonly http2: boolean;
  readonly limits: PoolLimits;
  readonly breakers: CircuitBreakerSpec;
  readonly dnsRefreshMs: number;
  readonly family: 4 | 6 | 0;
  /** health_checks[0], compiled. */
  readonly healthCheck: HealthCheckSpec | undefined;
  readonly outlier: OutlierSpec | undefined;
  /** common_lb_config.healthy_panic_threshold, percent. */
  readonly panicThreshold: number;
  /** transport_socket and transport_socket_matches (TLS to the hosts). */
  readonly transport: ClusterTransportSpec;
  /** `filters`: istio.metadata_exchange, which tcp_proxy runs on this cluster's connections. */
  readonly peerExchange: MetadataExchangeConfig | undefined;
}

/**
 * HttpProtocolOptions' connection limits: common_http_protocol_options (idle_timeout, default
 * 1 h as Envoy; max_requests_per_connection; max_connection_duration) and HTTP/2
 * max_concurrent_streams.
 */
function upstreamConnectionLimits(opts: HttpProtocolOptions, path: string): Pick<PoolLimits, 'idleTimeoutMs' | 'maxRequestsPerConnection' | 'maxConnectionDurationMs' | 'maxConcurrentStreams'> {
  const common = opts.commonHttpProtocolOptions;
  const p = `${path}.common_http_protocol_options`;
  if (common?.maxHeadersCount !== undefined) throw new ConfigError(`${p}.max_headers_count`, 'not supported by tsmesh for upstreams');
  if (common?.maxStreamDuration) throw new ConfigError(`${p}.max_stream_duration`, 'not supported by tsmesh for upstreams (use the route timeout)');
  const idle = durationMs(common?.idleTimeout);
  const maxReq = common?.maxRequestsPerConnection;
  if (maxReq !== undefined && maxReq < 1) throw new ConfigError(`${p}.max_requests_per_connection`, `expected >= 1, got ${maxReq}`);
  const maxDur = durationMs(common?.maxConnectionDuration);
  const up = opts.upstreamProtocolOptions;
  const h2 = up.case === 'explicitHttpConfig' && up.value.protocolConfig.case === 'http2ProtocolOptions' ? up.value.protocolConfig.value : undefined;
  const streams = h2?.maxConcurrentStreams;
  if (streams !== undefined && streams < 1) throw new ConfigError(`${path}.explicit_http_config.http2_protocol_options.max_concurrent_streams`, `expected >= 1, got ${streams}`);
  return {
    // 0 turns the idle timeout off, as in Envoy.
    idleTimeoutMs: idle ?? 3600_000,
    maxRequestsPerConnection: maxReq,
    maxConnectionDurationMs: maxDur !== undefined && maxDur > 0 ? maxDur : undefined,
    maxConcurrentStreams: streams,
  };
}

/** Validates a Cluster and extracts what the runtime needs. Pure. */
export function compileCluster(c: Cluster, path: string): ClusterSpec {
  if (!c.name) throw new ConfigError(`${path}.name`, 'a cluster needs a name');
  const dt = c.clusterDiscoveryType.case === 'type' ? c.clusterDiscoveryType.value : Cluster_DiscoveryType.STATIC;
  if (c.clusterDiscoveryType.case && c.clusterDiscoveryType.case !== 'type') throw new ConfigError(`${path}.cluster_type`, 'custom cluster types are not supported');
  const discovery = dt === Cluster_DiscoveryType.STATIC ? 'STATIC' : dt === Cluster_DiscoveryType.STRICT_DNS ? 'STRICT_DNS' : dt === Cluster_DiscoveryType.LOGICAL_DNS ? 'LOGICAL_DNS' : dt === Cluster_DiscoveryType.EDS ? 'EDS' : dt === Cluster_DiscoveryType.ORIGINAL_DST ? 'ORIGINAL_DST' : undefined;
  if (!discovery) throw new ConfigError(`${path}.type`, `discovery type ${Cluster_DiscoveryType[dt] ?? dt} is not supported (STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST)`);
  const originalDst = discovery === 'ORIGINAL_DST' ? compileOriginalDst(c, path) : undefined;
  if (!originalDst && c.cleanupInterval) throw new ConfigError(`${path}.cleanup_interval`, 'only an ORIGINAL_DST cluster has a cleanup_interval');
  let edsServiceName = '';
  if (discovery === 'EDS') {
    const eds = c.edsClusterConfig;
    if (eds?.edsConfig?.configSourceSpecifier.case !== 'ads') throw new ConfigError(`${path}.eds_cluster_config.eds_config`, 'an EDS cluster needs eds_config: { ads: {} } (only ADS is supported)');
    if (c.loadAssignment) throw new ConfigError(`${path}.load_assignment`, 'an EDS cluster takes its endpoints from EDS, not load_assignment');
    edsServiceName = eds.serviceName || c.name;
  } else if (c.edsClusterConfig) {
    throw new ConfigError(`${path}.eds_cluster_config`, 'only an EDS cluster can have eds_cluster_config');
  }
  const endpoints = discovery === 'EDS' || discovery === 'ORIGINAL_DST' ? [] : compileEndpoints(c.loadAssignment, `${path}.load_assignment`, discovery === 'STATIC' ? 'a STATIC cluster needs IP addresses' : undefined);
  if (discovery === 'LOGICAL_DNS' && endpoints.length !== 1) throw new ConfigError(`${path}.load_assignment`, `LOGICAL_DNS needs exactly one endpoint, got ${endpoints.length}`);
  let http2 = false;
  let connLimits: Pick<PoolLimits, 'idleTimeoutMs' | 'maxRequestsPerConnection' | 'maxConnectionDurationMs' | 'maxConcurrentStreams'> = { idleTimeoutMs: 3600_000 };
  for (const [key, any] of Object.entries(c.typedExtensionProtocolOptions)) {
    const p = `${path}.typed_extension_protocol_options[${key}]`;
    if (key !== 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions') throw new ConfigError(p, `unsupported protocol options ${key} (only ${HTTP_PROTOCOL_OPTIONS})`);
    const opts = unpackAs(any, HttpProtocolOptionsSchema, p);
    connLimits = upstreamConnectionLimits(opts, p);
    const up = opts.upstreamProtocolOptions;
    if (up.case === 'explicitHttpConfig') http2 = up.value.protocolConfig.case === 'http2ProtocolOptions';
    else if (up.case) throw new ConfigError(`${p}.${up.case === 'useDownstreamProtocolConfig' ? 'use_downstream_protocol_config' : 'auto_config'}`, 'only explicit_http_config is supported');
  }
  if (!originalDst) compileLbPolicy(c, path);
  const breakers = compileCircuitBreakers(c.circuitBreakers, `${path}.circuit_breakers`);
  const connectTimeoutMs = durationMs(c.connectTimeout) ?? 5000;
  if (connectTimeoutMs <= 0) throw new ConfigError(`${path}.connect_timeout`, 'must be > 0');
  const limits: PoolLimits = { connectTimeoutMs, ...connLimits };
  const family = c.dnsLookupFamily === Cluster_DnsLookupFamily.V4_ONLY ? 4 : c.dnsLookupFamily === Cluster_DnsLookupFamily.V6_ONLY ? 6 : 0;
  return {
    name: c.name, config: c, discovery, edsServiceName, originalDst, endpoints, http2, limits, breakers, dnsRefreshMs: durationMs(c.dnsRefreshRate) ?? 5000, family,
    healthCheck: compileHealthChecks(c.healthChecks, path, c.name),
    outlier: c.outlierDetection ? compileOutlierDetection(c.outlierDetection, `${path}.outlier_detection`) : undefined,
    panicThreshold: compilePanicThreshold(c.commonLbConfig, path),
    transport: compileClusterTransport(c, path),
    peerExchange: compileClusterFilters(c.filters, `${path}.filters`),
  };
}


/**
 * A cluster at run time in one worker: its hosts, load balancer and connection pools. Host
 * health is instance-wide (host-state.ts); in the supervisor thread the cluster also runs the
 * active health checks and the outlier-detection sweeps.
 */
export class UpstreamCluster {
  readonly stats: ClusterStats;
  readonly health: ClusterHealth;
  /**
   * Outlier detection, when configured. The router and tcp_proxy report every upstream
   * attempt: `outlier?.onHttpStatus(host, status)` and `outlier?.onLocalOrigin(host, event)`.
   */
  readonly outlier: OutlierDetector | undefined;
  hosts: UpstreamHost[] = [];
  #lb: LoadBalancer | undefined;
  #pools = new Map<string, ConnPool>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #checker: HealthChecker | undefined;
  /** health_check.* stats, when the cluster has active health checks (in every thread). */
  readonly #hcStats: HealthCheckStats | undefined;
  readonly #sweep: OutlierSweep | undefined;
  readonly #firstResolve: Promise<void>;
  #resolved: () => void = () => {};
  /** Circuit-breaker resources by priority, counted instance-wide. */
  readonly resources: Record<Priority, ResourceManager>;

  /** The cluster's transport sockets in this thread: [default, ...transport_socket_matches]. */
  readonly #transports: UpstreamTransport[];
  readonly #secrets: SecretStore;

  constructor(readonly spec: ClusterSpec, scope: StatScope, readonly shared: InstanceShared) {
    this.stats = new ClusterStats(scope);
    this.#secrets = shared.secrets ?? new SecretStore();
    let ssl: SslStats | undefined;
    const tls = (t: ClusterSpec['transport']['default']): UpstreamTransport => (t ? new UpstreamTlsTransport(t, this.#secrets, (ssl ??= sslStats(scope))) : RAW_TRANSPORT);
    this.#transports = [tls(spec.transport.default), ...spec.transport.matches.map((m) => tls(m.tls))];
    this.resources = clusterResources(spec.breakers, spec.name, shared.slots, scope);
    // Health and outlier stats are the instance's, counted once whatever the thread.
    const instanceScope = shared.sharedScopes.cluster(spec.name);
    this.health = new ClusterHealth(shared.slots, spec.name, spec.healthCheck !== undefined, spec.panicThreshold, instanceScope.gauge('membership_healthy'), instanceScope.gauge('membership_excluded'));
    this.outlier = spec.outlier ? new OutlierDetector(spec.outlier, outlierStats(instanceScope), this) : undefined;
    this.#hcStats = spec.healthCheck ? healthCheckStats(instanceScope) : undefined;
    if (shared.supervisor) {
      if (spec.healthCheck) this.#checker = new HealthChecker(spec.healthCheck, this, this.#hcStats!);
      if (this.outlier) { this.#sweep = new OutlierSweep(this.outlier); this.#sweep.start(); }
    }
    this.#firstResolve = new Promise((r) => { this.#resolved = r; });
    if (spec.discovery === 'STATIC') {
      this.#setHosts(spec.endpoints.map((e) => this.#host(e.address, e.port, e.weight, '', e.transportMatch)));
      this.#resolved();
    } else if (spec.discovery === 'ORIGINAL_DST') {
      // Hosts are made on demand, one per original destination, and forgotten when unused.
      this.#setHosts([]);
      this.#resolved();
      this.#timer = setInterval(() => this.#forgetUnused(), spec.originalDst!.cleanupMs);
      this.#timer.unref();
    } else if (spec.discovery === 'EDS') {
      // Hosts come with setEndpoints(); an EDS cluster is only served once it has them (warming).
      this.#setHosts([]);
    } else {
      void this.#resolve();
    }
  }

  /**
   * EDS: the cluster's hosts are now `endpoints`. Hosts that stay keep their object, health
   * state and connection pools; pools of hosts that leave are drained.
   */
  setEndpoints(endpoints: readonly EndpointSpec[]): void {
    if (this.#closed) return;
    // update_success is counted once per update by the xDS controller, not once per thread.
    this.#setHosts(endpoints.map((e) => this.#host(e.address, e.port, e.weight, '', e.transportMatch)));
    this.#resolved();
  }

  get name(): string {
    return this.spec.name;
  }

  /** The outlier sweep (supervisor only), for /clusters' success rates. */
  get outlierSweep(): OutlierSweep | undefined {
    return this.#sweep;
  }

  /**
   * Resolves when the cluster is ready to serve as Envoy's cluster warming defines it: with
   * active health checks, once its first hosts are known and each has had a first result.
   */
  initialized(): Promise<void> {
    const checker = this.#checker;
    return checker ? this.#firstResolve.then(() => checker.checkedOnce()) : Promise.resolve();
  }

  /**
   * The SDS secrets its TLS transport sockets name. Until all are present its TLS connections
   * fail at once (UF, ssl.connection_error) rather than hold start-up: the agent that provides
   * them may itself start after the clusters.
   */
  secretRefs(): SecretRef[] {
    const t = this.spec.transport;
    return [t.default, ...t.matches.map((m) => m.tls)].flatMap((c) => c?.secrets ?? []);
  }

  /**
   * How connections to `host` are made: the transport socket of the first
   * transport_socket_matches entry its metadata matches, else the cluster's transport_socket.
   */
  transportFor(host: UpstreamHost): UpstreamTransport {
    const m = this.spec.transport.matches;
    if (m.length === 0) return this.#transports[0]!;
    return this.#transports[selectTransportSocket(m, host.transportMatch) + 1]!;
  }

  chooseHost(ctx: LbContext): UpstreamHost | undefined {
    if (this.spec.originalDst) return this.#originalDstHost(ctx, this.spec.originalDst);
    const health = this.health;
    health.refresh(this.hosts);
    if (!health.trafficNoted) health.noteTraffic();
    const host = this.#lb?.pick(ctx) as UpstreamHost | undefined;
    if (host !== undefined && health.panic) this.stats.lb_healthy_panic.inc();
    return host;
  }

  /**
   * `host` answered with x-envoy-immediate-health-check-fail (Envoy's HealthCheckHostMonitor
   * setUnhealthy(ImmediateHealthCheckFail)): under active health checking it fails its check at
   * once, for every thread, and is excluded from the panic computation until a check passes;
   * without active health checking the header means nothing.
   */
  onImmediateHealthCheckFail(host: UpstreamHost): void {
    const stats = this.#hcStats;
    if (!stats) return;
    failImmediately(host.state);
    stats.failure.inc();
    stats.passive_failure.inc();
    stats.healthy.set(countHcPassed(this.hosts));
    this.health.changed(this.hosts);
  }

  /** Connections open to `host` from this thread (for /clusters; creates no pool). */
  activeConnections(host: UpstreamHost): number {
    return (this.#pools.get(host.key)?.activeConnections ?? 0) + (this.#pools.get(`${host.key}|high`)?.activeConnections ?? 0);
  }

  /**
   * The connection pool for `host` at `priority`, created on first use; undefined when
   * max_connection_pools is reached (the caller answers 503, flag UO).
   */
  pool(host: UpstreamHost, priority: Priority = 'default'): ConnPool | undefined {
    const key = priority === 'default' ? host.key : `${host.key}|high`;
    let p = this.#pools.get(key);
    const transport = this.transportFor(host);
    // An endpoint whose metadata now selects another transport socket gets a new pool.
    if (p && (p.transport ?? RAW_TRANSPORT) !== transport) { this.#dropPool(key); p = undefined; }
    if (!p) {
      const res = this.resources[priority];
      if (!res.connectionPools.tryAcquire()) {
        this.stats.upstream_cx_pool_overflow.inc();
        return undefined;
      }
      const limits: PoolLimits = { ...this.spec.limits, resources: res, ...(transport !== RAW_TRANSPORT ? { transport } : {}) };
      p = this.spec.http2 ? new H2ConnPool(host, limits, this.stats) : new H1ConnPool(host, limits, this.stats);
      this.#pools.set(key, p);
    }
    return p;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#checker?.close();
    this.#sweep?.stop();
    for (const key of [...this.#pools.keys()]) this.#dropPool(key);
  }

  #dropPool(key: string): void {
    const p = this.#pools.get(key);
    if (!p) return;
    p.drain();
    this.#pools.delete(key);
    this.resources[key.endsWith('|high') ? 'high' : 'default'].connectionPools.dec();
  }

  /** Hosts of an ORIGINAL_DST cluster picked since the last cleanup. */
  readonly #used = new Set<string>();
  /** An ORIGINAL_DST cluster's hosts by key: a lookup per request instead of a scan. */
  #originalDstHosts = new Map<string, UpstreamHost>();

  #originalDstHost(ctx: LbContext, spec: OriginalDstSpec): UpstreamHost | undefined {
    const t = originalDstTarget(spec, ctx.headers, ctx.originalDst);
    if (!t) return undefined;
    const key = hostKey(t.address, t.port);
    this.#used.add(key);
    const known = this.#originalDstHosts.get(key);
    if (known) return known;
    const h = this.#host(t.address, t.port, 1, '');
    this.#setHosts([...this.hosts, h]);
    return h;
  }

  /** ORIGINAL_DST cleanup_interval: hosts nobody picked since the last run, with nothing in flight, go. */
  #forgetUnused(): void {
    const keep = this.hosts.filter((h) => this.#used.has(h.key) || h.activeRequests > 0);
    this.#used.clear();
    if (keep.length !== this.hosts.length) this.#setHosts(keep);
  }

  #host(address: string, port: number, weight: number, hostname: string, transportMatch?: UpstreamHost['transportMatch']): UpstreamHost {
    const key = hostKey(address, port);
    const { slots } = this.shared;
    return new UpstreamHost(address, port, weight, hostname, this.health, hostBlock(slots, this.spec.name, key), hostTimes(slots, this.spec.name, key), transportMatch);
  }

  #setHosts(hosts: UpstreamHost[]): void {
    // Keep host objects (and their pools) that did not change, so connections survive a refresh.
    const prev = new Map(this.hosts.map((h) => [h.key, h]));
    // A DNS refresh that changes nothing keeps the balancer (a Maglev table is costly to build).
    const same = (a: UpstreamHost | undefined, b: UpstreamHost): boolean => a !== undefined && a.weight === b.weight && sameMatch(a.transportMatch, b.transportMatch);
    if ((this.#lb || this.spec.originalDst) && hosts.length === this.hosts.length && hosts.every((h) => same(prev.get(h.key), h))) return;
    // A host whose weight or metadata changed (EDS) is a new object; its pools are keyed by address and stay.
    const next = hosts.map((h) => { const p = prev.get(h.key); return p && same(p, h) ? p : h; });
    const keys = new Set(next.map((h) => h.key));
    for (const key of [...this.#pools.keys()]) if (!keys.has(key.replace(/\|high$/, ''))) this.#dropPool(key);
    // Envoy forgets the ejection of a host that leaves the cluster (once: in the supervisor).
    if (this.shared.supervisor) for (const h of this.hosts) if (!keys.has(h.key)) this.outlier?.uneject(h);
    this.hosts = next;
    if (this.spec.originalDst) this.#originalDstHosts = new Map(next.map((h) => [h.key, h]));
    // ORIGINAL_DST picks by destination, not by balancing.
    this.#lb = this.spec.originalDst ? undefined : createLoadBalancer(this.spec.config, next);
    this.stats.membership_total.set(next.length);
    this.health.hostsChanged(next);
    this.#checker?.setHosts(next);
  }

  async #resolve(): Promise<void> {
    const { spec } = this;
    try {
      const hosts: UpstreamHost[] = [];
      for (const e of spec.endpoints) {
        const addrs = await lookup(e.address, { all: true, family: spec.family, verbatim: true });
        const use = spec.discovery === 'LOGICAL_DNS' ? addrs.slice(0, 1) : addrs;
        for (const a of use) hosts.push(this.#host(a.address, e.port, e.weight, e.address));
      }
      if (this.#closed) return;
      this.#setHosts(hosts);
      this.stats.update_success.inc();
    } catch {
      this.stats.update_failure.inc();
    }
    this.#resolved();
    if (!this.#closed) {
      this.#timer = setTimeout(() => void this.#resolve(), spec.dnsRefreshMs);
      this.#timer.unref();
    }
  }
}

function sameMatch(a: UpstreamHost['transportMatch'], b: UpstreamHost['transportMatch']): boolean {
  return a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
