import { clone, create, type Registry } from '@bufbuild/protobuf';
import { NodeSchema } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import type { ProxySpec } from '../config.js';
import type { StatsStore } from '../admin/stats.js';
import type { StatScopes } from '../stat-scopes.js';
import type { Gauge } from '../stats-scope.js';
import { log } from '../log.js';
import type { XdsBootstrap } from './bootstrap-config.js';
import { AdsClient, type AdsHandler, type ReceivedResource } from './ads-client.js';
import { openAdsStream, type AdsTls } from './transport.js';
import { registryCovering, validateResource, type XdsKind } from './resources.js';
import { rdsNames, XdsState, type ActiveSet } from './state.js';

/** What the node reports as user_agent_version (as /server_info's version). */
const VERSION = '0.1.0';

/** Envoy's stat prefix of each type's subscription. */
const SUBSCRIPTION_STATS: Partial<Record<XdsKind, string>> = { listener: 'listener_manager.lds', cluster: 'cluster_manager.cds' };

/**
 * The proxy's xDS side in the main thread: runs the ADS client, validates and compiles each
 * update once, keeps the warming/serving state, and hands every accepted change to `apply`
 * (which reaches the serving threads); the ACK goes out once `apply` has resolved. Also what
 * /ready (initial fetch) and /config_dump need.
 */
export class XdsController {
  readonly state: XdsState;
  readonly client: AdsClient;
  /** Types the resources name in `Any` fields, grown as updates arrive (also for /config_dump). */
  registry: Registry;
  readonly #known: Set<string>;
  readonly #staticRds: Set<string>;
  readonly #staticEds: Set<string>;
  readonly #received = new Set<XdsKind>();
  #ready = false;
  #onReady: (() => void) | undefined;
  readonly #readyPromise: Promise<void>;
  readonly #connected: Gauge;
  /** When the stream last came up; undefined while disconnected. */
  connectedSince: number | undefined;

  constructor(
    readonly spec: ProxySpec,
    readonly xds: XdsBootstrap,
    typeNames: readonly string[],
    readonly store: StatsStore,
    readonly scopes: StatScopes,
    readonly apply: (active: ActiveSet) => Promise<void>,
    tls?: AdsTls,
  ) {
    this.state = new XdsState(new Set(spec.listeners.map((l) => l.name)), new Set(spec.clusters.map((c) => c.name)));
    this.registry = spec.registry;
    this.#known = new Set(typeNames);
    this.#staticRds = new Set(spec.listeners.flatMap(rdsNames));
    this.#staticEds = new Set(spec.clusters.filter((c) => c.discovery === 'EDS').map((c) => c.edsServiceName));
    this.#connected = store.gauge('control_plane.connected_state');
    this.#readyPromise = new Promise((r) => { this.#onReady = r; });
    for (const p of Object.values(SUBSCRIPTION_STATS)) for (const s of ['update_attempt', 'update_success', 'update_rejected']) store.counter(`${p}.${s}`);
    const handler: AdsHandler = {
      onResponse: (kind, resources, removals, replaceAll) => this.#onResponse(kind, resources, removals, replaceAll),
      wanted: (kind) => this.#wanted(kind),
      onConnection: (up) => {
        this.#connected.set(up ? 1 : 0);
        this.connectedSince = up ? Date.now() : undefined;
        if (up) log.info(`xds: connected to ${xds.server.host}:${xds.server.port}`);
      },
      onRejected: (kind) => {
        const p = kind && SUBSCRIPTION_STATS[kind];
        if (p) store.counter(`${p}.update_rejected`).inc();
        if (kind) this.#markReceived(kind);
      },
    };
    const target = `${xds.server.host.includes(':') ? `[${xds.server.host}]` : xds.server.host}:${xds.server.port}`;
    // As Envoy, the node says which client it is (user_agent_name "envoy" there).
    const node = xds.node ? clone(NodeSchema, xds.node) : create(NodeSchema);
    node.userAgentName = 'tsmesh';
    node.userAgentVersionType = { case: 'userAgentVersion', value: VERSION };
    this.client = new AdsClient({ target, delta: xds.delta, node, nodeOnFirstMessageOnly: xds.nodeOnFirstMessageOnly, open: tls ? (t, d, ev) => openAdsStream(t, d, ev, tls) : openAdsStream }, handler);
    this.#updateGauges();
  }

  start(): void {
    this.client.start();
    if (this.xds.initialFetchTimeoutMs > 0) {
      setTimeout(() => {
        if (this.#ready) return;
        log.warn(`xds: initial fetch not complete after ${this.xds.initialFetchTimeoutMs} ms; serving what is there`);
        this.#setReady();
      }, this.xds.initialFetchTimeoutMs).unref();
    }
    this.#checkReady();
  }

  stop(): void {
    this.client.stop();
  }

  /** Resolves when the first LDS/CDS and what they need (EDS, RDS) are in, or the initial fetch timed out. */
  initialFetch(): Promise<void> {
    return this.#readyPromise;
  }

  #wanted(kind: XdsKind): ReadonlySet<string> | '*' | undefined {
    switch (kind) {
      case 'listener': return this.xds.lds ? '*' : undefined;
      case 'cluster': return this.xds.cds ? '*' : undefined;
      case 'route': return new Set([...this.#staticRds, ...this.state.wantedRoutes()]);
      case 'endpoint': return new Set([...this.#staticEds, ...this.state.wantedEndpoints()]);
    }
  }

  async #onResponse(kind: XdsKind, resources: readonly ReceivedResource[], removals: readonly string[], replaceAll: boolean): Promise<void> {
    const p = SUBSCRIPTION_STATS[kind];
    if (p) this.store.counter(`${p}.update_attempt`).inc();
    this.registry = await registryCovering(resources.map((r) => [kind, r.message] as const), this.registry, this.#known);
    // All or nothing: every resource must validate before any is applied.
    const upserts = resources.map((r) => validateResource(kind, r, r.message, this.registry));
    const update = { kind, upserts, removals, replaceAll };
    this.state.check(update);
    const changed = this.state.commit(update, Date.now());
    // Routes and endpoints nobody names any more are dropped (the client unsubscribes).
    const wr = this.#wanted('route') as Set<string>, we = this.#wanted('endpoint') as Set<string>;
    this.state.forget('route', [...this.state.accepted('route').keys()].filter((n) => !wr.has(n)));
    this.state.forget('endpoint', [...this.state.accepted('endpoint').keys()].filter((n) => !we.has(n)));
    if (changed.length > 0) await this.apply(this.state.active());
    if (p) this.store.counter(`${p}.update_success`).inc();
    this.#countPerResource(kind, upserts.map((u) => u.name));
    this.#updateGauges();
    if (changed.length > 0) log.info(`xds: applied ${kind} update (${changed.length} changed: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', ...' : ''})`);
    this.#markReceived(kind);
  }

  /** Envoy's per-resource stats: http.<prefix>.rds.<name>.update_success, cluster.<name>.update_success (EDS). */
  #countPerResource(kind: XdsKind, names: readonly string[]): void {
    if (kind === 'route') {
      const set = new Set(names);
      for (const l of [...this.spec.listeners, ...[...this.state.accepted('listener').values()].map((h) => h.compiled)]) {
        for (const c of [...l.chains, ...(l.defaultChain ? [l.defaultChain] : [])]) {
          if (c.filter.kind === 'http_connection_manager' && c.filter.config.rds && set.has(c.filter.config.rds)) {
            this.store.counter(`http.${c.filter.config.statPrefix}.rds.${c.filter.config.rds}.update_success`).inc();
          }
        }
      }
    } else if (kind === 'endpoint') {
      const set = new Set(names);
      for (const c of [...this.spec.clusters, ...[...this.state.accepted('cluster').values()].map((h) => h.compiled)]) {
        if (c.discovery === 'EDS' && set.has(c.edsServiceName)) this.scopes.cluster(c.name).counter('update_success').inc();
      }
    }
  }

  #updateGauges(): void {
    const active = this.state.active();
    this.store.gauge('cluster_manager.active_clusters').set(this.spec.clusters.length + active.clusters.size);
    this.store.gauge('cluster_manager.warming_clusters').set(this.state.warming('cluster').length);
    this.store.gauge('listener_manager.total_listeners_active').set(this.spec.listeners.length + active.listeners.size);
    this.store.gauge('listener_manager.total_listeners_warming').set(this.state.warming('listener').length);
  }

  #markReceived(kind: XdsKind): void {
    this.#received.add(kind);
    this.#checkReady();
  }

  #checkReady(): void {
    if (this.#ready) return;
    if (this.xds.cds && !this.#received.has('cluster')) return;
    if (this.xds.lds && !this.#received.has('listener')) return;
    if (!this.state.allWarm) return;
    // Static EDS clusters and RDS listeners wait for theirs too.
    for (const n of this.#staticEds) if (!this.state.accepted('endpoint').has(n)) return;
    for (const n of this.#staticRds) if (!this.state.accepted('route').has(n)) return;
    this.#setReady();
  }

  #setReady(): void {
    this.#ready = true;
    this.#onReady?.();
  }
}
