import { create } from '@bufbuild/protobuf';
import { DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse } from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { AdsStream, type StreamContext, type TypeState } from './stream.js';
import { isServedType, versionOf, type ServedType, type VersionedResource } from './snapshot.js';
import { Subscription } from './subscription.js';
import { TypeSync } from './sync-status.js';

/**
 * One State-of-the-World ADS stream (StreamAggregatedResources). Every response of a type carries
 * every subscribed resource of it, so for LDS and CDS leaving one out removes it.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol
 */
export class SotwStream extends AdsStream {
  readonly kind = 'sotw';
  readonly #sent = new Map<ServedType, VersionedResource[]>();

  constructor(ctx: StreamContext, private readonly write: (res: DiscoveryResponse) => void) {
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
      else this.ctx.counters.acks++;
    }
    const changed = st.sub.replace(req.resourceNames);
    // An empty nonce is a new subscription (first request, or the client starting over): answer it
    // even when nothing changed, so the client is not left waiting.
    if (first || changed || req.responseNonce === '') this.push(type, st, true);
  }

  sentResources(type: ServedType): VersionedResource[] {
    return this.#sent.get(type) ?? [];
  }

  protected push(type: ServedType, st: TypeState, force: boolean): boolean {
    const target = this.resourcesOf(type);
    if (!force && target === st.target) return false;
    st.target = target;
    const resources = st.sub.select(target);
    const version = st.sub.wildcard ? versionOf(target) : versionOf(target, st.sub.names);
    if (!force && version === st.sync.sentVersion) return false;
    const nonce = this.nextNonce();
    st.sync.sent(version, nonce);
    this.#sent.set(type, resources);
    this.write(create(DiscoveryResponseSchema, { versionInfo: version, typeUrl: type, nonce, resources: resources.map((r) => r.any) }));
    return true;
  }
}
