import type { SupportEntry } from '../../envoy/support.js';
import { HttpConnectionManager_TracingSchema } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { Tracing_HttpSchema } from '../../envoy/generated/envoy/config/trace/v3/http_tracer_pb.js';
import { HttpUriSchema } from '../../envoy/generated/envoy/config/core/v3/http_uri_pb.js';
import { CustomTagSchema, CustomTag_LiteralSchema, CustomTag_EnvironmentSchema, CustomTag_HeaderSchema } from '../../envoy/generated/envoy/type/tracing/v3/custom_tag_pb.js';

/**
 * The tracing fields tracing/ implements (the HCM's `tracing`, the two providers, custom tags).
 * The providers' messages by name: their descriptors load with the tracing code (load.ts).
 */
export const TRACING_SUPPORT: ReadonlyArray<SupportEntry> = [
  [HttpConnectionManager_TracingSchema, 'client_sampling random_sampling overall_sampling max_path_tag_length custom_tags provider spawn_upstream_span'],
  [Tracing_HttpSchema, 'name typed_config'],
  ['envoy.config.trace.v3.OpenTelemetryConfig', 'http_service service_name'],
  ['envoy.config.core.v3.HttpService', 'http_uri request_headers_to_add'],
  [HttpUriSchema, 'uri cluster timeout'],
  ['envoy.config.trace.v3.ZipkinConfig', 'collector_cluster collector_endpoint trace_id_128bit shared_span_context collector_endpoint_version collector_hostname'],
  [CustomTagSchema, 'tag literal environment request_header'],
  [CustomTag_LiteralSchema, 'value'],
  [CustomTag_EnvironmentSchema, 'name default_value'],
  [CustomTag_HeaderSchema, 'name default_value'],
];
