import type net from 'node:net';
import type { LocalRateLimit } from '../../envoy/generated/envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { statSet, type Counter } from '../stats-scope.js';
import type { StatScopes } from '../stat-scopes.js';
import type { SharedSlots } from '../shared/slots.js';
import { TokenBucket, TOKEN_BUCKET_INTS, type TokenBucketSpec } from '../shared/token-bucket.js';
import { bucketSlotName, compileTokenBucket } from '../shared/token-bucket-config.js';

/** An `envoy.filters.network.local_ratelimit`, compiled. */
export interface NetworkLocalRateLimitConfig {
  readonly statPrefix: string;
  readonly bucket: TokenBucketSpec;
  /** runtime_enabled's default_value (tsmesh has no runtime layer); enabled when unset. */
  readonly enabled: boolean;
  /**
   * Whose bucket it takes from: this filter's own (its config path), or with share_key every
   * filter with the same key and the same token_bucket (the slot name includes the bucket).
   */
  readonly bucketOwner: string;
}

export function compileNetworkLocalRateLimit(c: LocalRateLimit, path: string): NetworkLocalRateLimitConfig {
  if (!c.statPrefix) throw new ConfigError(`${path}.stat_prefix`, 'must not be empty');
  if (!c.tokenBucket) throw new ConfigError(`${path}.token_bucket`, 'required');
  if (c.runtimeEnabled && c.runtimeEnabled.defaultValue === undefined) throw new ConfigError(`${path}.runtime_enabled.default_value`, 'required');
  return {
    statPrefix: c.statPrefix,
    bucket: compileTokenBucket(c.tokenBucket, `${path}.token_bucket`),
    enabled: c.runtimeEnabled?.defaultValue ?? true,
    bucketOwner: c.shareKey ? `share_key:${c.shareKey}` : path,
  };
}

/**
 * Envoy's network local rate limit on one filter chain in one thread: every new connection
 * takes a token from the instance-wide bucket; one that gets none is counted
 * (`local_rate_limit.<stat_prefix>.rate_limited`) and closed at once, before any byte is read.
 */
export class NetworkLocalRateLimitFilter {
  readonly #bucket: TokenBucket;
  readonly #rateLimited: Counter;

  constructor(readonly cfg: NetworkLocalRateLimitConfig, scopes: StatScopes, slots: SharedSlots) {
    this.#bucket = new TokenBucket(cfg.bucket, slots.block(bucketSlotName(`network_local_ratelimit|${cfg.bucketOwner}`, cfg.bucket), TOKEN_BUCKET_INTS));
    this.#rateLimited = statSet(scopes.networkLocalRateLimit(cfg.statPrefix), ['rate_limited']).rate_limited;
  }

  /** Whether the connection may go on to the next filter; when not, it is already closed. */
  onNewConnection(socket: net.Socket): boolean {
    if (!this.cfg.enabled || this.#bucket.consume(Date.now())) return true;
    this.#rateLimited.inc();
    socket.destroy();
    return false;
  }
}
