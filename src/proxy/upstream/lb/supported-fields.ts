/**
 * The Envoy fields the load balancers and the hash policy implement, for the proxy's support
 * table (src/proxy/supported.ts). Entries for a message listed elsewhere too are merged.
 */
import type { DescMessage } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_CommonLbConfigSchema, Cluster_LeastRequestLbConfigSchema, Cluster_MaglevLbConfigSchema, Cluster_RingHashLbConfigSchema, Cluster_RoundRobinLbConfigSchema } from '../../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { RuntimeDoubleSchema } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { LbEndpointSchema } from '../../../envoy/generated/envoy/config/endpoint/v3/endpoint_components_pb.js';
import {
  RouteAction_HashPolicySchema, RouteAction_HashPolicy_ConnectionPropertiesSchema, RouteAction_HashPolicy_CookieAttributeSchema,
  RouteAction_HashPolicy_CookieSchema, RouteAction_HashPolicy_HeaderSchema, RouteAction_HashPolicy_QueryParameterSchema,
} from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { RegexMatchAndSubstituteSchema, RegexMatcherSchema } from '../../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { PercentSchema } from '../../../envoy/generated/envoy/type/v3/percent_pb.js';

export const LB_SUPPORT: ReadonlyArray<readonly [DescMessage, string]> = [
  [ClusterSchema, 'lb_policy ring_hash_lb_config maglev_lb_config least_request_lb_config round_robin_lb_config common_lb_config'],
  // Only the panic threshold (cluster-health.ts); zone-aware, locality and the rest are refused.
  [Cluster_CommonLbConfigSchema, 'healthy_panic_threshold'],
  [PercentSchema, 'value'],
  [Cluster_RoundRobinLbConfigSchema, ''],
  [Cluster_LeastRequestLbConfigSchema, 'choice_count active_request_bias'],
  // No runtime layer: runtime_key (required by Envoy's validation) is accepted, default_value used.
  [RuntimeDoubleSchema, 'default_value runtime_key'],
  [Cluster_RingHashLbConfigSchema, 'minimum_ring_size maximum_ring_size hash_function'],
  [Cluster_MaglevLbConfigSchema, 'table_size'],
  [LbEndpointSchema, 'load_balancing_weight'],
  [RouteAction_HashPolicySchema, 'header cookie connection_properties query_parameter terminal'],
  [RouteAction_HashPolicy_HeaderSchema, 'header_name regex_rewrite'],
  [RouteAction_HashPolicy_CookieSchema, 'name ttl path attributes'],
  [RouteAction_HashPolicy_CookieAttributeSchema, 'name value'],
  [RouteAction_HashPolicy_ConnectionPropertiesSchema, 'source_ip'],
  [RouteAction_HashPolicy_QueryParameterSchema, 'name'],
  [RegexMatchAndSubstituteSchema, 'pattern substitution'],
  [RegexMatcherSchema, 'regex'],
];
