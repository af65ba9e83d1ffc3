/**
 * The Envoy fields active health checking implements, for the proxy's support table
 * (src/proxy/supported.ts). Not listed, so refused at start-up: custom and Redis checkers,
 * event logs, TLS options, transport socket matching, HTTP service_name_matcher and send,
 * TCP proxy_protocol_config, and more than one health check per cluster (config.ts).
 */
import type { DescMessage } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import {
  HealthCheckSchema, HealthCheck_GrpcHealthCheckSchema, HealthCheck_HttpHealthCheckSchema, HealthCheck_PayloadSchema,
  HealthCheck_TcpHealthCheckSchema,
} from '../../../envoy/generated/envoy/config/core/v3/health_check_pb.js';
import { HeaderValueOptionSchema, HeaderValueSchema } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { Int64RangeSchema } from '../../../envoy/generated/envoy/type/v3/range_pb.js';

export const HEALTH_CHECK_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [ClusterSchema, 'health_checks'],
  [HealthCheckSchema, 'timeout interval initial_jitter interval_jitter interval_jitter_percent unhealthy_threshold healthy_threshold alt_port reuse_connection http_health_check tcp_health_check grpc_health_check no_traffic_interval no_traffic_healthy_interval unhealthy_interval unhealthy_edge_interval healthy_edge_interval'],
  [HealthCheck_HttpHealthCheckSchema, 'host path receive response_buffer_size request_headers_to_add request_headers_to_remove expected_statuses retriable_statuses codec_client_type method'],
  [HealthCheck_TcpHealthCheckSchema, 'send receive'],
  [HealthCheck_GrpcHealthCheckSchema, 'service_name authority initial_metadata'],
  [HealthCheck_PayloadSchema, 'text binary'],
  [Int64RangeSchema, 'start end'],
  [HeaderValueOptionSchema, 'header append append_action keep_empty_value'],
  [HeaderValueSchema, 'key value'],
];
