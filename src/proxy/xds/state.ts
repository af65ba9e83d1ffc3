import type { ListenerSpec } from '../listener/compile.js';
import { XdsResourceError, type ValidResource, type XdsKind } from './resources.js';

/** A resource the proxy holds, with when it was last accepted (for /config_dump). */
export type Held<K extends XdsKind = XdsKind> = ValidResource<K> & { readonly lastUpdatedMs: number };

/** One response's worth of validated changes to one type. */
export interface XdsUpdate<K extends XdsKind = XdsKind> {
  readonly kind: K;
  readonly upserts: readonly ValidResource<K>[];
  /** Names to drop. SotW LDS/CDS are full state: everything not in `upserts` goes (`replaceAll`). */
  readonly removals: readonly string[];
  readonly replaceAll: boolean;
}

/**
 * What is serving: per name, the newest accepted version once warm, else the version that was
 * already serving. Endpoints serve as soon as accepted; a route configuration as soon as no
 * cluster it names is still warming.
 */
export interface ActiveSet {
  readonly listeners: ReadonlyMap<string, Held<'listener'>>;
  readonly clusters: ReadonlyMap<string, Held<'cluster'>>;
  readonly routes: ReadonlyMap<string, Held<'route'>>;
  readonly endpoints: ReadonlyMap<string, Held<'endpoint'>>;
}

/**
 * The xDS resources a proxy holds and which of them serve, following Envoy's warming rules: a
 * new or updated EDS cluster warms until its ClusterLoadAssignment is held; a listener warms
 * until every RDS route configuration its connection managers name is held. Meanwhile the
 * previous version (if any) keeps serving. No I/O, no clock of its own (`now` is passed in).
 */
export class XdsState {
  readonly #accepted = {
    listener: new Map<string, Held<'listener'>>(),
    cluster: new Map<string, Held<'cluster'>>(),
    route: new Map<string, Held<'route'>>(),
    endpoint: new Map<string, Held<'endpoint'>>(),
  };
  #activeListeners = new Map<string, Held<'listener'>>();
  #activeClusters = new Map<string, Held<'cluster'>>();
  #activeRoutes = new Map<string, Held<'route'>>();

  constructor(readonly staticListeners: ReadonlySet<string>, readonly staticClusters: ReadonlySet<string>) {}

  /** Every resource of `kind` that was accepted (warming or serving). */
  accepted<K extends XdsKind>(kind: K): ReadonlyMap<string, Held<K>> {
    return this.#accepted[kind] as unknown as ReadonlyMap<string, Held<K>>;
  }

  /**
   * Checks what only the whole state can tell (names of static resources, a listener whose
   * address would change); throws XdsResourceError for the first problem.
   */
  check(u: XdsUpdate): void {
    const seen = new Set<string>();
    for (const r of u.upserts) {
      if (seen.has(r.name)) throw new XdsResourceError(u.kind, r.name, '', 'the response holds this resource twice');
      seen.add(r.name);
      if (u.kind === 'listener' && this.staticListeners.has(r.name)) throw new XdsResourceError(u.kind, r.name, 'name', 'a static listener of this name exists and cannot be updated');
      if (u.kind === 'cluster' && this.staticClusters.has(r.name)) throw new XdsResourceError(u.kind, r.name, 'name', 'a static cluster of this name exists and cannot be updated');
      if (u.kind === 'listener') {
        const next = r.compiled as ListenerSpec;
        const prev = this.#activeListeners.get(r.name)?.compiled ?? this.#accepted.listener.get(r.name)?.compiled;
        // Envoy keeps a listener's socket across updates, so its address cannot change.
        if (prev && (prev.address !== next.address || prev.port !== next.port)) {
          throw new XdsResourceError(u.kind, r.name, 'address', `a listener's address cannot change (${prev.address}:${prev.port} -> ${next.address}:${next.port}); remove it and add one under another name`);
        }
      }
    }
  }

  /** Commits a checked update and recomputes what serves. Returns the names whose resource changed. */
  commit(u: XdsUpdate, nowMs: number): string[] {
    const map = this.#accepted[u.kind] as Map<string, Held>;
    const changed: string[] = [];
    const keep = new Set(u.upserts.map((r) => r.name));
    const drop = u.replaceAll ? [...map.keys()].filter((n) => !keep.has(n)) : u.removals;
    for (const n of drop) if (map.delete(n)) changed.push(n);
    for (const r of u.upserts) {
      const prev = map.get(r.name);
      if (prev && sameBytes(prev.bytes, r.bytes)) {
        // Same resource: a new version label (SotW) is kept, nothing is rebuilt.
        if (prev.version !== r.version) map.set(r.name, { ...prev, version: r.version });
        continue;
      }
      map.set(r.name, { ...r, lastUpdatedMs: nowMs } as Held);
      changed.push(r.name);
    }
    this.#recompute();
    return changed;
  }

  /** Forgets RDS/EDS resources no longer subscribed to. */
  forget(kind: 'route' | 'endpoint', names: Iterable<string>): void {
    for (const n of names) this.#accepted[kind].delete(n);
    this.#recompute();
  }

  active(): ActiveSet {
    return { listeners: this.#activeListeners, clusters: this.#activeClusters, routes: this.#activeRoutes, endpoints: this.#accepted.endpoint };
  }

  /** Names of accepted resources that are not serving in their accepted version. */
  warming(kind: 'listener' | 'cluster'): Held<'listener'>[] | Held<'cluster'>[] {
    if (kind === 'listener') return [...this.#accepted.listener.values()].filter((r) => this.#activeListeners.get(r.name) !== r);
    return [...this.#accepted.cluster.values()].filter((r) => this.#activeClusters.get(r.name) !== r);
  }

  /** RDS names the proxy needs: those of every listener it holds or serves. */
  wantedRoutes(): Set<string> {
    const out = new Set<string>();
    for (const m of [this.#accepted.listener, this.#activeListeners]) for (const l of m.values()) for (const n of rdsNames(l.compiled)) out.add(n);
    return out;
  }

  /** EDS names the proxy needs: those of every EDS cluster it holds or serves. */
  wantedEndpoints(): Set<string> {
    const out = new Set<string>();
    for (const m of [this.#accepted.cluster, this.#activeClusters]) {
      for (const c of m.values()) if (c.compiled.discovery === 'EDS') out.add(c.compiled.edsServiceName);
    }
    return out;
  }

  /** Every accepted listener and cluster serves in its accepted version. */
  get allWarm(): boolean {
    return this.warming('listener').length === 0 && this.warming('cluster').length === 0;
  }

  #recompute(): void {
    const clusters = new Map<string, Held<'cluster'>>();
    for (const c of this.#accepted.cluster.values()) {
      const warm = c.compiled.discovery !== 'EDS' || this.#accepted.endpoint.has(c.compiled.edsServiceName);
      const serving = warm ? c : this.#activeClusters.get(c.name);
      if (serving) clusters.set(c.name, serving);
    }
    const listeners = new Map<string, Held<'listener'>>();
    for (const l of this.#accepted.listener.values()) {
      const warm = rdsNames(l.compiled).every((n) => this.#accepted.route.has(n));
      const serving = warm ? l : this.#activeListeners.get(l.name);
      if (serving) listeners.set(l.name, serving);
    }
    // A route that sends traffic to a cluster still warming (new subset: CDS arrived, its EDS not
    // yet) would answer 503 NC until it warms; Envoy serves it anyway. tsmesh keeps the previous
    // route configuration serving until those clusters are warm, so an update fails no request.
    // A cluster nobody declared is not waited for: that is a config error, NC as in Envoy.
    const routes = new Map<string, Held<'route'>>();
    for (const r of this.#accepted.route.values()) {
      const waits = r.compiled.clusterRefs.some((ref) => this.#accepted.cluster.has(ref.cluster) && !clusters.has(ref.cluster));
      const serving = waits ? this.#activeRoutes.get(r.name) : r;
      if (serving) routes.set(r.name, serving);
      else if (waits) routes.set(r.name, r);
    }
    this.#activeClusters = clusters;
    this.#activeListeners = listeners;
    this.#activeRoutes = routes;
  }
}

export function rdsNames(l: ListenerSpec): string[] {
  const out: string[] = [];
  for (const c of [...l.chains, ...(l.defaultChain ? [l.defaultChain] : [])]) {
    if (c.filter.kind === 'http_connection_manager' && c.filter.config.rds !== undefined) out.push(c.filter.config.rds);
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
