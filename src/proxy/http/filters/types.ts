import type { Any } from '@bufbuild/protobuf/wkt';
import type { HttpFilter } from '../../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { HeaderMap } from '../headers.js';
import type { RequestHeaders } from '../stream.js';
import type { RouteSelection } from '../route/route-table.js';
import type { ConnectionInfo } from '../conn-manager/connection-info.js';
import type { InstanceShared } from '../../shared/context.js';
import type { StatScope } from '../../stats-scope.js';
import type { StatScopes } from '../../stat-scopes.js';
import type { ClusterManager } from '../../upstream/cluster-manager.js';
import type { JsonObject } from '@bufbuild/protobuf';
import type { LocalNode } from '../../istio-stats/local-node.js';

/** What a decoder filter tells the chain after seeing the request head. */
export type FilterHeadersStatus = 'continue' | 'stop';
/** What an encoder filter tells the chain after seeing response body or trailers. */
export type FilterDataStatus = 'continue' | 'stop';

/** A local reply a filter asks for (Envoy's sendLocalReply). */
export interface LocalReplyOptions {
  /** Extra response headers (e.g. x-envoy-ratelimited). */
  readonly headers?: readonly (readonly [string, string])[];
  /** For gRPC requests: answer 200 with this grpc-status (trailers-only), as Envoy does. */
  readonly grpcStatus?: number;
  /** Response flags to add (ResponseFlag bits). */
  readonly flags?: number;
}

/** What a filter can read of its stream, complete by onDestroy (part of Envoy's StreamInfo). */
export interface StreamInfo {
  /** The response status sent downstream; 0 when none was. */
  readonly status: number;
  /** Request body bytes from downstream. */
  readonly bytesReceived: number;
  /** Response body bytes to downstream. */
  readonly bytesSent: number;
  /** ResponseFlag bits. */
  readonly flags: number;
  readonly isGrpc: boolean;
  readonly responseHeaders: HeaderMap | undefined;
  readonly responseTrailers: HeaderMap | undefined;
  /** The cluster the router sent the request to, once it has. */
  readonly upstreamCluster: { readonly name: string } | undefined;
  /** The URI SANs of the upstream TLS connection's certificates (its and ours), once the router has one. */
  readonly upstreamTlsPrincipals?: { readonly peer: string | undefined; readonly local: string | undefined } | undefined;
  /** Milliseconds since the stream started; once it is finished (onDestroy), its duration. */
  elapsedMs(): number;
}

/** What a filter instance can do to its stream. */
export interface HttpFilterCallbacks {
  /** What the stream has done so far (read it in onDestroy for the final values). */
  readonly stream: StreamInfo;
  /** The selected route (undefined when none matched: filters still run, as in Envoy). */
  readonly route: RouteSelection | undefined;
  readonly conn: ConnectionInfo;
  /**
   * The client's IP address as the connection manager trusts it: the peer, or an
   * x-forwarded-for entry under use_remote_address / xff_num_trusted_hops (Envoy's downstream
   * remote address).
   */
  readonly downstreamAddress: string;
  /** Resumes the chain after a filter returned 'stop' (from a timer, say). */
  continueDecoding(): void;
  /** Answers the request from the proxy; the rest of the chain and the router do not run. */
  sendLocalReply(status: number, body: string, details: string, opts?: LocalReplyOptions): void;
  /** Adds response flags (ResponseFlag bits) for the access log. */
  addResponseFlags(flags: number): void;
  /** This filter's per-route config (typed_per_filter_config) for the selected route, most specific first. */
  perRouteConfig<T>(): T | undefined;
  /** Every level's per-route config for this filter, most specific first (route, virtual host). */
  perRouteConfigs<T>(): T[];
  /** Whether the stream is finished (reset or answered): a timer firing late must do nothing. */
  readonly finished: boolean;
  /** Sends response body on to the filters after this one and the client (after encodeData said 'stop'). */
  injectEncodedData(chunk: Buffer, endStream: boolean): void;
  /** Lets response trailers this filter held (encodeTrailers said 'stop') go on. */
  continueEncoding(): void;
  /**
   * The filter holds more response than the buffer limit (true): the upstream is paused, as for a
   * slow client; false once it drained below the low watermark.
   */
  setResponseOverLimit(over: boolean): void;
  /** The stream's dynamic metadata of one namespace (a filter's name); undefined when none was set. */
  dynamicMetadata(namespace: string): JsonObject | undefined;
  /** Merges `fields` into the namespace's dynamic metadata (Envoy's setDynamicMetadata). */
  setDynamicMetadata(namespace: string, fields: JsonObject): void;
  /** Selects the route again for the request as it is now (a filter changed its headers); `route` then gives the new one. */
  clearRouteCache(): void;
}

/**
 * One filter's work on one stream. Only the request head can be stopped: request body that
 * arrives while a filter holds the stream is buffered by the connection manager (within the
 * buffer limit, then the downstream is paused) and replayed on continue.
 */
export interface HttpStreamFilter {
  decodeHeaders(req: RequestHeaders, endStream: boolean): FilterHeadersStatus;
  /** Called with the response head before it goes downstream, local replies included. */
  encodeHeaders?(status: number, headers: HeaderMap): void;
  /**
   * Response body from upstream on its way downstream (local replies do not pass here). 'stop'
   * keeps the chunk: the filter sends it on later with injectEncodedData; the stream is not
   * finished before the end of the body has gone on.
   */
  encodeData?(chunk: Buffer, endStream: boolean): FilterDataStatus;
  /** Response trailers; 'stop' holds them until the filter calls continueEncoding. */
  encodeTrailers?(trailers: HeaderMap): FilterDataStatus;
  /** The stream is done (complete or reset): cancel timers. */
  onDestroy?(): void;
}

/** What a filter gets when a thread builds its runtime from the compiled config. */
export interface FilterRuntimeContext {
  /** HCM stat_prefix scope (`http.<stat_prefix>.`): filters add their own prefix. */
  readonly httpScope: StatScope;
  /** The HCM's stat_prefix itself (fault stats per downstream cluster are named under it). */
  readonly statPrefix: string;
  /**
   * The thread's stat scopes, for filters whose stats Envoy names outside `http.<prefix>.`
   * (local_ratelimit: `<its stat_prefix>.http_local_rate_limit.`).
   */
  readonly scopes: StatScopes;
  readonly shared: InstanceShared;
  /** The thread's clusters: filters that call out (jwt_authn's remote JWKS) go through them. */
  readonly clusters?: ClusterManager;
  /** The traffic_direction of the listener the filter chain belongs to (UNSPECIFIED when absent). */
  readonly direction?: TrafficDirectionName;
  /** This proxy's node (id and metadata), as the bootstrap gives it; absent: a node with no metadata. */
  readonly node?: LocalNode;
}

export type TrafficDirectionName = 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED';

/** A filter's compiled config: pure data, built by compileBootstrap in every thread. */
export interface HttpFilterConfig {
  readonly name: string;
  readonly terminal: boolean;
  /** Router options that change stream behaviour (the router only). */
  readonly suppressEnvoyHeaders?: boolean;
  /** Binds the config to a thread's stats and shared state; absent for the router. */
  instantiate?(ctx: FilterRuntimeContext): HttpFilterFactory;
}

/** Makes a filter instance per stream. */
export interface HttpFilterFactory {
  readonly name: string;
  create(cb: HttpFilterCallbacks): HttpStreamFilter;
}

/** Parses one `http_filters` entry; pure (throws ConfigError). */
export type HttpFilterParser = (f: HttpFilter, path: string) => HttpFilterConfig;

/** Compiles a typed_per_filter_config value for a filter type; pure (throws ConfigError). */
export type PerRouteParser = (config: Any, path: string) => unknown;
