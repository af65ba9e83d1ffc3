import type { SharedSlots } from '../../../shared/slots.js';
import { TokenBucket, TOKEN_BUCKET_INTS, type TokenBucketSpec } from '../../../shared/token-bucket.js';
import { bucketSlotName } from '../../../shared/token-bucket-config.js';
import type { DescriptorKey } from '../../route/rate-limits.js';
import type { LocalRateLimitSettings } from './config.js';

/** What a request got from the limiter: the decision, and the bucket its x-ratelimit headers describe. */
export interface LimitResult {
  readonly allowed: boolean;
  readonly bucket: TokenBucket | undefined;
}

/**
 * The buckets of one LocalRateLimitSettings: the default bucket and one per descriptor, over
 * the instance's shared slots (every worker takes from the same tokens) or over private memory
 * (local_rate_limit_per_downstream_connection: a connection's own).
 */
export class LocalRateLimiter {
  readonly #default: TokenBucket | undefined;
  readonly #descriptors: readonly TokenBucket[];

  constructor(readonly settings: LocalRateLimitSettings, slots: SharedSlots | undefined) {
    const bucket = (owner: string, spec: TokenBucketSpec): TokenBucket =>
      new TokenBucket(spec, slots ? slots.block(bucketSlotName(owner, spec), TOKEN_BUCKET_INTS) : undefined);
    this.#default = settings.bucket ? bucket(settings.id, settings.bucket) : undefined;
    this.#descriptors = settings.descriptors.map((d, i) => bucket(`${settings.id}.descriptors#${i}`, d.bucket));
  }

  /**
   * Envoy's LocalRateLimiterImpl::requestAllowed: every configured descriptor the request has
   * takes a token, strictest first, stopping at the first that has none; the default bucket
   * takes one too when no descriptor matched or always_consume_default_token_bucket. No default
   * bucket limits nothing.
   */
  requestAllowed(request: readonly DescriptorKey[], nowMs: number): LimitResult {
    const s = this.settings;
    let matched = false;
    if (request.length > 0) {
      for (let i = 0; i < s.descriptors.length; i++) {
        if (!request.includes(s.descriptors[i]!.key)) continue;
        matched = true;
        if (!this.#descriptors[i]!.consume(nowMs)) return { allowed: false, bucket: this.#headerBucket(request) };
      }
    }
    if ((!matched || s.alwaysConsumeDefault) && this.#default && !this.#default.consume(nowMs)) {
      return { allowed: false, bucket: this.#headerBucket(request) };
    }
    return { allowed: true, bucket: this.#headerBucket(request) };
  }

  /** The bucket x-ratelimit-* headers describe: the first request descriptor configured, else the default. */
  #headerBucket(request: readonly DescriptorKey[]): TokenBucket | undefined {
    for (const d of request) {
      const i = this.settings.descriptorIndex.get(d);
      if (i !== undefined) return this.#descriptors[i];
    }
    return this.#default;
  }
}
