import type { Any } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema, type FaultAbort, type HTTPFault } from '../../../../envoy/generated/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import type { FaultDelay, FaultRateLimit } from '../../../../envoy/generated/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import { durationMs } from '../../../../envoy/duration.js';
import { compileFraction, type Fraction } from '../../../../envoy/percent.js';
import { ConfigError, unpackAs } from '../../../../envoy/registry.js';
import { compileHeaderMatcher, type RequestPredicate } from '../../route/header-matcher.js';

/** `x-envoy-fault-*` request headers (Envoy's Filters::Common::Fault::HeaderNames). */
export const FaultHeaders = {
  delay: 'x-envoy-fault-delay-request',
  delayPercentage: 'x-envoy-fault-delay-request-percentage',
  abort: 'x-envoy-fault-abort-request',
  abortGrpc: 'x-envoy-fault-abort-grpc-request',
  abortPercentage: 'x-envoy-fault-abort-request-percentage',
  throughput: 'x-envoy-fault-throughput-response',
  throughputPercentage: 'x-envoy-fault-throughput-response-percentage',
  downstreamCluster: 'x-envoy-downstream-service-cluster',
  downstreamNode: 'x-envoy-downstream-service-node',
} as const;

export interface DelaySettings {
  /** The fixed delay; undefined for header_delay (the request's x-envoy-fault-delay-request). */
  readonly fixedMs: number | undefined;
  readonly percentage: Fraction;
}

export type AbortSettings =
  | { readonly kind: 'http'; readonly status: number; readonly percentage: Fraction }
  | { readonly kind: 'grpc'; readonly grpcStatus: number; readonly percentage: Fraction }
  | { readonly kind: 'header'; readonly percentage: Fraction };

export interface RateLimitSettings {
  /** KiB per second; undefined for header_limit (the request's x-envoy-fault-throughput-response). */
  readonly kbps: number | undefined;
  readonly percentage: Fraction;
}

/** An HTTPFault, compiled: the filter's settings or a route's replacement for them. Immutable. */
export interface FaultSettings {
  readonly delay: DelaySettings | undefined;
  readonly abort: AbortSettings | undefined;
  /** response_rate_limit: the response body is paced to the client at this rate. */
  readonly responseRateLimit: RateLimitSettings | undefined;
  /** Only requests routed to this cluster get faults ('' = any). */
  readonly upstreamCluster: string;
  /** Every matcher must accept the request (Envoy's HeaderUtility::matchHeaders). */
  readonly headers: readonly RequestPredicate[];
  /** Only requests whose x-envoy-downstream-service-node is one of these (empty = any). */
  readonly downstreamNodes: ReadonlySet<string>;
  /** Instance-wide cap on requests with an active fault; undefined = none. */
  readonly maxActiveFaults: number | undefined;
  readonly disableDownstreamClusterStats: boolean;
}

/**
 * Compiles an HTTPFault as Envoy's FaultSettings does. tsmesh has no runtime layer, so the
 * `*_runtime` keys never resolve and the configured values apply, as in Envoy with an empty
 * runtime.
 */
export function compileFaultSettings(f: HTTPFault, path: string): FaultSettings {
  return {
    delay: f.delay ? compileDelay(f.delay, `${path}.delay`) : undefined,
    abort: f.abort ? compileAbort(f.abort, `${path}.abort`) : undefined,
    responseRateLimit: f.responseRateLimit ? compileRateLimit(f.responseRateLimit, `${path}.response_rate_limit`) : undefined,
    upstreamCluster: f.upstreamCluster,
    headers: f.headers.map((h, i) => compileHeaderMatcher(h, `${path}.headers[${i}]`)),
    downstreamNodes: new Set(f.downstreamNodes),
    maxActiveFaults: f.maxActiveFaults,
    disableDownstreamClusterStats: f.disableDownstreamClusterStats,
  };
}

function compileDelay(d: FaultDelay, path: string): DelaySettings {
  const percentage = compileFraction(d.percentage, `${path}.percentage`);
  const s = d.faultDelaySecifier;
  switch (s.case) {
    case 'fixedDelay': {
      const ms = durationMs(s.value)!;
      if (ms <= 0) throw new ConfigError(`${path}.fixed_delay`, 'must be greater than 0');
      return { fixedMs: ms, percentage };
    }
    case 'headerDelay':
      return { fixedMs: undefined, percentage };
    default:
      throw new ConfigError(path, 'one of fixed_delay or header_delay is required');
  }
}

function compileRateLimit(r: FaultRateLimit, path: string): RateLimitSettings {
  const percentage = compileFraction(r.percentage, `${path}.percentage`);
  const t = r.limitType;
  switch (t.case) {
    case 'fixedLimit': {
      const kbps = t.value.limitKbps;
      if (kbps < 1n) throw new ConfigError(`${path}.fixed_limit.limit_kbps`, 'must be at least 1');
      return { kbps: Number(kbps), percentage };
    }
    case 'headerLimit':
      return { kbps: undefined, percentage };
    default:
      throw new ConfigError(path, 'one of fixed_limit or header_limit is required');
  }
}

function compileAbort(a: FaultAbort, path: string): AbortSettings {
  const percentage = compileFraction(a.percentage, `${path}.percentage`);
  const e = a.errorType;
  switch (e.case) {
    case 'httpStatus':
      if (e.value < 200 || e.value >= 600) throw new ConfigError(`${path}.http_status`, `must be in [200, 600), got ${e.value}`);
      return { kind: 'http', status: e.value, percentage };
    case 'grpcStatus':
      return { kind: 'grpc', grpcStatus: e.value, percentage };
    case 'headerAbort':
      return { kind: 'header', percentage };
    default:
      throw new ConfigError(path, 'one of http_status, grpc_status or header_abort is required');
  }
}

/** Parses a per-route HTTPFault (typed_per_filter_config): it replaces the filter's settings for the route. */
export function parseFaultPerRoute(any: Any, path: string): FaultSettings {
  return compileFaultSettings(unpackAs(any, HTTPFaultSchema, path), path);
}
