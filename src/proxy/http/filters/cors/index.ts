import { CorsPolicySchema, CorsSchema } from '../../../../envoy/generated/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../../../envoy/registry.js';
import type { HttpFilterExtension } from '../registry.js';
import { parseCorsPerRoute } from './config.js';
import { CorsFilterFactory } from './filter.js';

/**
 * `envoy.filters.http.cors` (envoy.extensions.filters.http.cors.v3.Cors, an empty message);
 * its policies are `envoy.extensions.filters.http.cors.v3.CorsPolicy` values in
 * typed_per_filter_config, as Istio configures it.
 */
export const corsFilter: HttpFilterExtension = {
  typeUrl: typeUrlOf(CorsSchema),
  parse(f, path) {
    if (f.configType.case !== 'typedConfig') throw new ConfigError(`${path}.typed_config`, 'required');
    unpackAs(f.configType.value, CorsSchema, `${path}.typed_config`);
    return { name: f.name, terminal: false, instantiate: (ctx) => new CorsFilterFactory(f.name, ctx) };
  },
  parsePerRoute: parseCorsPerRoute,
  perRouteTypeUrl: typeUrlOf(CorsPolicySchema),
};
