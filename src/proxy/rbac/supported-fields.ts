import type { SupportEntry } from '../../envoy/support.js';
import { RBACSchema as NetworkRbacSchema } from '../../envoy/generated/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { RBACSchema, PolicySchema, PermissionSchema, Permission_SetSchema, PrincipalSchema, Principal_SetSchema, Principal_AuthenticatedSchema } from '../../envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { PathMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/path_pb.js';
import { MetadataMatcherSchema, MetadataMatcher_PathSegmentSchema } from '../../envoy/generated/envoy/type/matcher/v3/metadata_pb.js';
import { ValueMatcherSchema, ValueMatcher_NullMatchSchema, ListMatcherSchema, OrMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/value_pb.js';
import { DoubleMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/number_pb.js';
import { DoubleRangeSchema, Int32RangeSchema } from '../../envoy/generated/envoy/type/v3/range_pb.js';
import { CidrRangeSchema } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';

/**
 * The RBAC fields rbac/ implements, for `envoy.filters.http.rbac` (and RBACPerRoute) and
 * `envoy.filters.network.rbac`. HeaderMatcher and StringMatcher are the route's (route/). The
 * HTTP filter's own messages by name: their descriptors load with the filter.
 */
export const RBAC_SUPPORT: ReadonlyArray<SupportEntry> = [
  ['envoy.extensions.filters.http.rbac.v3.RBAC', 'rules rules_stat_prefix shadow_rules shadow_rules_stat_prefix'],
  ['envoy.extensions.filters.http.rbac.v3.RBACPerRoute', 'rbac'],
  [NetworkRbacSchema, 'rules shadow_rules shadow_rules_stat_prefix stat_prefix enforcement_type'],
  [RBACSchema, 'action policies'],
  [PolicySchema, 'permissions principals'],
  [PermissionSchema, 'and_rules or_rules any header url_path destination_ip destination_port destination_port_range metadata not_rule requested_server_name'],
  [Permission_SetSchema, 'rules'],
  [PrincipalSchema, 'and_ids or_ids any authenticated source_ip direct_remote_ip remote_ip header url_path metadata not_id'],
  [Principal_SetSchema, 'ids'],
  [Principal_AuthenticatedSchema, 'principal_name'],
  [PathMatcherSchema, 'path'],
  [MetadataMatcherSchema, 'filter path value invert'],
  [MetadataMatcher_PathSegmentSchema, 'key'],
  [ValueMatcherSchema, 'null_match double_match string_match bool_match present_match list_match or_match'],
  [ValueMatcher_NullMatchSchema, ''],
  [ListMatcherSchema, 'one_of'],
  [OrMatcherSchema, 'value_matchers'],
  [DoubleMatcherSchema, 'range exact'],
  [DoubleRangeSchema, 'start end'],
  [Int32RangeSchema, 'start end'],
  [CidrRangeSchema, 'address_prefix prefix_len'],
];
