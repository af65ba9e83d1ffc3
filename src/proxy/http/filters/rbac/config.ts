import type { Any } from '@bufbuild/protobuf/wkt';
import { RBACPerRouteSchema, type RBAC } from '../../../../envoy/generated/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { unpackAs } from '../../../../envoy/registry.js';
import { compileRbacEngines, type RbacEngines } from '../../../rbac/filter-config.js';

/** An `envoy.extensions.filters.http.rbac.v3.RBAC`, compiled once per config. */
export interface HttpRbacConfig extends RbacEngines {
  readonly rulesStatPrefix: string;
  readonly shadowRulesStatPrefix: string;
}

export function compileHttpRbac(c: RBAC, path: string): HttpRbacConfig {
  return { ...compileRbacEngines(c, path), rulesStatPrefix: c.rulesStatPrefix, shadowRulesStatPrefix: c.shadowRulesStatPrefix };
}

/**
 * A route's RBACPerRoute: its `rbac` replaces the filter's engines for that route (both), and
 * without one the route has no RBAC at all, as Envoy documents. Stats stay the filter's.
 */
export function parseRbacPerRoute(any: Any, path: string): RbacEngines {
  const pr = unpackAs(any, RBACPerRouteSchema, path);
  return pr.rbac ? compileRbacEngines(pr.rbac, `${path}.rbac`) : { rules: undefined, shadow: undefined };
}


