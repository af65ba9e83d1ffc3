import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  DiscoveryRequestSchema, DiscoveryResponseSchema, DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema,
  type DiscoveryRequest, type DiscoveryResponse, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
} from '../../envoy/generated/envoy/service/discovery/v3/discovery_pb.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

/** One ADS stream's protocol: State of the World or Delta (incremental). */
export type AdsProtocol =
  | { readonly delta: false; request: DiscoveryRequest; response: DiscoveryResponse }
  | { readonly delta: true; request: DeltaDiscoveryRequest; response: DeltaDiscoveryResponse };

export interface StreamEvents<Res> {
  /** The server answered the call (headers or a first message): the stream is up. */
  onEstablished(): void;
  onMessage(m: Res): void;
  /** The stream ended, for whatever reason; called once. */
  onClosed(reason: string): void;
}

/** An open ADS call. `send` after close is ignored. */
export interface AdsStream<Req> {
  send(m: Req): void;
  close(): void;
}

type Grpc = typeof import('@grpc/grpc-js');

/**
 * TLS for the ADS channel (a sidecar that joined with a token): asked for on every new stream,
 * so a reconnect presents the current (renewed) certificate while an open stream keeps its own.
 */
export type AdsTls = () => Promise<{ credentials: import('@grpc/grpc-js').ChannelCredentials; options: Record<string, string | number> }>;
let grpcModule: Promise<Grpc> | undefined;

/**
 * Opens `StreamAggregatedResources` or `DeltaAggregatedResources` to `target` (host:port,
 * plaintext HTTP/2, or TLS with `tls`). @grpc/grpc-js is loaded on first use, so a static proxy never pays for it.
 * A channel per stream: reconnecting is the caller's backoff, not the channel's.
 */
/**
 * The HTTP/2 receive window (stream and connection) the ADS client advertises: Envoy's default
 * for its gRPC streams (Http2ProtocolOptions initial_stream_window_size and
 * initial_connection_window_size, 256 MiB). HTTP/2's own 64 KiB would cost a round trip per
 * 64 KiB of a route table to a busy client (a mesh of 500 services sends ~300 KiB at once).
 */
export const ADS_FLOW_CONTROL_WINDOW = 256 * 1024 * 1024;

export async function openAdsStream<Req, Res>(target: string, delta: boolean, ev: StreamEvents<Res>, tls?: AdsTls): Promise<AdsStream<Req>> {
  const grpc = await (grpcModule ??= import('@grpc/grpc-js'));
  const secure = tls ? await tls() : undefined;
  // No HTTP/2 keepalive pings: servers enforce a minimum ping interval (grpc-go: 5 min by
  // default) and answer pings more frequent than that with GOAWAY.
  const client = new grpc.Client(target, secure?.credentials ?? grpc.credentials.createInsecure(), {
    ...secure?.options,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc-node.flow_control_window': ADS_FLOW_CONTROL_WINDOW,
  });
  const path = delta ? `${SERVICE}/DeltaAggregatedResources` : `${SERVICE}/StreamAggregatedResources`;
  const serialize = (m: Req): Buffer => Buffer.from(delta ? toBinary(DeltaDiscoveryRequestSchema, m as DeltaDiscoveryRequest) : toBinary(DiscoveryRequestSchema, m as DiscoveryRequest));
  const deserialize = (b: Buffer): Res => (delta ? fromBinary(DeltaDiscoveryResponseSchema, b) : fromBinary(DiscoveryResponseSchema, b)) as Res;
  const call = client.makeBidiStreamRequest<Req, Res>(path, serialize, deserialize);
  let closed = false;
  let established = false;
  const establish = (): void => { if (!established && !closed) { established = true; ev.onEstablished(); } };
  const finish = (reason: string): void => {
    if (closed) return;
    closed = true;
    call.removeAllListeners('data');
    call.on('error', () => {});
    call.cancel();
    client.close();
    ev.onClosed(reason);
  };
  // Up once the HTTP/2 connection carrying the call is (as Envoy's connected_state: a server
  // need not answer before it has something to send, e.g. a Delta resubscription with nothing new).
  const channel = client.getChannel();
  const watch = (): void => {
    if (closed) return;
    const state = channel.getConnectivityState(true);
    if (state === grpc.connectivityState.READY) { establish(); return; }
    channel.watchConnectivityState(state, Date.now() + 60_000, watch);
  };
  watch();
  call.on('metadata', establish);
  call.on('data', (m: Res) => { if (closed) return; establish(); ev.onMessage(m); });
  call.on('error', (e: Error) => finish(e.message));
  call.on('end', () => finish('stream ended by the server'));
  call.on('status', (s: { code: number; details: string }) => finish(`status ${s.code}: ${s.details}`));
  return {
    send: (m) => { if (!closed) call.write(m); },
    close: () => finish('closed'),
  };
}
