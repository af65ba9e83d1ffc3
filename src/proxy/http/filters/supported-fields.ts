import type { SupportEntry } from '../../../envoy/support.js';
import { JWT_AUTHN_SUPPORT } from './jwt-authn/supported-fields.js';

/**
 * The fields of the HTTP filters' configs that filters/ implements, as http_filters entries
 * and as typed_per_filter_config values. The `*_runtime` keys are accepted: tsmesh has no
 * runtime layer, so they never resolve and the configured values apply (Envoy with an empty
 * runtime does the same). By type name: the filters' descriptors load with the filters.
 */
export const HTTP_FILTER_SUPPORT: ReadonlyArray<SupportEntry> = [
  ['envoy.extensions.filters.http.fault.v3.HTTPFault', 'delay abort response_rate_limit upstream_cluster headers downstream_nodes max_active_faults disable_downstream_cluster_stats delay_percent_runtime abort_percent_runtime delay_duration_runtime abort_http_status_runtime abort_grpc_status_runtime max_active_faults_runtime response_rate_limit_percent_runtime'],
  ['envoy.extensions.filters.common.fault.v3.FaultRateLimit', 'fixed_limit header_limit percentage'],
  ['envoy.extensions.filters.common.fault.v3.FaultRateLimit.FixedLimit', 'limit_kbps'],
  ['envoy.extensions.filters.common.fault.v3.FaultRateLimit.HeaderLimit', ''],
  ['envoy.extensions.filters.common.fault.v3.FaultDelay', 'fixed_delay header_delay percentage'],
  ['envoy.extensions.filters.common.fault.v3.FaultDelay.HeaderDelay', ''],
  ['envoy.extensions.filters.http.fault.v3.FaultAbort', 'http_status grpc_status header_abort percentage'],
  ['envoy.extensions.filters.http.fault.v3.FaultAbort.HeaderAbort', ''],
  ['envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', 'stat_prefix status token_bucket filter_enabled filter_enforced request_headers_to_add_when_not_enforced response_headers_to_add descriptors stage local_rate_limit_per_downstream_connection enable_x_ratelimit_headers vh_rate_limits always_consume_default_token_bucket rate_limited_as_resource_exhausted'],
  ['envoy.extensions.filters.http.cors.v3.Cors', ''],
  ['envoy.extensions.filters.http.cors.v3.CorsPolicy', 'allow_origin_string_match allow_methods allow_headers expose_headers max_age allow_credentials filter_enabled shadow_enabled allow_private_network_access forward_not_matching_preflights'],
  ['envoy.type.v3.HttpStatus', 'code'],
  ['envoy.type.v3.TokenBucket', 'max_tokens tokens_per_fill fill_interval'],
  ['envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor', 'entries token_bucket'],
  ['envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry', 'key value'],
  ...JWT_AUTHN_SUPPORT,
  // istio.stats (HTTP and network): the PluginConfig inside is checked by its parser.
  ['xds.type.v3.TypedStruct', 'type_url value'],
];
