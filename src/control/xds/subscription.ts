import { createHash } from 'node:crypto';
import { allowsLegacyWildcard, type ServedType, type TypeResources, type VersionedResource } from './snapshot.js';

/**
 * Returns the copy of a resource name that the server already holds (the snapshot's), so that a
 * thousand streams subscribed to the same 1,500 names keep one copy of each, not a thousand.
 */
export type Intern = (name: string) => string;
const same: Intern = (n) => n;

/**
 * SotW name sets by subscription key, shared by the streams that subscribe to the same names
 * (every sidecar of a shape lists the same 1,500 clusters in EDS): one set instead of one per
 * stream. A shared set is never changed; replace() builds a new one.
 */
const sharedSets = new Map<string, WeakRef<Set<string>>>();
const dropShared = new FinalizationRegistry<string>((key) => { if (sharedSets.get(key)?.deref() === undefined) sharedSets.delete(key); });

function shared(key: string, names: Set<string>): Set<string> {
  const known = sharedSets.get(key)?.deref();
  if (known) return known;
  sharedSets.set(key, new WeakRef(names));
  dropShared.register(names, key);
  return names;
}

/**
 * What one stream asked for of one type: a wildcard ("everything"), explicit names, or both.
 * Follows the xDS protocol's rules: `*` is the explicit wildcard; for LDS and CDS only, a client
 * that has never named a resource and sends an empty list means "everything" (legacy wildcard).
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#how-the-client-specifies-what-resources-to-return
 */
export class Subscription {
  wildcard = false;
  #names = new Set<string>();
  /** Whether #names may be shared with other subscriptions (then it is replaced, never changed). */
  #shared = false;
  #everNamed = false;
  #key: string | undefined;
  /** The last list replace() got, if frozen (request-wire.ts shares one per distinct list). */
  #lastList: readonly string[] | undefined;

  constructor(readonly type: ServedType) {}

  get names(): ReadonlySet<string> { return this.#names; }

  /** SotW: the request's list replaces the subscription. Returns whether it changed. */
  replace(names: readonly string[], intern: Intern = same): boolean {
    // The common case, an ACK repeating the same names, must not allocate or rebuild anything;
    // the same frozen list again cannot differ, and replace() is idempotent.
    if (names === this.#lastList) return false;
    this.#lastList = Object.isFrozen(names) ? names : undefined;
    let star = false;
    let explicit = 0;
    let known = true;
    for (const n of names) {
      if (n === '*') { star = true; continue; }
      explicit++;
      if (known && !this.names.has(n)) known = false;
    }
    const wildcard = star || (names.length === 0 && !this.#everNamed && allowsLegacyWildcard(this.type));
    if (explicit > 0) this.#everNamed = true;
    if (wildcard === this.wildcard && known && explicit === this.names.size) return false;
    const before = this.key();
    this.wildcard = wildcard;
    const next = new Set<string>();
    for (const n of names) if (n !== '*') next.add(intern(n));
    this.#names = next;
    this.#key = undefined;
    const key = this.key();
    this.#names = shared(key, next);
    this.#shared = true;
    return key !== before;
  }

  /**
   * Delta: applies subscribe/unsubscribe lists. `first` is the stream's first request for the
   * type (where an empty list is the legacy wildcard). Returns the names newly subscribed.
   */
  update(first: boolean, subscribe: readonly string[], unsubscribe: readonly string[], intern: Intern = same): string[] {
    const added: string[] = [];
    this.#lastList = undefined;
    if (subscribe.length > 0 || unsubscribe.length > 0 || first) this.#key = undefined;
    if (this.#shared) { this.#names = new Set(this.#names); this.#shared = false; }
    if (first && subscribe.length === 0 && allowsLegacyWildcard(this.type)) this.wildcard = true;
    for (const n of subscribe) {
      if (n === '*') { this.wildcard = true; continue; }
      if (!this.#names.has(n)) { const i = intern(n); this.#names.add(i); added.push(i); }
      this.#everNamed = true;
    }
    for (const n of unsubscribe) {
      if (n === '*') this.wildcard = false;
      else this.#names.delete(n);
    }
    return added;
  }

  covers(name: string): boolean {
    return this.wildcard || this.names.has(name);
  }

  /** The resources of `resources` this subscription asks for, in the resources' order. */
  select(resources: TypeResources): VersionedResource[] {
    if (this.wildcard) return [...resources.values()];
    if (this.names.size < resources.size) {
      const out: VersionedResource[] = [];
      for (const n of this.names) { const r = resources.get(n); if (r) out.push(r); }
      return out;
    }
    return [...resources.values()].filter((r) => this.names.has(r.name));
  }

  /**
   * A string equal for equal subscriptions; computed once per change. A hash of the sorted
   * names: an EDS subscription lists every cluster, and a key per stream as long as that list
   * would cost each stream tens of KB.
   */
  key(): string {
    this.#key ??= createHash('sha256').update(`${this.wildcard ? '*' : ''}|${[...this.names].sort().join('\u0000')}`).digest('base64url');
    return this.#key;
  }
}
