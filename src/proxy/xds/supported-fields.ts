import { Bootstrap_DynamicResourcesSchema } from '../../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ApiConfigSourceSchema, AggregatedConfigSourceSchema, ConfigSourceSchema } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import { GrpcServiceSchema, GrpcService_EnvoyGrpcSchema } from '../../envoy/generated/envoy/config/core/v3/grpc_service_pb.js';
import { Cluster_EdsClusterConfigSchema } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RdsSchema } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { DescMessage } from '@bufbuild/protobuf';

/** The xDS fields tsmesh implements (bootstrap dynamic_resources, EDS clusters, RDS). */
export const XDS_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [Bootstrap_DynamicResourcesSchema, 'ads_config lds_config cds_config'],
  [ApiConfigSourceSchema, 'api_type transport_api_version grpc_services set_node_on_first_message_only'],
  [GrpcServiceSchema, 'envoy_grpc'],
  [GrpcService_EnvoyGrpcSchema, 'cluster_name'],
  [ConfigSourceSchema, 'ads resource_api_version initial_fetch_timeout'],
  [AggregatedConfigSourceSchema, '*'],
  [Cluster_EdsClusterConfigSchema, 'eds_config service_name'],
  [RdsSchema, 'config_source route_config_name'],
];
