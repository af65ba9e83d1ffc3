import type { DescMessage } from '@bufbuild/protobuf';
import { HTTPFaultSchema, FaultAbortSchema, FaultAbort_HeaderAbortSchema } from '../../../envoy/generated/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { FaultDelaySchema, FaultDelay_HeaderDelaySchema, FaultRateLimitSchema, FaultRateLimit_FixedLimitSchema, FaultRateLimit_HeaderLimitSchema } from '../../../envoy/generated/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import { LocalRateLimitSchema } from '../../../envoy/generated/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { LocalRateLimitDescriptorSchema, RateLimitDescriptor_EntrySchema } from '../../../envoy/generated/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';
import { TokenBucketSchema } from '../../../envoy/generated/envoy/type/v3/token_bucket_pb.js';
import { CorsSchema, CorsPolicySchema } from '../../../envoy/generated/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HttpStatusSchema } from '../../../envoy/generated/envoy/type/v3/http_status_pb.js';
import { JWT_AUTHN_SUPPORT } from './jwt-authn/supported-fields.js';
import { TypedStructSchema } from '../../../envoy/generated/xds/type/v3/typed_struct_pb.js';

/**
 * The fields of the HTTP filters' configs that filters/ implements, as http_filters entries
 * and as typed_per_filter_config values. The `*_runtime` keys are accepted: tsmesh has no
 * runtime layer, so they never resolve and the configured values apply (Envoy with an empty
 * runtime does the same).
 */
export const HTTP_FILTER_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [HTTPFaultSchema, 'delay abort response_rate_limit upstream_cluster headers downstream_nodes max_active_faults disable_downstream_cluster_stats delay_percent_runtime abort_percent_runtime delay_duration_runtime abort_http_status_runtime abort_grpc_status_runtime max_active_faults_runtime response_rate_limit_percent_runtime'],
  [FaultRateLimitSchema, 'fixed_limit header_limit percentage'],
  [FaultRateLimit_FixedLimitSchema, 'limit_kbps'],
  [FaultRateLimit_HeaderLimitSchema, ''],
  [FaultDelaySchema, 'fixed_delay header_delay percentage'],
  [FaultDelay_HeaderDelaySchema, ''],
  [FaultAbortSchema, 'http_status grpc_status header_abort percentage'],
  [FaultAbort_HeaderAbortSchema, ''],
  [LocalRateLimitSchema, 'stat_prefix status token_bucket filter_enabled filter_enforced request_headers_to_add_when_not_enforced response_headers_to_add descriptors stage local_rate_limit_per_downstream_connection enable_x_ratelimit_headers vh_rate_limits always_consume_default_token_bucket rate_limited_as_resource_exhausted'],
  [CorsSchema, ''],
  [CorsPolicySchema, 'allow_origin_string_match allow_methods allow_headers expose_headers max_age allow_credentials filter_enabled shadow_enabled allow_private_network_access forward_not_matching_preflights'],
  [HttpStatusSchema, 'code'],
  [TokenBucketSchema, 'max_tokens tokens_per_fill fill_interval'],
  [LocalRateLimitDescriptorSchema, 'entries token_bucket'],
  [RateLimitDescriptor_EntrySchema, 'key value'],
  ...JWT_AUTHN_SUPPORT,
  // istio.stats (HTTP and network): the PluginConfig inside is checked by its parser.
  [TypedStructSchema, 'type_url value'],
];
