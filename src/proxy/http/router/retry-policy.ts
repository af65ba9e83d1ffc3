import type { RetryPolicy } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { durationMs } from '../../../envoy/duration.js';
import { ConfigError } from '../../../envoy/registry.js';
import { compileHeaderMatcher, type RequestPredicate } from '../route/header-matcher.js';
import type { RouteRequest } from '../route/request.js';
import type { HeaderMap } from '../headers.js';

/** retry_on conditions, as bits (Envoy's RetryPolicy::RETRY_ON_*). */
export const RetryOn = {
  FIVE_XX: 1 << 0,
  GATEWAY_ERROR: 1 << 1,
  CONNECT_FAILURE: 1 << 2,
  RETRIABLE_4XX: 1 << 3,
  REFUSED_STREAM: 1 << 4,
  RETRIABLE_STATUS_CODES: 1 << 5,
  RESET: 1 << 6,
  RETRIABLE_HEADERS: 1 << 7,
  ENVOY_RATELIMITED: 1 << 8,
  GRPC_CANCELLED: 1 << 9,
  GRPC_DEADLINE_EXCEEDED: 1 << 10,
  GRPC_RESOURCE_EXHAUSTED: 1 << 11,
  GRPC_UNAVAILABLE: 1 << 12,
  GRPC_INTERNAL: 1 << 13,
} as const;

const HTTP_NAMES: Record<string, number> = {
  '5xx': RetryOn.FIVE_XX,
  'gateway-error': RetryOn.GATEWAY_ERROR,
  'connect-failure': RetryOn.CONNECT_FAILURE,
  'retriable-4xx': RetryOn.RETRIABLE_4XX,
  'refused-stream': RetryOn.REFUSED_STREAM,
  'retriable-status-codes': RetryOn.RETRIABLE_STATUS_CODES,
  reset: RetryOn.RESET,
  'retriable-headers': RetryOn.RETRIABLE_HEADERS,
  'envoy-ratelimited': RetryOn.ENVOY_RATELIMITED,
};

const GRPC_NAMES: Record<string, number> = {
  cancelled: RetryOn.GRPC_CANCELLED,
  'deadline-exceeded': RetryOn.GRPC_DEADLINE_EXCEEDED,
  'resource-exhausted': RetryOn.GRPC_RESOURCE_EXHAUSTED,
  unavailable: RetryOn.GRPC_UNAVAILABLE,
  internal: RetryOn.GRPC_INTERNAL,
};

/** gRPC status code -> the retry_on bit that covers it. */
const GRPC_STATUS_BITS: ReadonlyMap<number, number> = new Map([
  [1, RetryOn.GRPC_CANCELLED],
  [4, RetryOn.GRPC_DEADLINE_EXCEEDED],
  [8, RetryOn.GRPC_RESOURCE_EXHAUSTED],
  [13, RetryOn.GRPC_INTERNAL],
  [14, RetryOn.GRPC_UNAVAILABLE],
]);

/** Envoy's defaults: 25 ms base, the maximum ten times the base. */
export const DEFAULT_BASE_BACKOFF_MS = 25;

/** A route's retry_policy, validated and compiled once. */
export interface RetryPolicySpec {
  readonly retryOn: number;
  readonly numRetries: number;
  /** 0 = none. */
  readonly perTryTimeoutMs: number;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly retriableStatusCodes: readonly number[];
  readonly retriableHeaders: readonly RequestPredicate[];
  /** Retry only requests one of these matches. Empty = every request. */
  readonly retriableRequestHeaders: readonly RequestPredicate[];
  /** retry_host_predicate previous_hosts: avoid hosts already tried. */
  readonly avoidPreviousHosts: boolean;
  /** host_selection_retry_max_attempts: extra picks when the predicate rejects a host. */
  readonly hostSelectionMaxAttempts: number;
}

const PREVIOUS_HOSTS = 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';

/** Parses a comma-separated retry_on value; unknown names are errors (Envoy ignores them at run time, not in config). */
export function parseRetryOn(value: string, path: string | undefined): number {
  let bits = 0;
  for (const raw of value.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    const b = HTTP_NAMES[name] ?? GRPC_NAMES[name];
    if (b === undefined) {
      if (path !== undefined) throw new ConfigError(path, `unknown retry condition "${name}"`);
      continue;
    }
    bits |= b;
  }
  return bits;
}

export function compileRetryPolicy(p: RetryPolicy, path: string): RetryPolicySpec {
  if (p.retryPriority) throw new ConfigError(`${path}.retry_priority`, 'retry priorities are not supported');
  if (p.retryOptionsPredicates.length > 0) throw new ConfigError(`${path}.retry_options_predicates`, 'not supported');
  if (p.rateLimitedRetryBackOff) throw new ConfigError(`${path}.rate_limited_retry_back_off`, 'not supported: retries use the exponential back-off');
  if (p.perTryIdleTimeout) throw new ConfigError(`${path}.per_try_idle_timeout`, 'not supported');
  let avoidPreviousHosts = false;
  p.retryHostPredicate.forEach((hp, i) => {
    const at = `${path}.retry_host_predicate[${i}]`;
    const url = hp.configType.case === 'typedConfig' ? hp.configType.value.typeUrl : '';
    if (url !== PREVIOUS_HOSTS) throw new ConfigError(`${at}.typed_config`, `unsupported retry host predicate ${hp.name || url} (only envoy.retry_host_predicates.previous_hosts)`);
    avoidPreviousHosts = true;
  });
  const base = durationMs(p.retryBackOff?.baseInterval) ?? DEFAULT_BASE_BACKOFF_MS;
  if (p.retryBackOff && base <= 0) throw new ConfigError(`${path}.retry_back_off.base_interval`, 'must be > 0');
  const max = durationMs(p.retryBackOff?.maxInterval) ?? base * 10;
  if (max < base) throw new ConfigError(`${path}.retry_back_off.max_interval`, `must be >= base_interval (${base} ms)`);
  p.retriableStatusCodes.forEach((c, i) => {
    if (c < 100 || c > 599) throw new ConfigError(`${path}.retriable_status_codes[${i}]`, `expected an HTTP status, got ${c}`);
  });
  const perTry = durationMs(p.perTryTimeout) ?? 0;
  if (perTry < 0) throw new ConfigError(`${path}.per_try_timeout`, 'must not be negative');
  return {
    retryOn: parseRetryOn(p.retryOn, `${path}.retry_on`),
    numRetries: p.numRetries ?? 1,
    perTryTimeoutMs: perTry,
    baseIntervalMs: base,
    maxIntervalMs: max,
    retriableStatusCodes: p.retriableStatusCodes,
    retriableHeaders: p.retriableHeaders.map((h, i) => compileHeaderMatcher(h, `${path}.retriable_headers[${i}]`)),
    retriableRequestHeaders: p.retriableRequestHeaders.map((h, i) => compileHeaderMatcher(h, `${path}.retriable_request_headers[${i}]`)),
    avoidPreviousHosts,
    hostSelectionMaxAttempts: Number(p.hostSelectionRetryMaxAttempts),
  };
}

/**
 * The retry policy for one request: the route's, adjusted by the request's x-envoy-retry-on,
 * x-envoy-retry-grpc-on, x-envoy-max-retries and x-envoy-retriable-* headers (Envoy honours
 * them only from trusted clients; the connection manager strips them from external ones).
 * Undefined when nothing asks for retries.
 */
export function effectiveRetryPolicy(route: RetryPolicySpec | undefined, req: RouteRequest & { headers: HeaderMap }): EffectivePolicy | undefined {
  const h = req.headers;
  const onHeader = h.get('x-envoy-retry-on');
  const grpcHeader = h.get('x-envoy-retry-grpc-on');
  if (!route && onHeader === undefined && grpcHeader === undefined) return undefined;
  let retryOn = route?.retryOn ?? 0;
  if (onHeader !== undefined) retryOn |= parseRetryOn(onHeader, undefined);
  if (grpcHeader !== undefined) retryOn |= parseRetryOn(grpcHeader, undefined);
  if (retryOn === 0) return undefined;
  if (route && route.retriableRequestHeaders.length > 0 && !route.retriableRequestHeaders.some((m) => m(req))) return undefined;
  let numRetries = route?.numRetries ?? 1;
  const max = h.get('x-envoy-max-retries');
  if (max !== undefined && /^\d+$/.test(max.trim())) numRetries = Number(max.trim());
  let codes = route?.retriableStatusCodes ?? [];
  const codesHeader = h.get('x-envoy-retriable-status-codes');
  if (codesHeader !== undefined) {
    const extra = codesHeader.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n >= 100 && n <= 599);
    if (extra.length > 0) codes = [...codes, ...extra];
  }
  let headerNames: string[] | undefined;
  const namesHeader = h.get('x-envoy-retriable-header-names');
  if (namesHeader !== undefined) headerNames = namesHeader.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s);
  return {
    retryOn,
    numRetries,
    retriableStatusCodes: codes,
    retriableHeaders: route?.retriableHeaders ?? [],
    retriableHeaderNames: headerNames ?? [],
    baseIntervalMs: route?.baseIntervalMs ?? DEFAULT_BASE_BACKOFF_MS,
    maxIntervalMs: route?.maxIntervalMs ?? DEFAULT_BASE_BACKOFF_MS * 10,
    avoidPreviousHosts: route?.avoidPreviousHosts ?? false,
    hostSelectionMaxAttempts: route?.hostSelectionMaxAttempts ?? 0,
  };
}

export interface EffectivePolicy {
  readonly retryOn: number;
  readonly numRetries: number;
  readonly retriableStatusCodes: readonly number[];
  readonly retriableHeaders: readonly RequestPredicate[];
  readonly retriableHeaderNames: readonly string[];
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly avoidPreviousHosts: boolean;
  readonly hostSelectionMaxAttempts: number;
}

/** Whether a response head calls for a retry under `p` (Envoy's RetryStateImpl::wouldRetryFromHeaders). */
export function retriableResponse(p: EffectivePolicy, status: number, headers: HeaderMap): boolean {
  const on = p.retryOn;
  if (headers.has('x-envoy-ratelimited')) return (on & RetryOn.ENVOY_RATELIMITED) !== 0;
  if ((on & RetryOn.FIVE_XX) && status >= 500 && status < 600) return true;
  if ((on & RetryOn.GATEWAY_ERROR) && (status === 502 || status === 503 || status === 504)) return true;
  if ((on & RetryOn.RETRIABLE_4XX) && status === 409) return true;
  if ((on & RetryOn.RETRIABLE_STATUS_CODES) && p.retriableStatusCodes.includes(status)) return true;
  if (on & RetryOn.RETRIABLE_HEADERS) {
    // Header matchers read a request; a response head is one without pseudo-headers.
    const head: RouteRequest = { method: '', path: '', authority: '', headers };
    if (p.retriableHeaders.some((m) => m(head))) return true;
    if (p.retriableHeaderNames.some((n) => headers.has(n))) return true;
  }
  const grpcBits = on & (RetryOn.GRPC_CANCELLED | RetryOn.GRPC_DEADLINE_EXCEEDED | RetryOn.GRPC_RESOURCE_EXHAUSTED | RetryOn.GRPC_UNAVAILABLE | RetryOn.GRPC_INTERNAL);
  if (grpcBits) {
    // Only a grpc-status in the response head (a trailers-only answer) can be retried.
    const gs = headers.get('grpc-status');
    if (gs !== undefined) {
      const bit = GRPC_STATUS_BITS.get(Number(gs));
      if (bit !== undefined && (grpcBits & bit)) return true;
    }
  }
  return false;
}

/** Why an attempt failed without a response head. */
export type AttemptFailure = 'connect_failure' | 'reset' | 'refused_stream' | 'per_try_timeout';

/** Whether a failure without a response calls for a retry (Envoy's wouldRetryFromReset). */
export function retriableFailure(p: EffectivePolicy, f: AttemptFailure): boolean {
  const on = p.retryOn;
  if (f === 'refused_stream' && (on & RetryOn.REFUSED_STREAM)) return true;
  if (f === 'connect_failure' && (on & RetryOn.CONNECT_FAILURE)) return true;
  return (on & (RetryOn.FIVE_XX | RetryOn.GATEWAY_ERROR | RetryOn.RESET)) !== 0;
}

/**
 * Fully jittered exponential back-off: retry N (1-based) waits a uniform time in
 * [0, (2^N - 1) * base), the upper bound capped at `max`.
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min((2 ** Math.min(retry, 30) - 1) * baseMs, maxMs);
  return Math.floor(random() * ceiling);
}
