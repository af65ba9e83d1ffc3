/*
 * The in-memory config store: every mesh resource by kind/namespace/name, each with an owner
 * (the API, or one file of the watched directory), a resourceVersion, and change events. The
 * snapshot handed to translation is immutable and carries a version that increases with every
 * change. Persistence is a hook (store-persist.ts) called before a change is committed, so a
 * resource the API acknowledged is on disk.
 */
import { sameContent } from './same-content.js';
import type { ConfigSnapshot, Kind, MeshConfigSpec, MeshResource } from './kinds.js';
import { resourceLabel, type ConfigIssue } from './issues.js';
import { resourceKey } from './validate.js';

/** "api", or "file:<path relative to the config dir>". */
export type Owner = string;
export const API_OWNER: Owner = 'api';

export interface StoredResource {
  readonly resource: MeshResource;
  readonly owner: Owner;
}

export type ApplyResult = 'created' | 'configured' | 'unchanged';

export interface ResourceOutcome {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
  readonly result: ApplyResult | 'deleted' | 'not found';
}

export interface ConfigChange {
  readonly type: 'created' | 'updated' | 'deleted';
  readonly key: string;
  /** The new resource, or for a deletion the one removed. */
  readonly resource: MeshResource;
  /** For an update: the resource it replaced. */
  readonly previous?: MeshResource;
}

/** What a store writes through to: called before a change is visible, may throw to refuse it. */
export interface Persistence {
  save(entry: StoredResource): void;
  remove(entry: StoredResource): void;
  /**
   * Records the store's revision after every committed change (also those owned by files), so
   * versions keep increasing across restarts. Best effort: a failure here loses no config.
   */
  saveRevision(revision: number): void;
}

/** Resources that belong to another owner: the change is refused for them. */
export class OwnershipConflict extends Error {
  constructor(readonly conflicts: readonly ConfigIssue[]) {
    super(conflicts.map((c) => `${c.resource}: ${c.message}`).join('\n'));
  }
}

export function describeOwner(owner: Owner): string {
  return owner === API_OWNER ? 'the API (tsmesh apply)' : `file ${owner.slice('file:'.length)} of the config directory`;
}

export class ConfigStore {
  readonly #entries = new Map<string, StoredResource>();
  readonly #listeners = new Set<(changes: readonly ConfigChange[]) => void>();
  #revision = 0;
  #snapshot: ConfigSnapshot | undefined;

  constructor(private readonly opts: { persistence?: Persistence; now?: () => Date } = {}) {}

  /** The revision of the last change (also the snapshot version). */
  get revision(): number {
    return this.#revision;
  }

  /** Loads entries as they were persisted (resourceVersion kept), without events or writes. */
  restore(entries: readonly StoredResource[], revision = 0): void {
    this.#revision = Math.max(this.#revision, revision);
    for (const e of entries) {
      const r = freeze(structuredClone(e.resource));
      this.#entries.set(resourceKey(r), { resource: r, owner: e.owner });
      this.#revision = Math.max(this.#revision, Number(r.metadata.resourceVersion ?? 0) || 0);
    }
    this.#snapshot = undefined;
  }

  /**
   * Stores `resources` for `owner`, all or nothing: if any is owned by someone else the whole
   * call is refused with OwnershipConflict. Answers per resource created / configured / unchanged.
   */
  apply(resources: readonly MeshResource[], owner: Owner): ResourceOutcome[] {
    const conflicts = this.#conflicts(resources, owner);
    if (conflicts.length) throw new OwnershipConflict(conflicts);
    return this.#commit(resources, [], owner);
  }

  /**
   * Makes `resources` the complete set owned by `owner` (a file of the watched directory):
   * creates or updates them and deletes what the owner had that is no longer there. Resources
   * owned by someone else are skipped and returned as conflicts.
   */
  replaceOwned(owner: Owner, resources: readonly MeshResource[]): { outcomes: ResourceOutcome[]; conflicts: ConfigIssue[] } {
    const conflicts = this.#conflicts(resources, owner);
    const blocked = new Set(conflicts.map((c) => c.resource));
    const mine = resources.filter((r) => !blocked.has(resourceLabel(r.kind, r.metadata.namespace, r.metadata.name)));
    const keep = new Set(mine.map(resourceKey));
    const gone = [...this.#entries.entries()].filter(([k, e]) => e.owner === owner && !keep.has(k)).map(([k]) => k);
    return { outcomes: this.#commit(mine, gone, owner), conflicts };
  }

  /** Deletes by identity; a resource owned by someone else is refused (OwnershipConflict). */
  delete(ids: readonly { kind: Kind; namespace: string; name: string }[], owner: Owner): ResourceOutcome[] {
    const conflicts: ConfigIssue[] = [];
    for (const id of ids) {
      const e = this.#entries.get(`${id.kind}/${id.namespace}/${id.name}`);
      if (e && e.owner !== owner) conflicts.push({ resource: resourceLabel(id.kind, id.namespace, id.name), path: '', message: `owned by ${describeOwner(e.owner)}; change it there`, severity: 'error' });
    }
    if (conflicts.length) throw new OwnershipConflict(conflicts);
    const keys = ids.map((id) => `${id.kind}/${id.namespace}/${id.name}`);
    const present = keys.filter((k) => this.#entries.has(k));
    this.#commit([], present, owner);
    return ids.map((id, i) => ({ ...id, result: present.includes(keys[i]!) ? 'deleted' : 'not found' }));
  }

  get(kind: Kind, namespace: string, name: string): StoredResource | undefined {
    return this.#entries.get(`${kind}/${namespace}/${name}`);
  }

  /** Stored resources, sorted by kind, namespace, name; optionally of one kind / namespace. */
  list(filter: { kind?: Kind; namespace?: string } = {}): StoredResource[] {
    return [...this.#entries.values()]
      .filter((e) => (!filter.kind || e.resource.kind === filter.kind) && (!filter.namespace || e.resource.metadata.namespace === filter.namespace))
      .sort((a, b) => compareKeys(resourceKey(a.resource), resourceKey(b.resource)));
  }

  /** Called with every committed batch of changes (one apply → one call). Returns an unsubscribe. */
  onChange(listener: (changes: readonly ConfigChange[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** An immutable view for translation; the same object until the next change. */
  snapshot(): ConfigSnapshot {
    if (this.#snapshot) return this.#snapshot;
    const all = this.list().map((e) => e.resource);
    const of = <K extends Kind>(k: K) => Object.freeze(all.filter((r): r is Extract<MeshResource, { kind: K }> => r.kind === k));
    // With several MeshConfigs (analysis reports it) the oldest one wins, so adding one cannot flip it.
    const mesh = of('MeshConfig').slice().sort((a, b) => compareKeys(`${a.metadata.creationTimestamp}/${resourceKey(a)}`, `${b.metadata.creationTimestamp}/${resourceKey(b)}`))[0]?.spec ?? EMPTY_MESH;
    this.#snapshot = Object.freeze({
      serviceEntries: of('ServiceEntry'),
      workloadEntries: of('WorkloadEntry'),
      workloadGroups: of('WorkloadGroup'),
      destinationRules: of('DestinationRule'),
      virtualServices: of('VirtualService'),
      peerAuthentications: of('PeerAuthentication'),
      authorizationPolicies: of('AuthorizationPolicy'),
      requestAuthentications: of('RequestAuthentication'),
      telemetries: of('Telemetry'),
      mesh,
      version: this.#revision,
    });
    return this.#snapshot;
  }

  #conflicts(resources: readonly MeshResource[], owner: Owner): ConfigIssue[] {
    const out: ConfigIssue[] = [];
    for (const r of resources) {
      const e = this.#entries.get(resourceKey(r));
      if (e && e.owner !== owner) out.push({ resource: resourceLabel(r.kind, r.metadata.namespace, r.metadata.name), path: '', message: `already defined by ${describeOwner(e.owner)}; change it there`, severity: 'error' });
    }
    return out;
  }

  #commit(upserts: readonly MeshResource[], deletes: readonly string[], owner: Owner): ResourceOutcome[] {
    const outcomes: ResourceOutcome[] = [];
    const changes: ConfigChange[] = [];
    const next: [string, StoredResource | undefined][] = [];
    let rev = this.#revision;
    for (const r of upserts) {
      const key = resourceKey(r);
      const prev = this.#entries.get(key);
      const id = { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name };
      if (prev && sameContent(prev.resource, r)) { outcomes.push({ ...id, result: 'unchanged' }); continue; }
      rev++;
      const stored = structuredClone(r);
      stored.metadata.resourceVersion = String(rev);
      stored.metadata.creationTimestamp = prev?.resource.metadata.creationTimestamp ?? (this.opts.now?.() ?? new Date()).toISOString();
      next.push([key, { resource: freeze(stored), owner }]);
      outcomes.push({ ...id, result: prev ? 'configured' : 'created' });
      changes.push(prev ? { type: 'updated', key, resource: stored, previous: prev.resource } : { type: 'created', key, resource: stored });
    }
    for (const key of deletes) {
      const prev = this.#entries.get(key);
      if (!prev) continue;
      rev++;
      next.push([key, undefined]);
      changes.push({ type: 'deleted', key, resource: prev.resource });
    }
    if (changes.length === 0) return outcomes;
    this.#persist(next);
    for (const [key, e] of next) {
      if (e) this.#entries.set(key, e); else this.#entries.delete(key);
    }
    this.#revision = rev;
    this.#snapshot = undefined;
    try { this.opts.persistence?.saveRevision(rev); } catch { /* see Persistence.saveRevision */ }
    for (const l of this.#listeners) l(changes);
    return outcomes;
  }

  /** Writes API-owned changes through; on a failure, puts back what was already written. */
  #persist(next: readonly [string, StoredResource | undefined][]): void {
    const p = this.opts.persistence;
    if (!p) return;
    const done: [string, StoredResource | undefined][] = [];
    try {
      for (const [key, e] of next) {
        const prev = this.#entries.get(key);
        if (e?.owner === API_OWNER) p.save(e);
        else if (!e && prev?.owner === API_OWNER) p.remove(prev);
        done.push([key, e]);
      }
    } catch (err) {
      for (const [key, e] of done.reverse()) {
        const prev = this.#entries.get(key);
        try {
          if (prev?.owner === API_OWNER) p.save(prev);
          else if (e?.owner === API_OWNER) p.remove(e);
        } catch { /* the original error is what the caller needs */ }
      }
      throw err;
    }
  }
}

const EMPTY_MESH: MeshConfigSpec = Object.freeze({});

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function freeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) freeze(x);
    Object.freeze(v);
  }
  return v;
}
