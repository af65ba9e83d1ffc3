import {
  RouteAction_ClusterNotFoundResponseCode as NotFoundCode,
  type DirectResponseAction, type RetryPolicy, type Route, type RouteAction, type RouteAction_HashPolicy,
  type RouteAction_RequestMirrorPolicy,
} from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { durationMs } from '../../../envoy/duration.js';
import { ConfigError } from '../../../envoy/registry.js';
import { compileHashPolicies } from '../../upstream/lb/hash-policy.js';
import type { CompiledRouteMatch } from './match.js';
import { compileRedirect, requestHost, type RedirectRouteAction } from './redirect.js';
import { schemeOf, type RouteRequest } from './request.js';
import { compilePathRewrite, type PathRewrite } from './rewrite.js';
import { compileWeightedClusters, type ClusterChoice, type WeightedClusters } from './weighted-clusters.js';
import { compileRetryPolicy, type RetryPolicySpec } from '../router/retry-policy.js';
import { compileMirrorPolicies, type MirrorPolicySpec } from '../router/mirror-policy.js';
import type { RouteTimeoutSpec } from '../router/timeouts.js';
import { RoutingPriority } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';

/** Envoy's route timeout when `timeout` is unset. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
/** RouteConfiguration.max_direct_response_body_size_bytes default. */
export const DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES = 4096;

/** A route that proxies to an upstream cluster (`route:`). */
export interface ForwardAction {
  readonly kind: 'forward';
  /** The upstream cluster's name for a uniform `random` in [0, 1) (weighted_clusters by weight). */
  pickCluster(random: number): string;
  /**
   * As pickCluster, with what only that cluster adds (weighted cluster headers and
   * host_rewrite_literal); pass it to apply*HeaderMutations. One shared object per cluster.
   */
  pickClusterEntry(random: number): ClusterChoice;
  /** Present for `weighted_clusters`. */
  readonly weightedClusters?: WeightedClusters;
  /** The path to send upstream (query kept) after prefix_rewrite / regex_rewrite; undefined = unchanged. */
  rewritePath(req: RouteRequest): string | undefined;
  readonly hostRewriteLiteral?: string;
  readonly autoHostRewrite: boolean;
  /** Whole-request upstream timeout; Envoy's default 15000 when unset; 0 = disabled. */
  readonly timeoutMs: number;
  /** timeout, max_grpc_timeout, grpc_timeout_offset and the retry policy's per_try_timeout. */
  readonly timeouts: RouteTimeoutSpec;
  /** max_stream_duration, when the route sets it (0 disables the connection manager's). */
  readonly maxStreamDuration?: { readonly maxMs: number | undefined; readonly grpcHeaderMaxMs: number | undefined; readonly grpcHeaderOffsetMs: number };
  /** `priority`: which circuit-breaker thresholds apply. */
  readonly priority: 'default' | 'high';
  /** per_request_buffer_limit_bytes (route, else virtual host): body held for retries and shadows. */
  readonly perRequestBufferLimitBytes: number | undefined;
  /** Per-route stream idle timeout, when set (0 disables the connection manager's). */
  readonly idleTimeoutMs?: number;
  /**
   * `hash_policy` as configured (validated at compile time); hand it to the load balancer's
   * `computeRequestHash` (upstream/lb/hash-policy.ts), which caches its compiled form per list.
   */
  readonly hashPolicy: readonly RouteAction_HashPolicy[];
  /** The route's retry_policy, else the virtual host's (Envoy does not merge them). */
  readonly retryPolicy?: RetryPolicySpec;
  /** The route's request_mirror_policies, else the virtual host's, else the route configuration's. */
  readonly mirrors: readonly MirrorPolicySpec[];
  /** cluster_not_found_response_code: 503 (default), 404 or 500. */
  readonly clusterNotFoundStatus: number;
}

/** A route that answers itself (`direct_response:`). */
export interface DirectAction {
  readonly kind: 'direct';
  readonly status: number;
  readonly body?: Buffer;
  /**
   * Present when the status is 201 or 3xx: Envoy then adds `Location:` with the request's own
   * URL (scheme://host/path).
   */
  location?(req: RouteRequest): string;
}

export type CompiledRouteAction = ForwardAction | DirectAction | RedirectRouteAction;

/** What a route inherits from its virtual host and route configuration. */
export interface ActionDefaults {
  /** Where the inherited policies were configured, for error messages. */
  readonly retryPolicyPath?: string;
  readonly mirrorPoliciesPath?: string;
  readonly retryPolicy?: RetryPolicy;
  readonly perRequestBufferLimitBytes?: number;
  readonly requestMirrorPolicies: readonly RouteAction_RequestMirrorPolicy[];
  readonly maxDirectResponseBodyBytes: number;
}

export function compileAction(r: Route, match: CompiledRouteMatch, defaults: ActionDefaults, path: string): CompiledRouteAction {
  const a = r.action;
  switch (a.case) {
    case 'route': return compileForward(a.value, match, { ...defaults, perRequestBufferLimitBytes: r.perRequestBufferLimitBytes ?? defaults.perRequestBufferLimitBytes }, `${path}.route`);
    case 'redirect': return compileRedirect(a.value, match, `${path}.redirect`);
    case 'directResponse': return compileDirect(a.value, defaults.maxDirectResponseBodyBytes, `${path}.direct_response`);
    case 'filterAction': throw new ConfigError(`${path}.filter_action`, 'filter_action routes are not supported');
    case 'nonForwardingAction': throw new ConfigError(`${path}.non_forwarding_action`, 'non_forwarding_action routes are not supported');
    default: throw new ConfigError(path, 'one of route, redirect or direct_response is required');
  }
}

class Forward implements ForwardAction {
  readonly kind = 'forward' as const;
  constructor(
    readonly single: ClusterChoice | undefined,
    readonly weightedClusters: WeightedClusters | undefined,
    readonly rewrite: PathRewrite | undefined,
    readonly hostRewriteLiteral: string | undefined,
    readonly autoHostRewrite: boolean,
    readonly timeouts: RouteTimeoutSpec,
    readonly idleTimeoutMs: number | undefined,
    readonly hashPolicy: readonly RouteAction_HashPolicy[],
    readonly retryPolicy: RetryPolicySpec | undefined,
    readonly mirrors: readonly MirrorPolicySpec[],
    readonly clusterNotFoundStatus: number,
    readonly priority: 'default' | 'high',
    readonly perRequestBufferLimitBytes: number | undefined,
    readonly maxStreamDuration: ForwardAction['maxStreamDuration'],
  ) {}

  get timeoutMs(): number {
    return this.timeouts.timeoutMs;
  }

  pickCluster(random: number): string {
    return this.pickClusterEntry(random).name;
  }

  pickClusterEntry(random: number): ClusterChoice {
    return this.single ?? this.weightedClusters!.pick(random);
  }

  rewritePath(req: RouteRequest): string | undefined {
    return this.rewrite?.(req);
  }
}

function compileForward(ra: RouteAction, match: CompiledRouteMatch, d: ActionDefaults, path: string): ForwardAction {
  const spec = ra.clusterSpecifier;
  let single: ClusterChoice | undefined;
  let weighted: WeightedClusters | undefined;
  switch (spec.case) {
    case 'cluster':
      if (!spec.value) throw new ConfigError(`${path}.cluster`, 'must not be empty');
      single = { name: spec.value, weight: 1 };
      break;
    case 'weightedClusters':
      weighted = compileWeightedClusters(spec.value, `${path}.weighted_clusters`);
      break;
    case 'clusterHeader':
      throw new ConfigError(`${path}.cluster_header`, 'cluster_header is not supported');
    case 'clusterSpecifierPlugin':
    case 'inlineClusterSpecifierPlugin':
      throw new ConfigError(`${path}.${spec.case === 'clusterSpecifierPlugin' ? 'cluster_specifier_plugin' : 'inline_cluster_specifier_plugin'}`, 'cluster specifier plugins are not supported');
    default:
      throw new ConfigError(path, 'one of cluster or weighted_clusters is required');
  }
  const rewrite = compilePathRewrite(ra.prefixRewrite, ra.regexRewrite, match, path, false);
  const host = ra.hostRewriteSpecifier;
  let hostLiteral: string | undefined;
  let autoHost = false;
  switch (host.case) {
    case 'hostRewriteLiteral':
      if (/[\0\r\n]/.test(host.value)) throw new ConfigError(`${path}.host_rewrite_literal`, 'must not contain NUL, CR or LF');
      hostLiteral = host.value || undefined;
      break;
    case 'autoHostRewrite':
      autoHost = host.value.value;
      break;
    case 'hostRewriteHeader':
      throw new ConfigError(`${path}.host_rewrite_header`, 'host_rewrite_header is not supported');
    case 'hostRewritePathRegex':
      throw new ConfigError(`${path}.host_rewrite_path_regex`, 'host_rewrite_path_regex is not supported');
  }
  const notFound = ra.clusterNotFoundResponseCode;
  const notFoundStatus = notFound === NotFoundCode.SERVICE_UNAVAILABLE ? 503 : notFound === NotFoundCode.NOT_FOUND ? 404 : notFound === NotFoundCode.INTERNAL_SERVER_ERROR ? 500 : undefined;
  if (notFoundStatus === undefined) throw new ConfigError(`${path}.cluster_not_found_response_code`, `unknown value ${notFound}`);
  // Envoy does not merge retry policies: the route's replaces the virtual host's.
  const retryPolicy = ra.retryPolicy
    ? compileRetryPolicy(ra.retryPolicy, `${path}.retry_policy`)
    : d.retryPolicy ? compileRetryPolicy(d.retryPolicy, d.retryPolicyPath ?? 'retry_policy') : undefined;
  const mirrors = ra.requestMirrorPolicies.length > 0
    ? compileMirrorPolicies(ra.requestMirrorPolicies, `${path}.request_mirror_policies`)
    : compileMirrorPolicies(d.requestMirrorPolicies, d.mirrorPoliciesPath ?? 'request_mirror_policies');
  const timeoutMs = durationMs(ra.timeout) ?? DEFAULT_ROUTE_TIMEOUT_MS;
  const timeouts: RouteTimeoutSpec = {
    timeoutMs,
    maxGrpcTimeoutMs: durationMs(ra.maxGrpcTimeout),
    grpcTimeoutOffsetMs: durationMs(ra.grpcTimeoutOffset) ?? 0,
    perTryTimeoutMs: retryPolicy?.perTryTimeoutMs ?? 0,
  };
  if (ra.priority !== RoutingPriority.DEFAULT && ra.priority !== RoutingPriority.HIGH) throw new ConfigError(`${path}.priority`, `unknown priority ${ra.priority}`);
  const msd = ra.maxStreamDuration;
  const maxStreamDuration = msd ? {
    maxMs: durationMs(msd.maxStreamDuration),
    grpcHeaderMaxMs: durationMs(msd.grpcTimeoutHeaderMax),
    grpcHeaderOffsetMs: durationMs(msd.grpcTimeoutHeaderOffset) ?? 0,
  } : undefined;
  return new Forward(
    single, weighted, rewrite, hostLiteral, autoHost,
    timeouts,
    durationMs(ra.idleTimeout),
    validHashPolicies(ra.hashPolicy, `${path}.hash_policy`),
    retryPolicy,
    mirrors,
    notFoundStatus,
    ra.priority === RoutingPriority.HIGH ? 'high' : 'default',
    d.perRequestBufferLimitBytes,
    maxStreamDuration,
  );
}

function validHashPolicies(list: readonly RouteAction_HashPolicy[], path: string): readonly RouteAction_HashPolicy[] {
  if (list.length > 0) compileHashPolicies(list, path);
  return list;
}

function compileDirect(dr: DirectResponseAction, maxBody: number, path: string): DirectAction {
  if (!Number.isInteger(dr.status) || dr.status < 200 || dr.status >= 600) {
    throw new ConfigError(`${path}.status`, `must be in [200, 600), got ${dr.status}`);
  }
  let body: Buffer | undefined;
  const src = dr.body?.specifier;
  switch (src?.case) {
    case undefined: break;
    case 'inlineString': body = Buffer.from(src.value, 'utf8'); break;
    case 'inlineBytes': body = Buffer.from(src.value); break;
    case 'filename': throw new ConfigError(`${path}.body.filename`, 'a direct response body from a file is not supported: use inline_string or inline_bytes');
    case 'environmentVariable': throw new ConfigError(`${path}.body.environment_variable`, 'a direct response body from the environment is not supported: use inline_string or inline_bytes');
  }
  if (body && body.length > maxBody) {
    throw new ConfigError(`${path}.body`, `response body size is ${body.length} bytes; maximum is ${maxBody} (max_direct_response_body_size_bytes)`);
  }
  const status = dr.status;
  const withLocation = status === 201 || (status >= 300 && status < 400);
  return {
    kind: 'direct',
    status,
    ...(body ? { body } : {}),
    ...(withLocation ? { location: ownUrl } : {}),
  };
}

/** Envoy's `Http::Utility::newUri` without a redirect config: the request's own URL. */
function ownUrl(req: RouteRequest): string {
  const scheme = schemeOf(req);
  const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
  return `${scheme}://${requestHost(req, scheme, '')}${path}`;
}
