import type { DescMessage } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../envoy/generated/envoy/config/route/v3/route_pb.js';
import {
  VirtualHostSchema, RouteSchema, RouteMatchSchema, RouteMatch_GrpcRouteMatchOptionsSchema, HeaderMatcherSchema,
  QueryParameterMatcherSchema, RouteActionSchema, WeightedClusterSchema, WeightedCluster_ClusterWeightSchema,
  RedirectActionSchema, DirectResponseActionSchema, RateLimitSchema, RateLimit_ActionSchema,
  RateLimit_Action_RequestHeadersSchema, RateLimit_Action_RemoteAddressSchema, RateLimit_Action_GenericKeySchema,
  RateLimit_Action_HeaderValueMatchSchema, RateLimit_Action_QueryParameterValueMatchSchema,
} from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { StringMatcherSchema } from '../../../envoy/generated/envoy/type/matcher/v3/string_pb.js';
import { RegexMatcherSchema, RegexMatcher_GoogleRE2Schema, RegexMatchAndSubstituteSchema } from '../../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { Int64RangeSchema } from '../../../envoy/generated/envoy/type/v3/range_pb.js';
import { HeaderValueOptionSchema, HeaderValueSchema, DataSourceSchema } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';

/**
 * RouteConfiguration fields that route/ implements and the connection manager and router act
 * on. Everything else in a route configuration is refused at start-up by the support table.
 * The HashPolicy messages are listed by upstream/lb/supported-fields.ts (the hash is theirs).
 */
export const ROUTE_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [RouteConfigurationSchema, 'name virtual_hosts request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove most_specific_header_mutations_wins ignore_port_in_host_matching max_direct_response_body_size_bytes'],
  [VirtualHostSchema, 'name domains routes require_tls request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove'],
  [RouteSchema, 'name match route redirect direct_response request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove'],
  [RouteMatchSchema, 'prefix path safe_regex path_separated_prefix case_sensitive headers query_parameters grpc'],
  [RouteMatch_GrpcRouteMatchOptionsSchema, ''],
  [HeaderMatcherSchema, 'name exact_match safe_regex_match range_match present_match prefix_match suffix_match contains_match string_match invert_match treat_missing_header_as_empty'],
  [Int64RangeSchema, 'start end'],
  [QueryParameterMatcherSchema, 'name string_match present_match'],
  [StringMatcherSchema, 'exact prefix suffix safe_regex contains ignore_case'],
  [RegexMatcherSchema, 'google_re2 regex'],
  [RegexMatcher_GoogleRE2Schema, ''],
  [RegexMatchAndSubstituteSchema, 'pattern substitution'],
  [RouteActionSchema, 'cluster weighted_clusters prefix_rewrite regex_rewrite host_rewrite_literal auto_host_rewrite timeout hash_policy'],
  [WeightedClusterSchema, 'clusters total_weight'],
  [WeightedCluster_ClusterWeightSchema, 'name weight'],
  [RedirectActionSchema, 'https_redirect scheme_redirect host_redirect port_redirect path_redirect prefix_rewrite regex_rewrite response_code strip_query'],
  [DirectResponseActionSchema, 'status body'],
  [DataSourceSchema, 'inline_string inline_bytes'],
  [HeaderValueOptionSchema, 'header append append_action keep_empty_value'],
  [HeaderValueSchema, 'key value'],
];

/**
 * Compiled and exposed by route/ but not yet acted on by the router (conn-manager): add them to
 * the support table with the change that honours them. idle_timeout → ForwardAction.idleTimeoutMs;
 * retry_policy / request_mirror_policies → raw messages on ForwardAction; cluster_not_found_response_code
 * → clusterNotFoundStatus; ClusterWeight headers and host_rewrite_literal → pickClusterEntry() +
 * apply*HeaderMutations(sel, headers, choice).
 */
export const ROUTE_SUPPORT_AWAITING_ROUTER: ReadonlyArray<readonly [DescMessage, string]> = [
  [RouteConfigurationSchema, 'request_mirror_policies'],
  [VirtualHostSchema, 'retry_policy request_mirror_policies'],
  [RouteActionSchema, 'idle_timeout retry_policy request_mirror_policies'],
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
