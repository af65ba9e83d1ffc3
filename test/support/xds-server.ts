/**
 * A small but real ADS server for tests (grpc-js, both SotW and Delta): the test sets the
 * resources of each type, the server pushes them to every connected proxy as the xDS protocol
 * says (versions, nonces, subscriptions), and records every request for ACK/NACK assertions.
 */
import { TYPE_URLS } from '../../src/proxy/xds/resources.js';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type DescMessage, type Message } from '@bufbuild/protobuf';

import {
  DiscoveryRequestSchema, DiscoveryResponseSchema, DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema, ResourceSchema,
  type DiscoveryRequest, type DiscoveryResponse, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
} from '../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { ListenerSchema } from '../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema } from '../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema } from '../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { eventually } from './mesh.js';

export type Kind = 'listener' | 'route' | 'cluster' | 'endpoint';

const SCHEMA: Record<Kind, DescMessage> = { listener: ListenerSchema, route: RouteConfigurationSchema, cluster: ClusterSchema, endpoint: ClusterLoadAssignmentSchema };
export const TYPE_URL: Readonly<Record<Kind, string>> = TYPE_URLS;
const KIND_OF = new Map(Object.entries(TYPE_URL).map(([k, v]) => [v, k as Kind]));
const WILDCARD_KINDS = new Set<Kind>(['listener', 'cluster']);

/** One request a proxy sent, flattened for assertions. */
export interface RecordedRequest {
  readonly delta: boolean;
  readonly stream: number;
  readonly kind: Kind | undefined;
  readonly typeUrl: string;
  readonly versionInfo: string;
  readonly resourceNames: readonly string[];
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  readonly initialResourceVersions: Readonly<Record<string, string>>;
  readonly responseNonce: string;
  readonly error: { code: number; message: string } | undefined;
  readonly nodeId: string | undefined;
}

interface Stored { readonly name: string; readonly bytes: Uint8Array; readonly version: string }

export class XdsTestServer {
  readonly requests: RecordedRequest[] = [];
  /** Responses sent, by stream: type, version/nonce, names. */
  readonly responses: { stream: number; kind: Kind; nonce: string; version: string; names: string[]; removed: string[] }[] = [];
  readonly #resources = new Map<Kind, Map<string, Stored>>();
  readonly #versions = new Map<Kind, number>();
  readonly #pushers = new Set<(k: Kind) => void>();
  #server: grpc.Server | undefined;
  #streams = 0;
  #open = 0;

  private constructor(readonly port: number) {
    for (const k of Object.keys(SCHEMA) as Kind[]) { this.#resources.set(k, new Map()); this.#versions.set(k, 0); }
  }

  /** Starts a server on `port` (0: any free one). */
  static async start(port = 0): Promise<XdsTestServer> {
    const s = new XdsTestServer(port);
    const bound = await s.#listen(port);
    (s as { port: number }).port = bound;
    return s;
  }

  /** Streams open now. */
  get openStreams(): number { return this.#open; }

  /** Replaces every resource of `kind` with `messages` and pushes the change to every proxy. */
  set(kind: Kind, messages: readonly Message[]): void {
    const map = new Map<string, Stored>();
    for (const m of messages) {
      const bytes = toBinary(SCHEMA[kind], m);
      const name = (m as unknown as { name?: string; clusterName?: string }).name ?? (m as unknown as { clusterName: string }).clusterName;
      map.set(name, { name, bytes, version: createHash('sha256').update(bytes).digest('hex').slice(0, 12) });
    }
    this.#resources.set(kind, map);
    this.#versions.set(kind, this.#versions.get(kind)! + 1);
    for (const p of this.#pushers) p(kind);
  }

  /** The first request (from index `from`) matching `pred`, waiting for it. */
  waitForRequest(what: string, pred: (r: RecordedRequest) => boolean, from = 0, timeoutMs = 15_000): Promise<RecordedRequest> {
    return eventually(what, () => this.requests.slice(from).find(pred), timeoutMs);
  }

  version(kind: Kind): string { return `v${this.#versions.get(kind)}`; }

  /** Kills the server: every stream is cut at once (the proxy must keep serving and reconnect). */
  kill(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
    this.#pushers.clear();
    this.#open = 0;
  }

  /** Starts again on the same port, with the resources it had. */
  async restart(): Promise<void> {
    await this.#listen(this.port);
  }

  async stop(): Promise<void> { this.kill(); }

  #listen(port: number): Promise<number> {
    const server = new grpc.Server();
    const method = <Req, Res>(name: string, reqSchema: DescMessage, resSchema: DescMessage): grpc.MethodDefinition<Req, Res> => ({
      path: `/envoy.service.discovery.v3.AggregatedDiscoveryService/${name}`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (m: Req) => Buffer.from(toBinary(reqSchema, m as Message)),
      requestDeserialize: (b: Buffer) => fromBinary(reqSchema, b) as Req,
      responseSerialize: (m: Res) => Buffer.from(toBinary(resSchema, m as Message)),
      responseDeserialize: (b: Buffer) => fromBinary(resSchema, b) as Res,
    });
    server.addService({
      StreamAggregatedResources: method<DiscoveryRequest, DiscoveryResponse>('StreamAggregatedResources', DiscoveryRequestSchema, DiscoveryResponseSchema),
      DeltaAggregatedResources: method<DeltaDiscoveryRequest, DeltaDiscoveryResponse>('DeltaAggregatedResources', DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema),
    }, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.#sotw(call),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => this.#delta(call),
    });
    this.#server = server;
    return new Promise((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  }

  #sotw(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    const id = ++this.#streams;
    this.#open++;
    let nonce = 0;
    const subs = new Map<Kind, Set<string> | '*'>();
    const send = (kind: Kind): void => {
      const sub = subs.get(kind);
      if (!sub) return;
      const all = [...this.#resources.get(kind)!.values()].filter((r) => sub === '*' || sub.has(r.name));
      const n = String(++nonce);
      this.responses.push({ stream: id, kind, nonce: n, version: this.version(kind), names: all.map((r) => r.name), removed: [] });
      call.write(create(DiscoveryResponseSchema, {
        versionInfo: this.version(kind), typeUrl: TYPE_URL[kind], nonce: n,
        resources: all.map((r) => ({ $typeName: 'google.protobuf.Any' as const, typeUrl: TYPE_URL[kind], value: r.bytes })),
      }));
    };
    const pusher = (k: Kind): void => send(k);
    this.#pushers.add(pusher);
    const end = (): void => { if (this.#pushers.delete(pusher)) this.#open--; };
    call.on('data', (r: DiscoveryRequest) => {
      const kind = KIND_OF.get(r.typeUrl);
      this.requests.push({
        delta: false, stream: id, kind, typeUrl: r.typeUrl, versionInfo: r.versionInfo, resourceNames: r.resourceNames, subscribe: [], unsubscribe: [],
        initialResourceVersions: {}, responseNonce: r.responseNonce, error: r.errorDetail ? { code: r.errorDetail.code, message: r.errorDetail.message } : undefined, nodeId: r.node?.id,
      });
      if (!kind) return;
      const names: Set<string> | '*' = WILDCARD_KINDS.has(kind) && r.resourceNames.length === 0 ? '*' : new Set(r.resourceNames);
      const prev = subs.get(kind);
      subs.set(kind, names);
      const changed = !prev || prev === '*' !== (names === '*') || (prev !== '*' && names !== '*' && (prev.size !== names.size || [...names].some((n) => !prev.has(n))));
      if (changed || (!r.errorDetail && r.versionInfo !== this.version(kind))) send(kind);
    });
    call.on('end', () => { end(); call.end(); });
    call.on('error', end);
    call.on('cancelled', end);
  }

  #delta(call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>): void {
    const id = ++this.#streams;
    this.#open++;
    let nonce = 0;
    const subs = new Map<Kind, Set<string> | '*'>();
    const known = new Map<Kind, Map<string, string>>();
    const send = (kind: Kind): void => {
      const sub = subs.get(kind);
      const has = known.get(kind);
      if (!sub || !has) return;
      const current = this.#resources.get(kind)!;
      const changed = [...current.values()].filter((r) => (sub === '*' || sub.has(r.name)) && has.get(r.name) !== r.version);
      const removed = [...has.keys()].filter((n) => !current.has(n) && (sub === '*' || sub.has(n)));
      if (changed.length === 0 && removed.length === 0) return;
      for (const r of changed) has.set(r.name, r.version);
      for (const n of removed) has.delete(n);
      const n = String(++nonce);
      this.responses.push({ stream: id, kind, nonce: n, version: this.version(kind), names: changed.map((r) => r.name), removed });
      call.write(create(DeltaDiscoveryResponseSchema, {
        systemVersionInfo: this.version(kind), typeUrl: TYPE_URL[kind], nonce: n, removedResources: removed,
        resources: changed.map((r) => create(ResourceSchema, { name: r.name, version: r.version, resource: anyPackRaw(kind, r.bytes) })),
      }));
    };
    const pusher = (k: Kind): void => send(k);
    this.#pushers.add(pusher);
    const end = (): void => { if (this.#pushers.delete(pusher)) this.#open--; };
    call.on('data', (r: DeltaDiscoveryRequest) => {
      const kind = KIND_OF.get(r.typeUrl);
      this.requests.push({
        delta: true, stream: id, kind, typeUrl: r.typeUrl, versionInfo: '', resourceNames: [], subscribe: r.resourceNamesSubscribe, unsubscribe: r.resourceNamesUnsubscribe,
        initialResourceVersions: r.initialResourceVersions, responseNonce: r.responseNonce, error: r.errorDetail ? { code: r.errorDetail.code, message: r.errorDetail.message } : undefined, nodeId: r.node?.id,
      });
      if (!kind) return;
      let sub = subs.get(kind);
      if (!sub) {
        // The first request of a type: an empty subscription is the (legacy) wildcard.
        sub = r.resourceNamesSubscribe.length === 0 || r.resourceNamesSubscribe.includes('*') ? '*' : new Set();
        known.set(kind, new Map(Object.entries(r.initialResourceVersions)));
      }
      if (sub !== '*') {
        for (const n of r.resourceNamesSubscribe) sub.add(n);
        for (const n of r.resourceNamesUnsubscribe) { sub.delete(n); known.get(kind)!.delete(n); }
      }
      subs.set(kind, sub);
      if (!r.errorDetail) send(kind);
    });
    call.on('end', () => { end(); call.end(); });
    call.on('error', end);
    call.on('cancelled', end);
  }
}

function anyPackRaw(kind: Kind, bytes: Uint8Array) {
  return { $typeName: 'google.protobuf.Any' as const, typeUrl: TYPE_URL[kind], value: bytes };
}

