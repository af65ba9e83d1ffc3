import type { DescMessage } from '@bufbuild/protobuf';
import { HTTPFaultSchema, FaultAbortSchema, FaultAbort_HeaderAbortSchema } from '../../../envoy/generated/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { FaultDelaySchema, FaultDelay_HeaderDelaySchema } from '../../../envoy/generated/envoy/extensions/filters/common/fault/v3/fault_pb.js';

/**
 * The fields of the HTTP filters' configs that filters/ implements, as http_filters entries
 * and as typed_per_filter_config values. The `*_runtime` keys are accepted: tsmesh has no
 * runtime layer, so they never resolve and the configured values apply (Envoy with an empty
 * runtime does the same).
 */
export const HTTP_FILTER_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [HTTPFaultSchema, 'delay abort upstream_cluster headers downstream_nodes max_active_faults disable_downstream_cluster_stats delay_percent_runtime abort_percent_runtime delay_duration_runtime abort_http_status_runtime abort_grpc_status_runtime max_active_faults_runtime'],
  [FaultDelaySchema, 'fixed_delay header_delay percentage'],
  [FaultDelay_HeaderDelaySchema, ''],
  [FaultAbortSchema, 'http_status grpc_status header_abort percentage'],
  [FaultAbort_HeaderAbortSchema, ''],
];
