import * as grpc from '@grpc/grpc-js';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  DeltaDiscoveryRequestSchema, DiscoveryRequestSchema,
  type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse,
} from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { adsServiceDefinition, DELTA_PATH, SOTW_PATH } from '../../../src/control/xds/grpc-service.js';
import { nodeOf, type ProxyIdentity } from '../../../src/envoy/node-metadata.js';

/**
 * A real gRPC ADS client (grpc-js, generic client, the same serializers as the server) that
 * queues what it receives, for protocol tests over loopback.
 */
export class AdsTestClient<Req, Res> {
  readonly received: Res[] = [];
  #waiters: (() => void)[] = [];
  ended: Error | undefined;

  private constructor(private readonly client: grpc.Client, private readonly call: grpc.ClientDuplexStream<Req, Res>, private readonly build: (init: object) => Req) {
    call.on('data', (res: Res) => { this.received.push(res); this.#wake(); });
    call.on('error', (err: Error) => { this.ended = err; this.#wake(); });
    call.on('end', () => { this.ended ??= new Error('stream ended'); this.#wake(); });
  }

  static sotw(port: number): AdsTestClient<DiscoveryRequest, DiscoveryResponse> {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const def = adsServiceDefinition().StreamAggregatedResources;
    const call = client.makeBidiStreamRequest(SOTW_PATH, def.requestSerialize, def.responseDeserialize);
    return new AdsTestClient(client, call, (init) => create(DiscoveryRequestSchema, init as MessageInitShape<typeof DiscoveryRequestSchema>));
  }

  static delta(port: number): AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const def = adsServiceDefinition().DeltaAggregatedResources;
    const call = client.makeBidiStreamRequest(DELTA_PATH, def.requestSerialize, def.responseDeserialize);
    return new AdsTestClient(client, call, (init) => create(DeltaDiscoveryRequestSchema, init as MessageInitShape<typeof DeltaDiscoveryRequestSchema>));
  }

  send(init: Req extends DiscoveryRequest ? MessageInitShape<typeof DiscoveryRequestSchema> : MessageInitShape<typeof DeltaDiscoveryRequestSchema>): void {
    this.call.write(this.build(init));
  }

  /** The next response not yet taken; fails after `ms` (generous: a loaded machine is slow). */
  async next(ms = 10_000): Promise<Res> {
    const deadline = Date.now() + ms;
    while (this.received.length === 0) {
      if (this.ended) throw this.ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${ms} ms`);
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); this.#waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
    return this.received.shift()!;
  }

  /** Asserts nothing more arrives for `ms` (used only to show something is NOT sent). */
  async none(ms = 400): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.received.length > 0) throw new Error(`unexpected response: ${JSON.stringify(this.received[0], (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? `<${v.length} bytes>` : v)}`);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const fn of w) fn();
  }
}

export function testNode(name: string, extra: Partial<Omit<ProxyIdentity, 'id'>> = {}): ReturnType<typeof nodeOf> {
  return nodeOf({ name, namespace: 'default', labels: { app: name }, serviceAccount: 'default', ips: ['10.0.0.1'], generator: 'sidecar', appPorts: [8080], ...extra });
}
