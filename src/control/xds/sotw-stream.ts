import type { DiscoveryRequest } from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { AdsStream, nextSharedNonce, MAX_SHARED_RESPONSES, type StreamContext, type TypeState } from './stream.js';
import { allowsLegacyWildcard, isServedType, versionOf, type ServedType, type TypeResources, type VersionedResource } from './snapshot.js';
import { Subscription } from './subscription.js';
import { TypeSync } from './sync-status.js';
import { sotwResourcesField, sotwResponse } from './wire.js';

/** What a subscription selects of a type's resources, with its version and the whole response encoded. */
interface Selection {
  readonly resources: readonly VersionedResource[];
  readonly version: string;
  readonly nonce: string;
  readonly response: Uint8Array;
}

/** Proxies of one shape with equal subscriptions share one Selection per push. */
const selections = new WeakMap<TypeResources, Map<string, Selection>>();

function selectionOf(target: TypeResources, sub: Subscription): Selection {
  let bySub = selections.get(target);
  if (!bySub) { bySub = new Map(); selections.set(target, bySub); }
  const key = sub.key();
  let sel = bySub.get(key);
  if (!sel) {
    const resources = sub.select(target);
    const version = sub.wildcard ? versionOf(target) : versionOf(target, sub.names);
    const nonce = nextSharedNonce();
    sel = { resources, version, nonce, response: sotwResponse(version, sub.type, nonce, sotwResourcesField(resources)) };
    if (bySub.size < MAX_SHARED_RESPONSES) bySub.set(key, sel);
  }
  return sel;
}

/** A response carrying only what changed between two selections (RDS/EDS, see SotwStream.push). */
interface Encoded { readonly nonce: string; readonly response: Uint8Array }
const changes = new WeakMap<Selection, WeakMap<Selection, Encoded>>();

function changedSince(base: Selection, next: Selection, type: ServedType): Encoded {
  let byNext = changes.get(base);
  if (!byNext) { byNext = new WeakMap(); changes.set(base, byNext); }
  let e = byNext.get(next);
  if (!e) {
    const had = new Map(base.resources.map((r) => [r.name, r.version]));
    const changed = next.resources.filter((r) => had.get(r.name) !== r.version);
    const nonce = nextSharedNonce();
    e = { nonce, response: sotwResponse(next.version, type, nonce, sotwResourcesField(changed)) };
    byNext.set(next, e);
  }
  return e;
}

/**
 * One State-of-the-World ADS stream (StreamAggregatedResources). Every response of a type carries
 * every subscribed resource of it, so for LDS and CDS leaving one out removes it.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol
 */
export class SotwStream extends AdsStream {
  readonly kind = 'sotw';
  readonly #sent = new Map<ServedType, Selection>();
  /** Per type, the last selection the client ACKed: it holds at least those resources. */
  readonly #acked = new Map<ServedType, Selection>();

  /** `write` gets serialized DiscoveryResponses. */
  constructor(ctx: StreamContext, private readonly write: (res: Uint8Array) => void) {
    super(ctx);
  }

  handle(req: DiscoveryRequest): void {
    const type = req.typeUrl;
    if (!isServedType(type)) { this.ctx.counters.unknownTypeRequests++; return; }
    let st = this.types.get(type);
    const first = st === undefined;
    if (!st) { st = { sub: new Subscription(type), sync: new TypeSync(), target: undefined }; this.types.set(type, st); }
    if (req.responseNonce !== '') {
      // A response the client has not seen yet supersedes this request: ignore it entirely
      // (the client will answer the newer response, with its subscription if it changed).
      const answer = st.sync.answer(req.responseNonce, req.errorDetail ? req.errorDetail.message || `code ${req.errorDetail.code}` : undefined, this.ctx.now());
      if (answer === 'stale') { this.ctx.counters.staleNonces++; return; }
      if (answer === 'nack') { this.ctx.counters.nacks++; this.ctx.onNack(this, type, st.sync.status().lastNack!.message); }
      else {
        const sent = this.#sent.get(type);
        if (sent) this.#acked.set(type, sent);
        this.ctx.counters.acks++;
        this.ctx.onAck(this, type, st.sync.ackedVersion!);
      }
    }
    const changed = st.sub.replace(req.resourceNames, this.internOf(type));
    // An empty nonce is a new subscription (first request, or the client starting over): answer it
    // even when nothing changed, so the client is not left waiting.
    if (first || changed || req.responseNonce === '') this.push(type, st, true);
  }

  sentResources(type: ServedType): VersionedResource[] {
    return [...this.#sent.get(type)?.resources ?? []];
  }

  protected push(type: ServedType, st: TypeState, force: boolean): boolean {
    const target = this.resourcesOf(type);
    if (!force && target === st.target) return false;
    st.target = target;
    const sel = selectionOf(target, st.sub);
    if (!force && sel.version === st.sync.sentVersion) return false;
    // RDS and EDS are not full-state in SotW: a resource left out of a response is kept by the
    // client (it goes when no listener or cluster names it), so a push sends only the resources
    // that differ from what the client last ACKed, e.g. one route configuration of five, or one
    // ClusterLoadAssignment of 1,500. A new or changed subscription (force) gets all of them.
    // https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#resource-types
    const base = force || allowsLegacyWildcard(type) ? undefined : this.#acked.get(type);
    const out = base ? changedSince(base, sel, type) : sel;
    st.sync.sent(sel.version, out.nonce);
    this.#sent.set(type, sel);
    this.write(out.response);
    return true;
  }
}
