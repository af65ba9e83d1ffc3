import type { DescMessage } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../envoy/generated/envoy/config/route/v3/route_pb.js';
import {
  VirtualHostSchema, RouteSchema, RouteMatchSchema, RouteMatch_GrpcRouteMatchOptionsSchema, HeaderMatcherSchema,
  QueryParameterMatcherSchema, RouteActionSchema, WeightedClusterSchema, WeightedCluster_ClusterWeightSchema,
  RedirectActionSchema, DirectResponseActionSchema, RetryPolicySchema, RetryPolicy_RetryBackOffSchema,
  RetryPolicy_RetryHostPredicateSchema, RouteAction_RequestMirrorPolicySchema, RouteAction_MaxStreamDurationSchema,
  RateLimitSchema, RateLimit_ActionSchema,
  RateLimit_Action_RequestHeadersSchema, RateLimit_Action_RemoteAddressSchema, RateLimit_Action_GenericKeySchema,
  RateLimit_Action_HeaderValueMatchSchema, RateLimit_Action_QueryParameterValueMatchSchema,
} from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { StringMatcherSchema } from '../../../envoy/generated/envoy/type/matcher/v3/string_pb.js';
import { RegexMatcherSchema, RegexMatcher_GoogleRE2Schema, RegexMatchAndSubstituteSchema } from '../../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { Int64RangeSchema } from '../../../envoy/generated/envoy/type/v3/range_pb.js';
import { HeaderValueOptionSchema, HeaderValueSchema, DataSourceSchema } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { PreviousHostsPredicateSchema } from '../../../envoy/generated/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';

/**
 * RouteConfiguration fields that route/ implements and the connection manager and router act
 * on. Everything else in a route configuration is refused at start-up by the support table.
 * The HashPolicy messages are listed by upstream/lb/supported-fields.ts (the hash is theirs).
 */
export const ROUTE_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [RouteConfigurationSchema, 'name virtual_hosts request_mirror_policies request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove most_specific_header_mutations_wins ignore_port_in_host_matching max_direct_response_body_size_bytes'],
  [VirtualHostSchema, 'name domains routes require_tls retry_policy request_mirror_policies include_request_attempt_count include_attempt_count_in_response per_request_buffer_limit_bytes request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove'],
  [RouteSchema, 'name match route redirect direct_response per_request_buffer_limit_bytes request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove'],
  [RouteMatchSchema, 'prefix path safe_regex path_separated_prefix case_sensitive headers query_parameters grpc'],
  [RouteMatch_GrpcRouteMatchOptionsSchema, ''],
  [HeaderMatcherSchema, 'name exact_match safe_regex_match range_match present_match prefix_match suffix_match contains_match string_match invert_match treat_missing_header_as_empty'],
  [Int64RangeSchema, 'start end'],
  [QueryParameterMatcherSchema, 'name string_match present_match'],
  [StringMatcherSchema, 'exact prefix suffix safe_regex contains ignore_case'],
  [RegexMatcherSchema, 'google_re2 regex'],
  [RegexMatcher_GoogleRE2Schema, ''],
  [RegexMatchAndSubstituteSchema, 'pattern substitution'],
  [RouteActionSchema, 'cluster weighted_clusters prefix_rewrite regex_rewrite host_rewrite_literal auto_host_rewrite timeout idle_timeout hash_policy retry_policy request_mirror_policies max_grpc_timeout grpc_timeout_offset max_stream_duration priority'],
  [RetryPolicySchema, 'retry_on num_retries per_try_timeout retry_host_predicate host_selection_retry_max_attempts retriable_status_codes retry_back_off retriable_headers retriable_request_headers'],
  [RetryPolicy_RetryBackOffSchema, 'base_interval max_interval'],
  [RetryPolicy_RetryHostPredicateSchema, 'name typed_config'],
  [PreviousHostsPredicateSchema, ''],
  [RouteAction_RequestMirrorPolicySchema, 'cluster runtime_fraction disable_shadow_host_suffix_append'],
  [RouteAction_MaxStreamDurationSchema, 'max_stream_duration grpc_timeout_header_max grpc_timeout_header_offset'],
  [WeightedClusterSchema, 'clusters total_weight'],
  [WeightedCluster_ClusterWeightSchema, 'name weight'],
  [RedirectActionSchema, 'https_redirect scheme_redirect host_redirect port_redirect path_redirect prefix_rewrite regex_rewrite response_code strip_query'],
  [DirectResponseActionSchema, 'status body'],
  [DataSourceSchema, 'inline_string inline_bytes'],
  [HeaderValueOptionSchema, 'header append append_action keep_empty_value'],
  [HeaderValueSchema, 'key value'],
];

/** Compiled here and used by the connection manager and the bootstrap loader. */
export const ROUTE_SUPPORT_WIRED: ReadonlyArray<readonly [DescMessage, string]> = [
  // validate_clusters → RouteTable.clusterRefs / validateClusters, checked by the loader.
  [RouteConfigurationSchema, 'validate_clusters'],
  [RouteActionSchema, 'cluster_not_found_response_code'],
  [WeightedCluster_ClusterWeightSchema, 'request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove host_rewrite_literal'],
  // typed_per_filter_config → CompiledRoute.perFilterConfig (values parsed by the filters' per-route
  // parsers, which refuse unknown types), read by the filters through perRouteConfig().
  [RouteConfigurationSchema, 'typed_per_filter_config'],
  [VirtualHostSchema, 'typed_per_filter_config rate_limits'],
  [RouteSchema, 'typed_per_filter_config'],
  // rate_limits → CompiledRoute.rateLimits / CompiledVirtualHost.rateLimits: descriptors for the
  // local rate limit filter (the actions it can compute; the others are refused).
  [RouteActionSchema, 'rate_limits include_vh_rate_limits'],
  [RateLimitSchema, 'stage disable_key actions'],
  [RateLimit_ActionSchema, 'request_headers remote_address generic_key header_value_match query_parameter_value_match'],
  [RateLimit_Action_RequestHeadersSchema, 'header_name descriptor_key skip_if_absent'],
  [RateLimit_Action_RemoteAddressSchema, ''],
  [RateLimit_Action_GenericKeySchema, 'descriptor_value descriptor_key'],
  [RateLimit_Action_HeaderValueMatchSchema, 'descriptor_key descriptor_value expect_match headers'],
  [RateLimit_Action_QueryParameterValueMatchSchema, 'descriptor_key descriptor_value expect_match query_parameters'],
];
