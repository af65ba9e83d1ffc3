import type { HeaderMap } from '../headers.js';

/** A route's timeout settings, compiled. */
export interface RouteTimeoutSpec {
  /** `timeout`: 0 disables. */
  readonly timeoutMs: number;
  /** `max_grpc_timeout`: undefined = grpc-timeout is not honoured; 0 = no cap. */
  readonly maxGrpcTimeoutMs: number | undefined;
  readonly grpcTimeoutOffsetMs: number;
  /** retry_policy.per_try_timeout: 0 = none. */
  readonly perTryTimeoutMs: number;
}

/** The timeouts one request gets. */
export interface RequestTimeouts {
  /** Whole-request upstream timeout, all retries included; 0 = none. */
  readonly globalMs: number;
  /** Per attempt, before the response starts; 0 = none. */
  readonly perTryMs: number;
}

const GRPC_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** Parses a grpc-timeout value (1-8 digits and a unit); undefined when malformed. */
export function parseGrpcTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v.trim());
  if (!m) return undefined;
  return Math.ceil(Number(m[1]) * GRPC_UNITS[m[2]!]!);
}

function headerMs(h: HeaderMap, name: string): number | undefined {
  const v = h.get(name);
  if (v === undefined || !/^\d{1,10}$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/**
 * Envoy's FilterUtility::finalTimeout: the route timeout, or for gRPC requests with
 * max_grpc_timeout the grpc-timeout header (absent = no limit) capped by it and reduced by the
 * offset; then the x-envoy-upstream-rq-timeout-ms / x-envoy-upstream-rq-per-try-timeout-ms
 * request headers, which the router consumes (removes). A per-try timeout not below the global
 * one is ignored.
 */
export function requestTimeouts(spec: RouteTimeoutSpec, headers: HeaderMap, grpc: boolean): RequestTimeouts {
  let globalMs = spec.timeoutMs;
  if (grpc && spec.maxGrpcTimeoutMs !== undefined) {
    const asked = parseGrpcTimeout(headers.get('grpc-timeout')) ?? 0;
    const max = spec.maxGrpcTimeoutMs;
    globalMs = max === 0 ? asked : asked === 0 ? max : Math.min(asked, max);
    if (spec.grpcTimeoutOffsetMs > 0 && globalMs > spec.grpcTimeoutOffsetMs) globalMs -= spec.grpcTimeoutOffsetMs;
  }
  const hGlobal = headerMs(headers, 'x-envoy-upstream-rq-timeout-ms');
  if (hGlobal !== undefined) globalMs = hGlobal;
  headers.remove('x-envoy-upstream-rq-timeout-ms');
  let perTryMs = spec.perTryTimeoutMs;
  const hPerTry = headerMs(headers, 'x-envoy-upstream-rq-per-try-timeout-ms');
  if (hPerTry !== undefined) perTryMs = hPerTry;
  headers.remove('x-envoy-upstream-rq-per-try-timeout-ms');
  if (globalMs > 0 && perTryMs >= globalMs) perTryMs = 0;
  return { globalMs, perTryMs };
}

/** The stream's max duration from a grpc-timeout header (route max_stream_duration.grpc_timeout_header_max). */
export function grpcStreamDuration(headers: HeaderMap, headerMaxMs: number, offsetMs: number): number | undefined {
  const asked = parseGrpcTimeout(headers.get('grpc-timeout'));
  if (asked === undefined) return undefined;
  let d = headerMaxMs === 0 ? asked : Math.min(asked, headerMaxMs);
  if (offsetMs > 0 && d > offsetMs) d -= offsetMs;
  return d;
}
