import { JwtAuthenticationSchema, PerRouteConfigSchema } from '../../../../envoy/generated/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../../../envoy/registry.js';
import type { HttpFilterExtension } from '../registry.js';
import { compileJwtAuthn, parseJwtPerRoute } from './config.js';
import { JwtAuthnFactory } from './filter.js';

/** `envoy.filters.http.jwt_authn` (envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication; routes: PerRouteConfig). */
export const jwtAuthnFilter: HttpFilterExtension = {
  typeUrl: typeUrlOf(JwtAuthenticationSchema),
  parse(f, path) {
    if (f.configType.case !== 'typedConfig') throw new ConfigError(`${path}.typed_config`, 'required');
    const p = `${path}.typed_config`;
    const config = compileJwtAuthn(unpackAs(f.configType.value, JwtAuthenticationSchema, p), p);
    return { name: f.name, terminal: false, instantiate: (ctx) => new JwtAuthnFactory(f.name, config, ctx) };
  },
  parsePerRoute: parseJwtPerRoute,
  perRouteTypeUrl: typeUrlOf(PerRouteConfigSchema),
};
