import type { DeltaDiscoveryRequest } from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { deltaResponse } from './wire.js';
import { AdsStream, nextSharedNonce, MAX_SHARED_RESPONSES, type StreamContext, type TypeState } from './stream.js';
import { isServedType, versionOf, type ServedType, type TypeResources, type VersionedResource } from './snapshot.js';
import { Subscription } from './subscription.js';
import { TypeSync } from './sync-status.js';
import { deltaChange, deltaChangeSince } from './delta-diff.js';

/** Streams of one shape usually need the same change in a push: its bytes are encoded once. */
const responses = new WeakMap<TypeResources, Map<string, { nonce: string; bytes: Uint8Array }>>();

function encoded(target: TypeResources, type: ServedType, updated: readonly VersionedResource[], removed: readonly string[]): { nonce: string; bytes: Uint8Array } {
  let byChange = responses.get(target);
  if (!byChange) { byChange = new Map(); responses.set(target, byChange); }
  const key = `${updated.map((r) => `${r.name}\u0000${r.version}`).join('\u0001')}\u0002${removed.join('\u0001')}`;
  let r = byChange.get(key);
  if (!r) {
    const nonce = nextSharedNonce();
    r = { nonce, bytes: deltaResponse(versionOf(target), type, nonce, updated, removed) };
    if (byChange.size < MAX_SHARED_RESPONSES) byChange.set(key, r);
  }
  return r;
}

/**
 * One incremental ADS stream (DeltaAggregatedResources): only resources the client lacks or has
 * in another version are sent, removals are named in `removed_resources`, and each resource
 * carries its own version (the hash of its bytes), which a reconnecting client hands back in
 * `initial_resource_versions` so that what it already has is not sent again.
 */
export class DeltaStream extends AdsStream {
  readonly kind = 'delta';
  /**
   * Per type: what the client has, name → version, as the server last told it. Only kept while
   * it differs from what the subscription selects of the type's last target (before the first
   * push: the client's initial_resource_versions; during a subscription change): after a push
   * the client has exactly that selection, and a map of 1,500 cluster names per stream would be
   * most of a Delta stream's memory.
   */
  readonly #has = new Map<ServedType, Map<string, string>>();
  /** Newly subscribed names that do not exist: the client is told so once, via removed_resources. */
  readonly #missing = new Map<ServedType, Set<string>>();
  /** Types whose subscription changed since the last diff. */
  readonly #dirty = new Set<ServedType>();

  /** `write` gets serialized DeltaDiscoveryResponses. */
  constructor(ctx: StreamContext, private readonly write: (res: Uint8Array) => void) {
    super(ctx);
  }

  handle(req: DeltaDiscoveryRequest): void {
    const type = req.typeUrl;
    if (!isServedType(type)) { this.ctx.counters.unknownTypeRequests++; return; }
    let st = this.types.get(type);
    const first = st === undefined;
    if (!st) {
      st = { sub: new Subscription(type), sync: new TypeSync(), target: undefined };
      this.types.set(type, st);
      this.#has.set(type, new Map(Object.entries(req.initialResourceVersions)));
    }
    if (req.resourceNamesSubscribe.length > 0 || req.resourceNamesUnsubscribe.length > 0) this.#materialize(type, st);
    if (req.responseNonce !== '') {
      const answer = st.sync.answer(req.responseNonce, req.errorDetail ? req.errorDetail.message || `code ${req.errorDetail.code}` : undefined, this.ctx.now());
      if (answer === 'stale') this.ctx.counters.staleNonces++;
      else if (answer === 'nack') { this.ctx.counters.nacks++; this.ctx.onNack(this, type, st.sync.status().lastNack!.message); }
      else { this.ctx.counters.acks++; this.ctx.onAck(this, type, st.sync.ackedVersion!); }
    }
    // Subscription changes apply whatever the nonce: Delta requests are increments, not states.
    const added = st.sub.update(first, req.resourceNamesSubscribe, req.resourceNamesUnsubscribe, this.internOf(type));
    const has = this.#has.get(type);
    if (has) for (const n of req.resourceNamesUnsubscribe) has.delete(n); // the client drops them itself
    const target = this.resourcesOf(type);
    const missing = added.filter((n) => !target.has(n) && !has?.has(n));
    if (missing.length > 0) this.#missing.set(type, new Set(missing));
    if (first || added.length > 0 || req.resourceNamesUnsubscribe.includes('*')) {
      this.#dirty.add(type);
      this.push(type, st, first);
    }
  }

  sentResources(type: ServedType): VersionedResource[] {
    const has = this.#has.get(type);
    const target = this.resourcesOf(type);
    const st = this.types.get(type);
    if (!has) return st?.target ? st.sub.select(st.target).filter((r) => target.get(r.name) === r) : [];
    const out: VersionedResource[] = [];
    // What the client has is what it was sent; a resource sent in an older version than the
    // current snapshot's is not kept, so only names whose version still matches are listed.
    if (has) for (const [name, version] of has) { const r = target.get(name); if (r && r.version === version) out.push(r); }
    return out;
  }

  protected push(type: ServedType, st: TypeState, force: boolean): boolean {
    const target = this.resourcesOf(type);
    const missing = this.#missing.get(type);
    const dirty = this.#dirty.has(type);
    if (!force && target === st.target && !dirty) return false;
    const before = st.target;
    st.target = target;
    this.#dirty.delete(type);
    // After every push the client has what the subscription selects of st.target (unsubscribing
    // only takes names out of both), so when nothing else moved only the snapshot's changes
    // matter; without a map of its own, that selection is what it has.
    const has = this.#has.get(type);
    const sub = st.sub;
    const implied = { get: (n: string) => (sub.covers(n) ? before?.get(n)?.version : undefined), has: (n: string) => sub.covers(n) && before?.has(n) === true };
    const change = !force && !dirty && !missing && before !== undefined ? deltaChangeSince(has ?? implied, before, target, sub) : deltaChange(has ?? this.#materialize(type, { ...st, target: before }), target, sub);
    if (missing) { change.removed.push(...missing); this.#missing.delete(type); }
    // Whether or not anything is sent, the client now has the selection of `target`.
    this.#has.delete(type);
    if (!force && change.updated.length === 0 && change.removed.length === 0) return false;
    const res = encoded(target, type, change.updated, change.removed);
    st.sync.sent(versionOf(target), res.nonce);
    this.write(res.bytes);
    return true;
  }

  /** `type`'s has-map, built from the selection of st.target if the stream holds none. */
  #materialize(type: ServedType, st: TypeState): Map<string, string> {
    let has = this.#has.get(type);
    if (!has) {
      has = new Map();
      if (st.target) for (const r of st.sub.select(st.target)) has.set(r.name, r.version);
      this.#has.set(type, has);
    }
    return has;
  }
}
