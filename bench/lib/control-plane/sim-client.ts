/**
 * A simulated sidecar's ADS stream, behaving like Envoy's: CDS (wildcard) first, EDS for the
 * clusters it got, LDS (wildcard), RDS for the listeners' route names; every response ACKed at
 * once. It decodes DiscoveryResponses but reads only each resource's name from its bytes (field
 * 1 of Listener, RouteConfiguration, Cluster and ClusterLoadAssignment), not the whole resource.
 */
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema, DiscoveryRequestSchema, DiscoveryResponseSchema,
  type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse,
} from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { DELTA_PATH, SOTW_PATH } from '../../../src/control/xds/grpc-service.js';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import type { Node } from '../../../src/envoy/generated/envoy/config/core/v3/base_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';

/** Field 1 (a string) of a serialized message. */
export function firstStringField(b: Uint8Array): string {
  let i = 0;
  const varint = (): number => { let v = 0; let s = 0; for (;;) { const c = b[i++]!; v += (c & 0x7f) * 2 ** s; if (c < 0x80) return v; s += 7; } };
  while (i < b.length) {
    const tag = varint(); const field = tag >>> 3; const wire = tag & 7;
    if (wire === 2) { const len = varint(); if (field === 1) return Buffer.from(b.buffer, b.byteOffset + i, len).toString('utf8'); i += len; }
    else if (wire === 0) varint(); else if (wire === 1) i += 8; else if (wire === 5) i += 4; else break;
  }
  return '';
}

const ALL = [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route] as const;

export class SimClient {
  bytes = 0;
  readonly acked = new Set<string>();
  onReady: (() => void) | undefined;
  #client: grpc.Client;
  #call: grpc.ClientDuplexStream<DiscoveryRequest | DeltaDiscoveryRequest, unknown>;
  #clusters = new Set<string>();
  #requested = new Set<string>();
  #last = new Map<string, { version: string; nonce: string }>();
  error: Error | undefined;

  constructor(port: number, readonly kind: 'sotw' | 'delta', private readonly node: MessageInitShape<typeof DiscoveryRequestSchema>['node'], private readonly routeNames: readonly string[]) {
    this.#client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const count = (b: Buffer) => { this.bytes += b.length; return b; };
    this.#call = kind === 'sotw'
      ? this.#client.makeBidiStreamRequest(SOTW_PATH, (m: DiscoveryRequest | DeltaDiscoveryRequest) => Buffer.from(toBinary(DiscoveryRequestSchema, m as DiscoveryRequest)), (b: Buffer): unknown => fromBinary(DiscoveryResponseSchema, count(b)))
      : this.#client.makeBidiStreamRequest(DELTA_PATH, (m: DiscoveryRequest | DeltaDiscoveryRequest) => Buffer.from(toBinary(DeltaDiscoveryRequestSchema, m as DeltaDiscoveryRequest)), (b: Buffer): unknown => fromBinary(DeltaDiscoveryResponseSchema, count(b)));
    this.#call.on('data', (res: DiscoveryResponse | DeltaDiscoveryResponse) => kind === 'sotw' ? this.#sotw(res as DiscoveryResponse) : this.#delta(res as DeltaDiscoveryResponse));
    this.#call.on('error', (err: Error) => { this.error = err; });
    this.#send(TYPE_URL.cluster, {}, true);
  }

  get ready(): boolean { return this.acked.size === ALL.length; }

  close(): void { this.#call.cancel(); this.#client.close(); }

  #send(typeUrl: string, fields: Record<string, unknown>, first = false): void {
    const node = first ? { node: this.node } : {};
    this.#call.write(this.kind === 'sotw'
      ? create(DiscoveryRequestSchema, { typeUrl, ...node, ...fields })
      : create(DeltaDiscoveryRequestSchema, { typeUrl, ...node, ...fields }));
    this.#requested.add(typeUrl);
  }

  #acked(typeUrl: string): void {
    const wasReady = this.ready;
    this.acked.add(typeUrl);
    if (!wasReady && this.ready) this.onReady?.();
  }

  #sotw(res: DiscoveryResponse): void {
    const type = res.typeUrl;
    this.#last.set(type, { version: res.versionInfo, nonce: res.nonce });
    const names = type === TYPE_URL.endpoint ? [...this.#clusters] : type === TYPE_URL.route ? [...this.routeNames] : [];
    this.#send(type, { versionInfo: res.versionInfo, responseNonce: res.nonce, resourceNames: names });
    this.#acked(type);
    if (type === TYPE_URL.cluster) {
      const now = new Set(res.resources.map((a) => firstStringField(a.value)));
      const changed = now.size !== this.#clusters.size || [...now].some((n) => !this.#clusters.has(n));
      this.#clusters = now;
      if (changed) { const eds = this.#last.get(TYPE_URL.endpoint); this.#send(TYPE_URL.endpoint, { resourceNames: [...now], versionInfo: eds?.version ?? '', responseNonce: eds?.nonce ?? '' }); }
      if (!this.#requested.has(TYPE_URL.listener)) this.#send(TYPE_URL.listener, {});
    } else if (type === TYPE_URL.listener && !this.#requested.has(TYPE_URL.route)) {
      this.#send(TYPE_URL.route, { resourceNames: [...this.routeNames] });
    }
  }

  #delta(res: DeltaDiscoveryResponse): void {
    const type = res.typeUrl;
    this.#send(type, { responseNonce: res.nonce });
    this.#acked(type);
    if (type === TYPE_URL.cluster) {
      const added = res.resources.map((r) => r.name).filter((n) => !this.#clusters.has(n));
      for (const n of added) this.#clusters.add(n);
      const removed = res.removedResources.filter((n) => this.#clusters.delete(n));
      if (added.length > 0 || removed.length > 0) this.#send(TYPE_URL.endpoint, { resourceNamesSubscribe: added, resourceNamesUnsubscribe: removed });
      if (!this.#requested.has(TYPE_URL.listener)) this.#send(TYPE_URL.listener, {});
    } else if (type === TYPE_URL.listener && !this.#requested.has(TYPE_URL.route)) {
      this.#send(TYPE_URL.route, { resourceNamesSubscribe: [...this.routeNames] });
    }
  }
}

export type { Node };
