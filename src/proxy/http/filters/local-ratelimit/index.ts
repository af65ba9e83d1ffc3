import { LocalRateLimitSchema } from '../../../../envoy/generated/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../../../envoy/registry.js';
import type { HttpFilterExtension } from '../registry.js';
import { compileLocalRateLimit, parseLocalRateLimitPerRoute } from './config.js';
import { LocalRateLimitFactory } from './filter.js';

/** `envoy.filters.http.local_ratelimit` (envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit). */
export const localRateLimitFilter: HttpFilterExtension = {
  typeUrl: typeUrlOf(LocalRateLimitSchema),
  parse(f, path) {
    if (f.configType.case !== 'typedConfig') throw new ConfigError(`${path}.typed_config`, 'required');
    const p = `${path}.typed_config`;
    const settings = compileLocalRateLimit(unpackAs(f.configType.value, LocalRateLimitSchema, p), p, false);
    return { name: f.name, terminal: false, instantiate: (ctx) => new LocalRateLimitFactory(f.name, settings, ctx) };
  },
  parsePerRoute: parseLocalRateLimitPerRoute,
};
