import type { SupportEntry } from '../../envoy/support.js';

/**
 * The RBAC fields rbac/ implements, for `envoy.filters.http.rbac` (and RBACPerRoute) and
 * `envoy.filters.network.rbac`. HeaderMatcher and StringMatcher are the route's (route/). By
 * type name: the descriptors load with the filters (tcp/rbac-load.ts, http/filters/registry.ts).
 */
export const RBAC_SUPPORT: ReadonlyArray<SupportEntry> = [
  ['envoy.extensions.filters.http.rbac.v3.RBAC', 'rules rules_stat_prefix shadow_rules shadow_rules_stat_prefix'],
  ['envoy.extensions.filters.http.rbac.v3.RBACPerRoute', 'rbac'],
  ['envoy.extensions.filters.network.rbac.v3.RBAC', 'rules shadow_rules shadow_rules_stat_prefix stat_prefix enforcement_type'],
  ['envoy.config.rbac.v3.RBAC', 'action policies'],
  ['envoy.config.rbac.v3.Policy', 'permissions principals'],
  ['envoy.config.rbac.v3.Permission', 'and_rules or_rules any header url_path destination_ip destination_port destination_port_range metadata not_rule requested_server_name'],
  ['envoy.config.rbac.v3.Permission.Set', 'rules'],
  ['envoy.config.rbac.v3.Principal', 'and_ids or_ids any authenticated source_ip direct_remote_ip remote_ip header url_path metadata not_id'],
  ['envoy.config.rbac.v3.Principal.Set', 'ids'],
  ['envoy.config.rbac.v3.Principal.Authenticated', 'principal_name'],
  ['envoy.type.matcher.v3.PathMatcher', 'path'],
  ['envoy.type.matcher.v3.MetadataMatcher', 'filter path value invert'],
  ['envoy.type.matcher.v3.MetadataMatcher.PathSegment', 'key'],
  ['envoy.type.matcher.v3.ValueMatcher', 'null_match double_match string_match bool_match present_match list_match or_match'],
  ['envoy.type.matcher.v3.ValueMatcher.NullMatch', ''],
  ['envoy.type.matcher.v3.ListMatcher', 'one_of'],
  ['envoy.type.matcher.v3.OrMatcher', 'value_matchers'],
  ['envoy.type.matcher.v3.DoubleMatcher', 'range exact'],
  ['envoy.type.v3.DoubleRange', 'start end'],
  ['envoy.type.v3.Int32Range', 'start end'],
  ['envoy.config.core.v3.CidrRange', 'address_prefix prefix_len'],
];
