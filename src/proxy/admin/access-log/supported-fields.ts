import type { DescMessage } from '@bufbuild/protobuf';
import { AccessLogFilterSchema, ComparisonFilterSchema, StatusCodeFilterSchema, DurationFilterSchema, NotHealthCheckFilterSchema, AndFilterSchema, OrFilterSchema, HeaderFilterSchema, ResponseFlagFilterSchema } from '../../../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { RuntimeUInt32Schema } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';

/** The access-log filters filter.ts implements. `runtime_key` is accepted: without a runtime layer `default_value` applies. */
export const ACCESS_LOG_FILTER_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [AccessLogFilterSchema, 'status_code_filter duration_filter not_health_check_filter and_filter or_filter header_filter response_flag_filter'],
  [StatusCodeFilterSchema, 'comparison'],
  [DurationFilterSchema, 'comparison'],
  [ComparisonFilterSchema, 'op value'],
  [RuntimeUInt32Schema, 'default_value runtime_key'],
  [NotHealthCheckFilterSchema, ''],
  [AndFilterSchema, 'filters'],
  [OrFilterSchema, 'filters'],
  [HeaderFilterSchema, 'header'],
  [ResponseFlagFilterSchema, 'flags'],
];
