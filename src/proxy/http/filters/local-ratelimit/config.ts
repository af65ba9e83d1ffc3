import type { Any } from '@bufbuild/protobuf/wkt';
import { LocalRateLimitSchema, type LocalRateLimit } from '../../../../envoy/generated/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { VhRateLimitsOptions, XRateLimitHeadersRFCVersion } from '../../../../envoy/generated/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';
import { compileRuntimeFraction, type Fraction } from '../../../../envoy/percent.js';
import { ConfigError, unpackAs } from '../../../../envoy/registry.js';
import { StatusCode } from '../../../../envoy/generated/envoy/type/v3/http_status_pb.js';
import { compileHeaderMutation, type HeaderMutation } from '../../route/header-mutation.js';
import { descriptorKey, type DescriptorKey } from '../../route/rate-limits.js';
import { compileTokenBucket } from '../../../shared/token-bucket-config.js';
import type { TokenBucketSpec } from '../../../shared/token-bucket.js';

/** A configured descriptor with its own bucket. */
export interface DescriptorLimit {
  readonly key: DescriptorKey;
  readonly bucket: TokenBucketSpec;
}

/**
 * A LocalRateLimit, compiled: the filter's settings, or a route's (which have buckets of their
 * own, as in Envoy). Pure data; threads bind it to buckets and stats (filter.ts).
 */
export interface LocalRateLimitSettings {
  /** Identity of its buckets in the instance's shared slots: the config path. */
  readonly id: string;
  readonly statPrefix: string;
  /** `status`, 429 when unset or below 400 (as Envoy). */
  readonly status: number;
  /** The default bucket; undefined when no token_bucket is set (then it limits nothing). */
  readonly bucket: TokenBucketSpec | undefined;
  /** `filter_enabled` default_value; undefined = 0% (Envoy's default, for safety). */
  readonly enabled: Fraction | undefined;
  /** `filter_enforced` default_value; undefined = 0%. */
  readonly enforced: Fraction | undefined;
  readonly requestHeadersWhenNotEnforced: HeaderMutation | undefined;
  readonly responseHeaders: HeaderMutation | undefined;
  /** `descriptors`, strictest first (ascending tokens per second, as Envoy consumes them). */
  readonly descriptors: readonly DescriptorLimit[];
  /** Descriptor key → index in `descriptors`. */
  readonly descriptorIndex: ReadonlyMap<DescriptorKey, number>;
  /** Route rate_limits entries with this stage make the request's descriptors. */
  readonly stage: number;
  readonly perConnection: boolean;
  /** enable_x_ratelimit_headers: DRAFT_VERSION_03. */
  readonly xRateLimitHeaders: boolean;
  readonly vhRateLimits: 'override' | 'include' | 'ignore';
  /** always_consume_default_token_bucket (default true). */
  readonly alwaysConsumeDefault: boolean;
  /** grpc-status for rate-limited gRPC requests: RESOURCE_EXHAUSTED if asked, else the HTTP status's (UNAVAILABLE). */
  readonly grpcStatus: number | undefined;
}

const RESOURCE_EXHAUSTED = 8;
const MAX_STAGE = 10;

/**
 * Compiles a LocalRateLimit as Envoy's FilterConfig does. tsmesh has no runtime layer:
 * filter_enabled and filter_enforced are their default_value. `perRoute`: the token bucket is
 * then required (Envoy refuses a route-level config without one).
 */
export function compileLocalRateLimit(c: LocalRateLimit, path: string, perRoute: boolean): LocalRateLimitSettings {
  if (!c.statPrefix) throw new ConfigError(`${path}.stat_prefix`, 'must not be empty');
  if (c.localClusterRateLimit) throw new ConfigError(`${path}.local_cluster_rate_limit`, 'sharing a bucket across the instances of a local cluster is not supported by tsmesh');
  if (perRoute && !c.tokenBucket) throw new ConfigError(`${path}.token_bucket`, 'local rate limit token bucket must be set for per filter configs');
  if (c.stage > MAX_STAGE) throw new ConfigError(`${path}.stage`, `must be at most ${MAX_STAGE}, got ${c.stage}`);
  const bucket = c.tokenBucket ? compileTokenBucket(c.tokenBucket, `${path}.token_bucket`) : undefined;
  const descriptors = c.descriptors.map((d, i) => {
    const p = `${path}.descriptors[${i}]`;
    if (d.entries.length === 0) throw new ConfigError(`${p}.entries`, 'at least one entry is required');
    const entries = d.entries.map((e, j): [string, string] => {
      for (const [field, v] of [['key', e.key], ['value', e.value]] as const) {
        if (v === '') throw new ConfigError(`${p}.entries[${j}].${field}`, 'must not be empty');
        if (v.includes('\0')) throw new ConfigError(`${p}.entries[${j}].${field}`, 'must not contain NUL');
      }
      return [e.key, e.value];
    });
    if (!d.tokenBucket) throw new ConfigError(`${p}.token_bucket`, 'required');
    const b = compileTokenBucket(d.tokenBucket, `${p}.token_bucket`);
    if (bucket && b.fillIntervalMs % bucket.fillIntervalMs !== 0) {
      throw new ConfigError(`${p}.token_bucket.fill_interval`, 'local rate descriptor limit is not a multiple of token bucket fill timer');
    }
    return { key: descriptorKey(entries), bucket: b, label: entries.map(([k, v]) => `${k}=${v}`).join(', ') };
  });
  const seen = new Set<string>();
  descriptors.forEach((d, i) => {
    if (seen.has(d.key)) throw new ConfigError(`${path}.descriptors[${i}]`, `duplicate descriptor in the local rate descriptor: ${d.label}`);
    seen.add(d.key);
  });
  // Envoy consumes matched descriptors strictest first, so that a request refused by one does
  // not use up tokens of the others (tokens per whole second, integer, as Envoy compares them).
  const sorted = descriptors
    .map(({ key, bucket: b }) => ({ key, bucket: b }))
    .sort((a, b) => tokensPerSecond(a.bucket) - tokensPerSecond(b.bucket));
  const vh = c.vhRateLimits;
  const vhRateLimits = vh === VhRateLimitsOptions.OVERRIDE ? 'override' : vh === VhRateLimitsOptions.INCLUDE ? 'include' : vh === VhRateLimitsOptions.IGNORE ? 'ignore' : undefined;
  if (!vhRateLimits) throw new ConfigError(`${path}.vh_rate_limits`, `unknown value ${vh}`);
  const xrl = c.enableXRatelimitHeaders;
  if (xrl !== XRateLimitHeadersRFCVersion.OFF && xrl !== XRateLimitHeadersRFCVersion.DRAFT_VERSION_03) throw new ConfigError(`${path}.enable_x_ratelimit_headers`, `unknown value ${xrl}`);
  const code = c.status?.code ?? 0;
  if (c.status && (code === 0 || StatusCode[code] === undefined)) throw new ConfigError(`${path}.status.code`, code === 0 ? 'must be set' : `unknown value ${code}`);
  return {
    id: path,
    statPrefix: c.statPrefix,
    status: code >= 400 ? code : 429,
    bucket,
    enabled: compileRuntimeFraction(c.filterEnabled, `${path}.filter_enabled`),
    enforced: compileRuntimeFraction(c.filterEnforced, `${path}.filter_enforced`),
    requestHeadersWhenNotEnforced: compileHeaderMutation(c.requestHeadersToAddWhenNotEnforced, [], path, 'request', 'request_headers_to_add_when_not_enforced'),
    responseHeaders: compileHeaderMutation(c.responseHeadersToAdd, [], path, 'response'),
    descriptors: sorted,
    descriptorIndex: new Map(sorted.map((d, i) => [d.key, i])),
    stage: c.stage,
    perConnection: c.localRateLimitPerDownstreamConnection,
    xRateLimitHeaders: xrl === XRateLimitHeadersRFCVersion.DRAFT_VERSION_03,
    vhRateLimits,
    alwaysConsumeDefault: c.alwaysConsumeDefaultTokenBucket ?? true,
    grpcStatus: c.rateLimitedAsResourceExhausted ? RESOURCE_EXHAUSTED : undefined,
  };
}

function tokensPerSecond(b: TokenBucketSpec): number {
  const seconds = Math.floor(b.fillIntervalMs / 1000);
  return Math.floor(b.tokensPerFill / (seconds || 1));
}

/** Parses a route's LocalRateLimit (typed_per_filter_config): its own settings and buckets. */
export function parseLocalRateLimitPerRoute(any: Any, path: string): LocalRateLimitSettings {
  return compileLocalRateLimit(unpackAs(any, LocalRateLimitSchema, path), path, true);
}
