import { supportTable } from '../envoy/support.js';
import { BootstrapSchema, Bootstrap_StaticResourcesSchema, AdminSchema } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { NodeSchema, MetadataSchema, LocalitySchema } from '../envoy/generated/envoy/config/core/v3/base_pb.js';
import { AddressSchema, SocketAddressSchema, CidrRangeSchema } from '../envoy/generated/envoy/config/core/v3/address_pb.js';
import { ListenerSchema } from '../envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { FilterChainSchema, FilterChainMatchSchema, FilterSchema, ListenerFilterSchema } from '../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema, HttpFilterSchema, HttpConnectionManager_UpgradeConfigSchema } from '../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HttpProtocolOptionsSchema as CoreHttpProtocolOptionsSchema, Http2ProtocolOptionsSchema, Http1ProtocolOptionsSchema } from '../envoy/generated/envoy/config/core/v3/protocol_pb.js';
import { RouterSchema } from '../envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import { TcpProxySchema, TcpProxy_WeightedClusterSchema, TcpProxy_WeightedCluster_ClusterWeightSchema } from '../envoy/generated/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { LocalRateLimitSchema as NetworkLocalRateLimitSchema } from '../envoy/generated/envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit_pb.js';
import { OriginalDstSchema } from '../envoy/generated/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { FilterSchema as ClusterFilterSchema } from '../envoy/generated/envoy/config/cluster/v3/filter_pb.js';
import { TlsInspectorSchema } from '../envoy/generated/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { ClusterSchema, Cluster_OriginalDstLbConfigSchema, Cluster_RingHashLbConfigSchema, Cluster_MaglevLbConfigSchema, Cluster_LeastRequestLbConfigSchema } from '../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { CircuitBreakersSchema, CircuitBreakers_ThresholdsSchema, CircuitBreakers_Thresholds_RetryBudgetSchema } from '../envoy/generated/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { ClusterLoadAssignmentSchema } from '../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { LocalityLbEndpointsSchema, LbEndpointSchema, EndpointSchema } from '../envoy/generated/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { HttpProtocolOptionsSchema, HttpProtocolOptions_ExplicitHttpConfigSchema } from '../envoy/generated/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { AccessLogSchema } from '../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { SubstitutionFormatStringSchema } from '../envoy/generated/envoy/config/core/v3/substitution_format_string_pb.js';
import { DataSourceSchema, RuntimeFractionalPercentSchema, RuntimeFeatureFlagSchema } from '../envoy/generated/envoy/config/core/v3/base_pb.js';
import { PercentSchema, FractionalPercentSchema } from '../envoy/generated/envoy/type/v3/percent_pb.js';
import { ROUTE_SUPPORT, ROUTE_SUPPORT_WIRED } from './http/route/supported-fields.js';
import { LB_SUPPORT } from './upstream/lb/supported-fields.js';
import { HTTP_FILTER_SUPPORT } from './http/filters/supported-fields.js';
import { HEALTH_CHECK_SUPPORT } from './upstream/health/supported-fields.js';
import { OUTLIER_SUPPORT } from './upstream/outlier/supported-fields.js';
import { XDS_SUPPORT } from './xds/supported-fields.js';
import { RBAC_SUPPORT } from './rbac/supported-fields.js';
import { TRACING_SUPPORT } from './tracing/supported-fields.js';
import { ACCESS_LOG_FILTER_SUPPORT } from './admin/access-log/supported-fields.js';
import { ACCESS_LOGGER_SUPPORT } from './access-log.js';
import { TLS_SUPPORT } from './tls/supported-fields.js';

/**
 * Every Envoy field tsmesh implements. A bootstrap that sets anything else is refused at start
 * with the field's path, so no setting is ever silently ignored. Keep in step with the code.
 */
export const SUPPORTED = supportTable([
  [BootstrapSchema, 'node static_resources dynamic_resources admin'],
  ...XDS_SUPPORT,
  [NodeSchema, 'id cluster metadata locality'],
  [MetadataSchema, '*'],
  [LocalitySchema, '*'],
  [Bootstrap_StaticResourcesSchema, 'listeners clusters'],
  [AdminSchema, 'address access_log'],
  [AddressSchema, 'socket_address'],
  [SocketAddressSchema, 'address port_value'],
  [CidrRangeSchema, 'address_prefix prefix_len'],
  [ListenerSchema, 'name address filter_chains default_filter_chain listener_filters listener_filters_timeout continue_on_listener_filters_timeout stat_prefix traffic_direction bind_to_port use_original_dst'],
  [ListenerFilterSchema, 'name typed_config'],
  [TlsInspectorSchema, '*'],
  [OriginalDstSchema, '*'],
  [FilterChainSchema, 'filter_chain_match filters name'],
  [FilterChainMatchSchema, 'destination_port prefix_ranges server_names transport_protocol application_protocols source_prefix_ranges source_ports'],
  [FilterSchema, 'name typed_config'],
  [HttpConnectionManagerSchema, 'codec_type stat_prefix route_config rds http_filters server_name use_remote_address xff_num_trusted_hops skip_xff_append generate_request_id preserve_external_request_id always_set_request_id_in_response max_request_headers_kb common_http_protocol_options stream_idle_timeout request_timeout request_headers_timeout access_log upgrade_configs via http_protocol_options http2_protocol_options strip_matching_host_port strip_any_host_port tracing'],
  [HttpConnectionManager_UpgradeConfigSchema, 'upgrade_type enabled'],
  [CoreHttpProtocolOptionsSchema, 'idle_timeout max_headers_count max_stream_duration max_requests_per_connection max_connection_duration'],
  [Http1ProtocolOptionsSchema, ''],
  [Http2ProtocolOptionsSchema, 'max_concurrent_streams'],
  [HttpFilterSchema, 'name typed_config'],
  [RouterSchema, 'suppress_envoy_headers'],
  [TcpProxySchema, 'stat_prefix cluster weighted_clusters idle_timeout access_log'],
  [TcpProxy_WeightedClusterSchema, 'clusters'],
  [NetworkLocalRateLimitSchema, 'stat_prefix token_bucket runtime_enabled share_key'],
  [RuntimeFeatureFlagSchema, 'default_value runtime_key'],
  [TcpProxy_WeightedCluster_ClusterWeightSchema, 'name weight'],
  [ClusterSchema, 'name type connect_timeout lb_policy load_assignment typed_extension_protocol_options circuit_breakers dns_refresh_rate dns_lookup_family ring_hash_lb_config maglev_lb_config least_request_lb_config eds_cluster_config cleanup_interval original_dst_lb_config filters'],
  [ClusterFilterSchema, 'name typed_config'],
  [Cluster_OriginalDstLbConfigSchema, 'use_http_header http_header_name upstream_port_override'],
  [Cluster_RingHashLbConfigSchema, 'minimum_ring_size maximum_ring_size hash_function'],
  [Cluster_MaglevLbConfigSchema, 'table_size'],
  [Cluster_LeastRequestLbConfigSchema, 'choice_count active_request_bias'],
  [CircuitBreakersSchema, 'thresholds'],
  [CircuitBreakers_ThresholdsSchema, 'priority max_connections max_pending_requests max_requests max_retries retry_budget track_remaining max_connection_pools'],
  [CircuitBreakers_Thresholds_RetryBudgetSchema, 'budget_percent min_retry_concurrency'],
  [PercentSchema, 'value'],
  [RuntimeFractionalPercentSchema, 'default_value runtime_key'],
  [FractionalPercentSchema, 'numerator denominator'],
  [ClusterLoadAssignmentSchema, 'cluster_name endpoints'],
  [LocalityLbEndpointsSchema, 'lb_endpoints locality'],
  [LbEndpointSchema, 'endpoint load_balancing_weight'],
  [EndpointSchema, 'address hostname'],
  [HttpProtocolOptionsSchema, 'explicit_http_config common_http_protocol_options'],
  [HttpProtocolOptions_ExplicitHttpConfigSchema, 'http_protocol_options http2_protocol_options'],
  [AccessLogSchema, 'name typed_config filter'],
  ...ACCESS_LOG_FILTER_SUPPORT,
  ...ACCESS_LOGGER_SUPPORT,
  [SubstitutionFormatStringSchema, 'text_format_source json_format omit_empty_values content_type'],
  [DataSourceSchema, 'inline_string'],
  ...ROUTE_SUPPORT,
  ...ROUTE_SUPPORT_WIRED,
  ...LB_SUPPORT,
  ...HTTP_FILTER_SUPPORT,
  ...HEALTH_CHECK_SUPPORT,
  ...OUTLIER_SUPPORT,
  ...RBAC_SUPPORT,
  ...TRACING_SUPPORT,
  ...TLS_SUPPORT,
]);
