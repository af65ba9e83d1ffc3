import type { TokenBucket } from '../../envoy/generated/envoy/type/v3/token_bucket_pb.js';
import { durationMs } from '../../envoy/duration.js';
import { ConfigError } from '../../envoy/registry.js';
import type { TokenBucketSpec } from './token-bucket.js';

/** Envoy's local rate limiters refuse faster refills ("fill timer must be >= 50ms"). */
export const MIN_FILL_INTERVAL_MS = 50;

/**
 * Validates an `envoy.type.v3.TokenBucket` as Envoy does: max_tokens > 0, tokens_per_fill > 0
 * (default 1), fill_interval required and at least 50 ms.
 */
export function compileTokenBucket(tb: TokenBucket, path: string): TokenBucketSpec {
  if (tb.maxTokens <= 0) throw new ConfigError(`${path}.max_tokens`, 'must be greater than 0');
  const tokensPerFill = tb.tokensPerFill ?? 1;
  if (tokensPerFill <= 0) throw new ConfigError(`${path}.tokens_per_fill`, 'must be greater than 0');
  const fillIntervalMs = durationMs(tb.fillInterval);
  if (fillIntervalMs === undefined) throw new ConfigError(`${path}.fill_interval`, 'required');
  if (fillIntervalMs < MIN_FILL_INTERVAL_MS) throw new ConfigError(`${path}.fill_interval`, `local rate limit token bucket fill timer must be >= ${MIN_FILL_INTERVAL_MS}ms`);
  return { maxTokens: tb.maxTokens, tokensPerFill, fillIntervalMs };
}

/** A name for a bucket's block in the shared slots: its owner plus its spec, so a changed spec gets a new bucket. */
export function bucketSlotName(owner: string, spec: TokenBucketSpec): string {
  return `token_bucket|${owner}|${spec.maxTokens}/${spec.tokensPerFill}/${spec.fillIntervalMs}`;
}
