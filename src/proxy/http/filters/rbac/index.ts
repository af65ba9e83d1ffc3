import { RBACSchema, RBACPerRouteSchema } from '../../../../envoy/generated/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../../../envoy/registry.js';
import type { HttpFilterExtension } from '../registry.js';
import { compileHttpRbac, parseRbacPerRoute } from './config.js';
import { HttpRbacFactory } from './filter.js';

/** `envoy.filters.http.rbac` (envoy.extensions.filters.http.rbac.v3.RBAC; routes: RBACPerRoute). */
export const rbacFilter: HttpFilterExtension = {
  typeUrl: typeUrlOf(RBACSchema),
  parse(f, path) {
    if (f.configType.case !== 'typedConfig') throw new ConfigError(`${path}.typed_config`, 'required');
    const p = `${path}.typed_config`;
    const config = compileHttpRbac(unpackAs(f.configType.value, RBACSchema, p), p);
    return { name: f.name, terminal: false, instantiate: (ctx) => new HttpRbacFactory(f.name, config, ctx) };
  },
  parsePerRoute: parseRbacPerRoute,
  perRouteTypeUrl: typeUrlOf(RBACPerRouteSchema),
};
