import type { DescMessage } from '@bufbuild/protobuf';
import { HttpConnectionManager_TracingSchema } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { Tracing_HttpSchema } from '../../envoy/generated/envoy/config/trace/v3/http_tracer_pb.js';
import { OpenTelemetryConfigSchema } from '../../envoy/generated/envoy/config/trace/v3/opentelemetry_pb.js';
import { ZipkinConfigSchema } from '../../envoy/generated/envoy/config/trace/v3/zipkin_pb.js';
import { HttpServiceSchema } from '../../envoy/generated/envoy/config/core/v3/http_service_pb.js';
import { HttpUriSchema } from '../../envoy/generated/envoy/config/core/v3/http_uri_pb.js';
import { CustomTagSchema, CustomTag_LiteralSchema, CustomTag_EnvironmentSchema, CustomTag_HeaderSchema } from '../../envoy/generated/envoy/type/tracing/v3/custom_tag_pb.js';

/** The tracing fields tracing/ implements (the HCM's `tracing`, the two providers, custom tags). */
export const TRACING_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [HttpConnectionManager_TracingSchema, 'client_sampling random_sampling overall_sampling max_path_tag_length custom_tags provider spawn_upstream_span'],
  [Tracing_HttpSchema, 'name typed_config'],
  [OpenTelemetryConfigSchema, 'http_service service_name'],
  [HttpServiceSchema, 'http_uri request_headers_to_add'],
  [HttpUriSchema, 'uri cluster timeout'],
  [ZipkinConfigSchema, 'collector_cluster collector_endpoint trace_id_128bit shared_span_context collector_endpoint_version collector_hostname'],
  [CustomTagSchema, 'tag literal environment request_header'],
  [CustomTag_LiteralSchema, 'value'],
  [CustomTag_EnvironmentSchema, 'name default_value'],
  [CustomTag_HeaderSchema, 'name default_value'],
];
