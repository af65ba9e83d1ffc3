/**
 * A simulated sidecar's ADS stream, behaving like Envoy's: CDS (wildcard) first, EDS for the
 * clusters it got, LDS (wildcard), RDS for the listeners' route names; every response ACKed at
 * once. Two ways to read a response (`decode`):
 *   - 'full': grpc-js decodes every DiscoveryResponse with the generated schema (resources stay
 *     Any bytes; only each cluster's name is read from them), as a protobuf client would;
 *   - 'partial': only version, nonce, type URL and names are read off the wire (response-wire.ts);
 *     the resources' bytes are stepped over. What an ACK needs, at a fraction of the CPU. SotW
 *     ACKs are then also written as bytes, their resource_names field (every cluster, for EDS)
 *     encoded once per change of the list instead of once per ACK.
 */
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema, DiscoveryRequestSchema, DiscoveryResponseSchema,
  type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse,
} from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { DELTA_PATH, SOTW_PATH } from '../../../src/control/xds/grpc-service.js';
import { lengthDelimited } from '../../../src/control/xds/wire.js';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { ADS_FLOW_CONTROL_WINDOW } from '../../../src/proxy/xds/transport.js';
import type { Node } from '../../../src/envoy/generated/envoy/config/core/v3/base_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { readDelta, readSotw, type DeltaHead, type SotwHead } from './response-wire.js';

export type DecodeMode = 'full' | 'partial';

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
  #call: grpc.ClientDuplexStream<DiscoveryRequest | DeltaDiscoveryRequest | Uint8Array, unknown>;
  readonly #raw: boolean;
  /** SotW: per type, the names list last ACKed and its encoded resource_names fields. */
  readonly #namesField = new Map<string, { names: readonly string[]; bytes: Uint8Array }>();
  #clusters = new Set<string>();
  #requested = new Set<string>();
  #last = new Map<string, { version: string; nonce: string }>();
  error: Error | undefined;

  constructor(port: number, readonly kind: 'sotw' | 'delta', private readonly node: MessageInitShape<typeof DiscoveryRequestSchema>['node'], private readonly routeNames: readonly string[], decode: DecodeMode = 'partial') {
    this.#raw = decode === 'partial';
    this.#client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      // What Envoy advertises (256 MiB), as the proxy's own ADS client does.
      'grpc-node.flow_control_window': ADS_FLOW_CONTROL_WINDOW,
    });
    const count = (b: Buffer) => { this.bytes += b.length; return b; };
    const sotw = decode === 'full' ? (b: Buffer): SotwHead => fullSotw(fromBinary(DiscoveryResponseSchema, count(b))) : (b: Buffer): SotwHead => readSotw(count(b));
    const delta = decode === 'full' ? (b: Buffer): DeltaHead => fullDelta(fromBinary(DeltaDiscoveryResponseSchema, count(b))) : (b: Buffer): DeltaHead => readDelta(count(b));
    this.#call = kind === 'sotw'
      ? this.#client.makeBidiStreamRequest(SOTW_PATH, (m: DiscoveryRequest | DeltaDiscoveryRequest | Uint8Array) => m instanceof Uint8Array ? Buffer.from(m.buffer, m.byteOffset, m.byteLength) : Buffer.from(toBinary(DiscoveryRequestSchema, m as DiscoveryRequest)), sotw)
      : this.#client.makeBidiStreamRequest(DELTA_PATH, (m: DiscoveryRequest | DeltaDiscoveryRequest | Uint8Array) => Buffer.from(toBinary(DeltaDiscoveryRequestSchema, m as DeltaDiscoveryRequest)), delta);
    this.#call.on('data', (res: SotwHead | DeltaHead) => kind === 'sotw' ? this.#sotw(res as SotwHead) : this.#delta(res as DeltaHead));
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

  /** DiscoveryRequest {version_info 1, resource_names 3, type_url 4, response_nonce 5} as bytes. */
  #sotwAck(type: string, version: string, nonce: string, names: readonly string[]): Uint8Array {
    let f = this.#namesField.get(type);
    if (!f || f.names.length !== names.length || f.names.some((n, i) => n !== names[i])) {
      f = { names, bytes: Buffer.concat(names.map((n) => lengthDelimited(3, Buffer.from(n)))) };
      this.#namesField.set(type, f);
    }
    const str = (field: number, v: string): Uint8Array => (v === '' ? new Uint8Array(0) : lengthDelimited(field, Buffer.from(v)));
    return Buffer.concat([str(1, version), f.bytes, str(4, type), str(5, nonce)]);
  }

  #acked(typeUrl: string): void {
    const wasReady = this.ready;
    this.acked.add(typeUrl);
    if (!wasReady && this.ready) this.onReady?.();
  }

  #sotw(res: SotwHead): void {
    const type = res.typeUrl;
    this.#last.set(type, { version: res.versionInfo, nonce: res.nonce });
    const names = type === TYPE_URL.endpoint ? [...this.#clusters] : type === TYPE_URL.route ? [...this.routeNames] : [];
    if (this.#raw) this.#call.write(this.#sotwAck(type, res.versionInfo, res.nonce, names));
    else this.#send(type, { versionInfo: res.versionInfo, responseNonce: res.nonce, resourceNames: names });
    this.#acked(type);
    if (type === TYPE_URL.cluster) {
      const now = new Set(res.resourceNames());
      const changed = now.size !== this.#clusters.size || [...now].some((n) => !this.#clusters.has(n));
      this.#clusters = now;
      if (changed) { const eds = this.#last.get(TYPE_URL.endpoint); this.#send(TYPE_URL.endpoint, { resourceNames: [...now], versionInfo: eds?.version ?? '', responseNonce: eds?.nonce ?? '' }); }
      if (!this.#requested.has(TYPE_URL.listener)) this.#send(TYPE_URL.listener, {});
    } else if (type === TYPE_URL.listener && !this.#requested.has(TYPE_URL.route)) {
      this.#send(TYPE_URL.route, { resourceNames: [...this.routeNames] });
    }
  }

  #delta(res: DeltaHead): void {
    const type = res.typeUrl;
    this.#send(type, { responseNonce: res.nonce });
    this.#acked(type);
    if (type === TYPE_URL.cluster) {
      const added = res.names.filter((n) => !this.#clusters.has(n));
      for (const n of added) this.#clusters.add(n);
      const removed = res.removed.filter((n) => this.#clusters.delete(n));
      if (added.length > 0 || removed.length > 0) this.#send(TYPE_URL.endpoint, { resourceNamesSubscribe: added, resourceNamesUnsubscribe: removed });
      if (!this.#requested.has(TYPE_URL.listener)) this.#send(TYPE_URL.listener, {});
    } else if (type === TYPE_URL.listener && !this.#requested.has(TYPE_URL.route)) {
      this.#send(TYPE_URL.route, { resourceNamesSubscribe: [...this.routeNames] });
    }
  }
}

/** A fully decoded response, reduced to what the client reads. */
function fullSotw(res: DiscoveryResponse): SotwHead {
  return { versionInfo: res.versionInfo, typeUrl: res.typeUrl, nonce: res.nonce, resourceNames: () => res.resources.map((a) => firstStringField(a.value)) };
}

function fullDelta(res: DeltaDiscoveryResponse): DeltaHead {
  return { typeUrl: res.typeUrl, nonce: res.nonce, names: res.resources.map((r) => r.name), removed: res.removedResources };
}

export type { Node };
