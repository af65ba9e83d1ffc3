/**
 * The Envoy fields outlier detection implements, for the proxy's support table
 * (src/proxy/supported.ts). `monitors` (extension monitors) is not listed, so it is refused.
 */
import type { DescMessage } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { OutlierDetectionSchema } from '../../../envoy/generated/envoy/config/cluster/v3/outlier_detection_pb.js';

export const OUTLIER_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [ClusterSchema, 'outlier_detection'],
  [OutlierDetectionSchema, [
    'consecutive_5xx interval base_ejection_time max_ejection_percent enforcing_consecutive_5xx enforcing_success_rate',
    'success_rate_minimum_hosts success_rate_request_volume success_rate_stdev_factor consecutive_gateway_failure',
    'enforcing_consecutive_gateway_failure split_external_local_origin_errors consecutive_local_origin_failure',
    'enforcing_consecutive_local_origin_failure enforcing_local_origin_success_rate failure_percentage_threshold',
    'enforcing_failure_percentage enforcing_failure_percentage_local_origin failure_percentage_minimum_hosts',
    'failure_percentage_request_volume max_ejection_time max_ejection_time_jitter successful_active_health_check_uneject_host',
    'always_eject_one_host',
  ].join(' ')],
];
