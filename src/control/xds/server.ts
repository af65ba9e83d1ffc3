import * as grpc from '@grpc/grpc-js';
import { toJson, type JsonValue } from '@bufbuild/protobuf';
import { identityOf, type ProxyIdentity } from '../../envoy/node-metadata.js';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import type { Node } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { adsServiceDefinition } from './grpc-service.js';
import { framedWrites, FramedMessage } from './framed.js';
import { newCounters, xdsTypeLabel, type XdsCounters } from './counters.js';
import { DEFAULT_DEBOUNCE, PushQueue, type DebounceOptions } from './push-queue.js';
import { PushThrottle } from './push-throttle.js';
import { buildSnapshot, isServedType, type Snapshot } from './snapshot.js';
import type { ResourceSource } from './source.js';
import type { ResourceScope } from '../translate/types.js';
import type { AdsStream, StreamContext } from './stream.js';
import { SotwStream } from './sotw-stream.js';
import { DeltaStream } from './delta-stream.js';
import type { ProxyStatus } from './sync-status.js';

export interface AdsServerOptions {
  /** Debounce of push(): quiet period and longest delay, in ms (default 100 / 1000). */
  readonly debounce?: Partial<DebounceOptions>;
  /**
   * Most proxies a push writes to at once; the others wait until one's response is flushed to
   * its socket (default 100, like istiod's PILOT_PUSH_THROTTLE).
   */
  readonly pushConcurrency?: number;
  /** Where NACKs and generate() errors are reported (default: stderr). */
  readonly log?: (line: string) => void;
  /**
   * Checks a new stream's node against the client certificate it presented over mutual TLS
   * (undefined: none); a reason ends the stream with PERMISSION_DENIED.
   */
  readonly authorize?: (identity: ProxyIdentity, peerCertificate: Uint8Array | undefined) => string | undefined;
}

type Listener = (identity: ProxyIdentity, id: string) => void;
/** A proxy ACKed `version` of `typeUrl` at `at` (performance.now() ms). */
type AckListener = (id: string, typeUrl: string, version: string, at: number) => void;

/**
 * The control plane's ADS server: serves each connected proxy the resources `source` generates
 * for it, over SotW and Delta streams, and pushes changes when told to (`push`).
 */
export class AdsServer {
  readonly counters: XdsCounters = newCounters();
  /** The last error of generate()/shapeKey(); the affected proxies kept their previous resources. */
  lastPushError: { readonly message: string; readonly at: Date } | undefined;
  /** The last push: how many shapes it generated and how long generating and serializing took (ms). */
  lastPush: { readonly shapes: number; readonly buildMs: number } | undefined;
  readonly #source: ResourceSource;
  readonly #log: (line: string) => void;
  readonly #queue: PushQueue;
  readonly #streams = new Map<string, AdsStream>();
  /** The current snapshot of every shape with a connected proxy. */
  #shapes = new Map<string, Snapshot>();
  readonly #onConnect = new Set<Listener>();
  readonly #onDisconnect = new Set<Listener>();
  readonly #onAck = new Set<AckListener>();
  #grpc: grpc.Server[] = [];
  readonly #onConverged = new Set<(id: string, ms: number) => void>();
  /** Streams a push sent something to and that have not ACKed all of it yet: when the push started. */
  readonly #pushStartedAt = new WeakMap<AdsStream, number>();
  readonly #ctx: StreamContext;
  readonly #throttle: PushThrottle<AdsStream>;
  readonly #authorize: AdsServerOptions['authorize'];
  /** Whether responses go to grpc-js already framed (see framed.ts). */
  readonly #framed = framedWrites();
  /** What the pending push must regenerate: the widest scope of the push() calls it gathers. */
  #pendingScope: ResourceScope | undefined;
  /**
   * Shapes whose last generation failed: they serve an older snapshot, whose clusters may predate
   * changes since, so their next push regenerates everything whatever its scope.
   */
  readonly #failedShapes = new Set<string>();

  constructor(source: ResourceSource, opts: AdsServerOptions = {}) {
    this.#source = source;
    this.#log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#authorize = opts.authorize;
    this.#throttle = new PushThrottle(Math.max(1, opts.pushConcurrency ?? 100));
    this.#queue = new PushQueue((reasons) => this.#runPush(reasons), { ...DEFAULT_DEBOUNCE, ...opts.debounce });
    this.#ctx = {
      counters: this.counters,
      now: () => new Date(),
      onNack: (s, type, message) => {
        const byType = this.counters.nacksByType;
        const label = xdsTypeLabel(type);
        byType[label] = (byType[label] ?? 0) + 1;
        this.#log(`xds: NACK from ${s.id} for ${type}: ${message}`);
      },
      onAck: (s, type, version) => {
        const at = performance.now();
        const started = this.#pushStartedAt.get(s);
        if (started !== undefined && s.allAcked()) {
          this.#pushStartedAt.delete(s);
          for (const fn of this.#onConverged) this.#safely(() => fn(s.id, at - started));
        }
        if (this.#onAck.size === 0) return;
        for (const fn of this.#onAck) this.#safely(() => fn(s.id, type, version, at));
      },
    };
  }

  /**
   * Starts serving on host:port (0 = any free port); resolves with the bound port. Called again
   * for a second port (the TLS one): `credentials` (default plaintext) and `configure` (more
   * services on the same server, e.g. the CA's) are per port.
   */
  listen(host: string, port: number, opts: { credentials?: grpc.ServerCredentials; configure?: (server: grpc.Server) => void } = {}): Promise<number> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
    server.addService(adsServiceDefinition(), {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse | Uint8Array | FramedMessage>) => {
        const sotw: SotwStream = new SotwStream(this.#ctx, (res) => this.#write(call, sotw, res));
        this.#serve(call, sotw);
      },
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse | Uint8Array | FramedMessage>) => {
        const delta: DeltaStream = new DeltaStream(this.#ctx, (res) => this.#write(call, delta, res));
        this.#serve(call, delta);
      },
    });
    opts.configure?.(server);
    this.#grpc.push(server);
    const addr = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      server.bindAsync(addr, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, bound) => err ? reject(err) : resolve(bound));
    });
  }

  async close(): Promise<void> {
    this.#queue.close();
    const servers = this.#grpc;
    this.#grpc = [];
    for (const server of servers) server.forceShutdown();
  }

  /**
   * A config or registry change: the resources of every proxy are recomputed (debounced).
   * `routing`: the change can only alter listeners and routes (see scopeOfChange), so clusters
   * and endpoints are kept from the last push instead of generated and serialized again;
   * `endpoints`: only clusters and endpoints (scopeOfChanges), listeners and routes are kept.
   */
  push(reason: string, scope: ResourceScope = 'all'): void {
    this.counters.pushRequests++;
    // Pushes of different narrow scopes gathered into one regenerate everything.
    this.#pendingScope = this.#pendingScope === undefined || this.#pendingScope === scope ? scope : 'all';
    this.#queue.enqueue(reason);
  }

  /** Runs a pending push now instead of after the debounce. */
  flush(): void {
    this.#queue.flush();
  }

  get connectedClients(): number {
    return this.#streams.size;
  }

  onConnect(fn: Listener): () => void { this.#onConnect.add(fn); return () => this.#onConnect.delete(fn); }
  onDisconnect(fn: Listener): () => void { this.#onDisconnect.add(fn); return () => this.#onDisconnect.delete(fn); }
  /** Every ACK (for convergence metrics, like Istio's pilot_proxy_convergence_time). */
  onAck(fn: AckListener): () => void { this.#onAck.add(fn); return () => this.#onAck.delete(fn); }
  /**
   * A proxy ACKed everything a push sent it: `ms` from the start of that push (Istio's
   * pilot_proxy_convergence_time). A push that finds the proxy still converging on the previous
   * one keeps the earlier start.
   */
  onConverged(fn: (id: string, ms: number) => void): () => void { this.#onConverged.add(fn); return () => this.#onConverged.delete(fn); }

  status(): ProxyStatus[] {
    return [...this.#streams.values()].map((s) => s.status());
  }

  /**
   * What proxy `proxyId` (a status() id) currently has of `typeUrl`, as proto3 JSON; undefined
   * if no such proxy is connected.
   */
  async sentResources(proxyId: string, typeUrl: string): Promise<JsonValue[] | undefined> {
    const s = this.#streams.get(proxyId);
    if (!s) return undefined;
    if (!isServedType(typeUrl)) return [];
    const { envoyRegistry } = await import('../../envoy/full-registry.js');
    return s.sentResources(typeUrl).map((r) => toJson(r.schema, r.message, { registry: envoyRegistry }));
  }

  /**
   * Streams of a shape get the same response object in a push: written in its frame, grpc-js
   * sends that one Buffer to each of them instead of copying it into a frame per stream.
   */
  #write(call: { write(res: Uint8Array | FramedMessage, cb: (err?: Error | null) => void): boolean }, stream: AdsStream, res: Uint8Array): void {
    this.counters.responses++;
    this.counters.responseBytes += res.byteLength;
    call.write(this.#framed ? FramedMessage.of(res) : res, this.#throttle.writing(stream));
  }

  #serve<Req extends { node?: Node | undefined }>(call: grpc.ServerDuplexStream<Req, unknown>, stream: AdsStream & { handle(req: Req): void }): void {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.#throttle.forget(stream);
      if (stream.identity && this.#streams.get(stream.id) === stream) {
        this.#streams.delete(stream.id);
        this.counters.disconnects++;
        for (const fn of this.#onDisconnect) this.#safely(() => fn(stream.identity!, stream.id));
      }
    };
    call.on('data', (req: Req) => {
      if (done) return;
      try {
        if (!stream.identity && this.#authorize) {
          const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
          const denied = this.#authorize(identityOf(req.node ? { id: req.node.id, metadata: req.node.metadata } : undefined), raw ? new Uint8Array(raw) : undefined);
          if (denied) {
            this.#log(`xds: stream refused: ${denied}`);
            finish();
            call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: denied });
            return;
          }
        }
        if (!stream.identity) this.#register(stream, req.node);
        stream.handle(req);
      } catch (err) {
        // A bug or a source failure must cost this stream, never the process. Emitting a status
        // object as 'error' is how grpc-js ends a server stream with that status.
        this.#log(`xds: stream ${stream.id || '(new)'} failed: ${(err as Error).stack ?? String(err)}`);
        finish();
        call.emit('error', { code: grpc.status.INTERNAL, details: `xds: ${(err as Error).message ?? String(err)}` });
      }
    });
    call.on('end', () => { finish(); call.end(); });
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);
  }

  #register(stream: AdsStream, node: Node | undefined): void {
    const identity = identityOf(node ? { id: node.id, metadata: node.metadata } : undefined);
    let id = identity.id || 'unknown';
    for (let n = 2; this.#streams.has(id); n++) id = `${identity.id || 'unknown'}#${n}`;
    stream.identity = identity;
    stream.id = id;
    stream.attach(this.#snapshotFor(identity) ?? buildSnapshot({ listeners: [], routes: [], clusters: [], endpoints: [] }));
    this.#streams.set(id, stream);
    this.counters.connects++;
    for (const fn of this.#onConnect) this.#safely(() => fn(identity, id));
  }

  /**
   * The snapshot of `identity`'s shape in `shapes`, generated (once per shape) if missing. When
   * generation fails, the shape keeps its snapshot from `previous` (the last good one), if any.
   */
  #snapshotFor(identity: ProxyIdentity, shapes = this.#shapes, previous: ReadonlyMap<string, Snapshot> = this.#shapes, scope: ResourceScope = 'all'): Snapshot | undefined {
    let key: string;
    try { key = this.#source.shapeKey(identity); } catch (err) { this.#failed(identity, err); return undefined; }
    if (shapes.has(key)) return shapes.get(key);
    const before = previous.get(key);
    let snap: Snapshot | undefined;
    try {
      this.counters.generates++;
      // A shape new in this push (no `before`) has nothing to keep: it is generated whole.
      snap = before && scope !== 'all' && !this.#failedShapes.has(key)
        ? buildSnapshot(this.#source.generate(identity, scope), before, scope)
        : buildSnapshot(this.#source.generate(identity), before);
      this.#failedShapes.delete(key);
    } catch (err) {
      this.#failed(identity, err);
      this.#failedShapes.add(key);
      snap = before;
    }
    if (snap) shapes.set(key, snap);
    return snap;
  }

  #failed(identity: ProxyIdentity, err: unknown): void {
    this.counters.generateErrors++;
    const message = `generating resources for ${identity.id}: ${(err as Error).message ?? String(err)}`;
    this.lastPushError = { message, at: new Date() };
    this.#log(`xds: ${message}`);
  }

  #runPush(_reasons: readonly string[]): void {
    this.counters.pushes++;
    const scope = this.#pendingScope ?? 'all';
    this.#pendingScope = undefined;
    const t0 = performance.now();
    const previous = this.#shapes;
    const next = new Map<string, Snapshot>();
    // Every shape with a connected proxy is generated once for this push; shapes nobody uses
    // any more are dropped with `previous`.
    const plan: [AdsStream, Snapshot][] = [];
    for (const stream of this.#streams.values()) {
      const snap = this.#snapshotFor(stream.identity!, next, previous, scope);
      if (snap) plan.push([stream, snap]);
    }
    this.#shapes = next;
    for (const key of this.#failedShapes) if (!next.has(key)) this.#failedShapes.delete(key);
    this.lastPush = { shapes: next.size, buildMs: performance.now() - t0 };
    for (const [stream, snap] of plan) {
      this.#throttle.enqueue(stream, () => {
        if (this.#streams.get(stream.id) !== stream) return; // gone meanwhile
        try {
          if (stream.update(snap) && !this.#pushStartedAt.has(stream)) this.#pushStartedAt.set(stream, t0);
        } catch (err) { this.#log(`xds: push to ${stream.id} failed: ${(err as Error).stack ?? String(err)}`); }
      });
    }
  }

  #safely(fn: () => void): void {
    try { fn(); } catch (err) { this.#log(`xds: listener failed: ${(err as Error).stack ?? String(err)}`); }
  }
}
