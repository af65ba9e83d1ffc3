import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { StatusSchema } from '../../envoy/generated/google/rpc/status_pb.js';
import type { Node } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import {
  DiscoveryRequestSchema, DeltaDiscoveryRequestSchema,
  type DiscoveryRequest, type DiscoveryResponse, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
} from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { log } from '../log.js';
import { Backoff } from './backoff.js';
import { decodeResource, kindOfTypeUrl, nameOf, TYPE_URLS, XdsResourceError, type MessageOf, type RawResource, type XdsKind } from './resources.js';
import type { AdsStream, StreamEvents } from './transport.js';

/** gRPC status INVALID_ARGUMENT: what Envoy puts in a NACK's error_detail. */
const INVALID_ARGUMENT = 3;

/** A resource of a response, decoded. */
export interface ReceivedResource extends RawResource {
  readonly message: MessageOf[XdsKind];
}

/** What the ADS client asks of the proxy. */
export interface AdsHandler {
  /**
   * One response of `kind`: validate everything, then apply it all or nothing. Resolves once
   * applied (the ACK follows); rejects with XdsResourceError (the NACK carries its message).
   * `replaceAll`: SotW LDS/CDS, where what is absent is removed.
   */
  onResponse(kind: XdsKind, resources: readonly ReceivedResource[], removals: readonly string[], replaceAll: boolean): Promise<void>;
  /** The names of `kind` wanted now; '*' for a wildcard subscription (LDS, CDS). Undefined: not subscribed. */
  wanted(kind: XdsKind): ReadonlySet<string> | '*' | undefined;
  /** The stream to the server came up (true) or went away (false). */
  onConnection(up: boolean): void;
  /** A response was rejected (for stats); `kind` is undefined for a type tsmesh does not know. */
  onRejected?(kind: XdsKind | undefined, error: string): void;
}

export interface AdsClientOptions {
  readonly target: string;
  readonly delta: boolean;
  readonly node: Node | undefined;
  readonly nodeOnFirstMessageOnly: boolean;
  /** Opens a stream (transport.ts's openAdsStream; tests may pass another). */
  readonly open: <Req, Res>(target: string, delta: boolean, ev: StreamEvents<Res>) => Promise<AdsStream<Req>>;
  readonly backoff?: Backoff;
}

/** Per type: what was accepted and last sent. */
interface TypeState {
  /** SotW: version_info of the last accepted response. */
  version: string;
  /** The nonce of the last response seen on the current stream. */
  nonce: string;
  /** Names last subscribed on the current stream; undefined: no request sent yet. */
  sent: ReadonlySet<string> | '*' | undefined;
  /** Delta: the version of each resource held, for initial_resource_versions on reconnect. */
  readonly versions: Map<string, string>;
}

/**
 * The Envoy side of ADS (https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol):
 * one bidi stream for every type, SotW or Delta; version_info and nonce per type; ACK after the
 * update is applied, NACK (error_detail code 3) when it is rejected; subscriptions follow what
 * the handler wants (RDS names from listeners, EDS names from clusters); on a lost stream,
 * reconnect with jittered exponential backoff and resubscribe with the versions held.
 */
export class AdsClient {
  readonly #o: AdsClientOptions;
  readonly #h: AdsHandler;
  readonly #types = new Map<XdsKind, TypeState>();
  readonly #backoff: Backoff;
  #stream: AdsStream<DiscoveryRequest | DeltaDiscoveryRequest> | undefined;
  #nodeSent = false;
  #work: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(o: AdsClientOptions, h: AdsHandler) {
    this.#o = o;
    this.#h = h;
    this.#backoff = o.backoff ?? new Backoff();
    for (const k of ['cluster', 'endpoint', 'listener', 'route'] as const) this.#types.set(k, { version: '', nonce: '', sent: undefined, versions: new Map() });
  }

  start(): void {
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#stream?.close();
  }

  /** Sends subscription changes (RDS/EDS names come and go with listeners and clusters). */
  updateSubscriptions(): void {
    const s = this.#stream;
    if (s) this.#sendSubscriptions(s);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    let stream: AdsStream<DiscoveryRequest | DeltaDiscoveryRequest> | undefined;
    const events: StreamEvents<DiscoveryResponse | DeltaDiscoveryResponse> = {
      onEstablished: () => { this.#h.onConnection(true); },
      onMessage: (m) => {
        this.#backoff.reset();
        const s = stream!;
        this.#work = this.#work.then(() => (this.#o.delta ? this.#onDelta(s, m as DeltaDiscoveryResponse) : this.#onSotw(s, m as DiscoveryResponse)))
          .catch((e: unknown) => log.error(`xds: ${(e as Error).stack ?? String(e)}`));
      },
      onClosed: (reason) => {
        if (this.#stream === stream) this.#stream = undefined;
        this.#h.onConnection(false);
        if (this.#stopped) return;
        const wait = this.#backoff.next();
        log.warn(`xds: stream to ${this.#o.target} closed (${reason}); reconnecting in ${wait} ms`);
        this.#timer = setTimeout(() => void this.#connect(), wait);
      },
    };
    try {
      stream = await this.#o.open(this.#o.target, this.#o.delta, events);
    } catch (e) {
      events.onClosed((e as Error).message);
      return;
    }
    this.#stream = stream;
    this.#nodeSent = false;
    for (const t of this.#types.values()) { t.nonce = ''; t.sent = undefined; }
    this.#sendSubscriptions(stream);
  }

  /** First requests of a stream and later subscription changes, CDS before EDS, LDS before RDS. */
  #sendSubscriptions(s: AdsStream<DiscoveryRequest | DeltaDiscoveryRequest>): void {
    for (const kind of ['cluster', 'listener', 'endpoint', 'route'] as const) {
      const want = this.#h.wanted(kind);
      const t = this.#types.get(kind)!;
      if (want === undefined) continue;
      if (t.sent === undefined && want !== '*' && want.size === 0) continue;
      if (t.sent !== undefined && sameNames(t.sent, want)) continue;
      if (want !== '*') for (const n of t.versions.keys()) if (!want.has(n)) t.versions.delete(n);
      if (this.#o.delta) {
        const prev = t.sent;
        const first = prev === undefined;
        const subscribe = want === '*' ? [] : [...want].filter((n) => first || prev === '*' || !prev.has(n)).sort();
        const unsubscribe = want === '*' || first || prev === '*' ? [] : [...prev].filter((n) => !want.has(n)).sort();
        if (!first && subscribe.length === 0 && unsubscribe.length === 0) { t.sent = want; continue; }
        s.send(create(DeltaDiscoveryRequestSchema, {
          node: this.#node(),
          typeUrl: TYPE_URLS[kind],
          resourceNamesSubscribe: subscribe,
          resourceNamesUnsubscribe: unsubscribe,
          initialResourceVersions: first ? Object.fromEntries(t.versions) : {},
          responseNonce: first ? '' : t.nonce,
        }));
      } else {
        s.send(create(DiscoveryRequestSchema, {
          node: this.#node(),
          versionInfo: t.version,
          resourceNames: want === '*' ? [] : [...want].sort(),
          typeUrl: TYPE_URLS[kind],
          responseNonce: t.nonce,
        }));
      }
      t.sent = want === '*' ? '*' : new Set(want);
    }
  }

  #node(): Node | undefined {
    if (this.#o.nodeOnFirstMessageOnly && this.#nodeSent) return undefined;
    this.#nodeSent = true;
    return this.#o.node;
  }

  async #onSotw(s: AdsStream<DiscoveryRequest | DeltaDiscoveryRequest>, r: DiscoveryResponse): Promise<void> {
    const kind = kindOfTypeUrl(r.typeUrl);
    const t = kind && this.#types.get(kind);
    if (t) t.nonce = r.nonce;
    const reply = (error?: string): void => {
      if (this.#stream !== s) return;
      s.send(create(DiscoveryRequestSchema, {
        node: this.#node(),
        versionInfo: t?.version ?? '',
        resourceNames: t?.sent === undefined || t.sent === '*' ? [] : [...t.sent].sort(),
        typeUrl: r.typeUrl,
        responseNonce: r.nonce,
        errorDetail: error === undefined ? undefined : create(StatusSchema, { code: INVALID_ARGUMENT, message: error }),
      }));
    };
    if (!kind || !t) { this.#h.onRejected?.(undefined, `unknown type ${r.typeUrl}`); reply(`tsmesh does not subscribe to ${r.typeUrl}`); return; }
    const want = this.#h.wanted(kind);
    try {
      const resources = r.resources.map((a) => received(kind, a, r.versionInfo)).filter((x) => want === '*' || want?.has(x.name));
      await this.#h.onResponse(kind, resources, [], want === '*');
      t.version = r.versionInfo;
      reply();
      log.debug(`xds: ACK ${kind} version ${r.versionInfo}`);
    } catch (e) {
      const msg = rejection(e);
      log.warn(`xds: NACK ${kind} version ${r.versionInfo}: ${msg}`);
      this.#h.onRejected?.(kind, msg);
      reply(msg);
    }
    this.#sendSubscriptions(s);
  }

  async #onDelta(s: AdsStream<DiscoveryRequest | DeltaDiscoveryRequest>, r: DeltaDiscoveryResponse): Promise<void> {
    const kind = kindOfTypeUrl(r.typeUrl);
    const t = kind && this.#types.get(kind);
    if (t) t.nonce = r.nonce;
    const reply = (error?: string): void => {
      if (this.#stream !== s) return;
      s.send(create(DeltaDiscoveryRequestSchema, {
        node: this.#node(),
        typeUrl: r.typeUrl,
        responseNonce: r.nonce,
        errorDetail: error === undefined ? undefined : create(StatusSchema, { code: INVALID_ARGUMENT, message: error }),
      }));
    };
    if (!kind || !t) { this.#h.onRejected?.(undefined, `unknown type ${r.typeUrl}`); reply(`tsmesh does not subscribe to ${r.typeUrl}`); return; }
    try {
      const resources = r.resources.filter((x) => x.resource).map((x) => received(kind, x.resource!, x.version, x.name));
      await this.#h.onResponse(kind, resources, r.removedResources, false);
      for (const n of r.removedResources) t.versions.delete(n);
      for (const x of resources) t.versions.set(x.name, x.version);
      reply();
      log.debug(`xds: ACK ${kind} nonce ${r.nonce}`);
    } catch (e) {
      const msg = rejection(e);
      log.warn(`xds: NACK ${kind} nonce ${r.nonce}: ${msg}`);
      this.#h.onRejected?.(kind, msg);
      reply(msg);
    }
    this.#sendSubscriptions(s);
  }
}

function received(kind: XdsKind, any: Any, version: string, expectName?: string): ReceivedResource {
  if (any.typeUrl !== TYPE_URLS[kind]) throw new XdsResourceError(kind, expectName ?? '', '', `expected ${TYPE_URLS[kind]}, got ${any.typeUrl}`);
  let message: MessageOf[XdsKind];
  try {
    message = decodeResource(kind, any.value);
  } catch (e) {
    throw new XdsResourceError(kind, expectName ?? '', '', `cannot decode: ${(e as Error).message}`);
  }
  const name = nameOf(kind, message);
  if (!name) throw new XdsResourceError(kind, expectName ?? '', kind === 'endpoint' ? 'cluster_name' : 'name', 'required');
  if (expectName !== undefined && expectName !== name) throw new XdsResourceError(kind, expectName, kind === 'endpoint' ? 'cluster_name' : 'name', `differs from the Resource's name (${JSON.stringify(name)})`);
  // A copy: the decoded response's bytes are views into the whole message, which a held
  // resource must not pin (nor a worker message clone whole).
  return { name, version, bytes: any.value.slice(), message };
}

function rejection(e: unknown): string {
  if (e instanceof XdsResourceError) return e.message;
  return `internal error: ${(e as Error).message}`;
}

function sameNames(a: ReadonlySet<string> | '*', b: ReadonlySet<string> | '*'): boolean {
  if (a === '*' || b === '*') return a === b;
  return a.size === b.size && [...a].every((n) => b.has(n));
}
