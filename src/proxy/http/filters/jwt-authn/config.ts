import type { Any } from '@bufbuild/protobuf/wkt';
import { PerRouteConfigSchema, type JwtAuthentication } from '../../../../envoy/generated/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { ConfigError, unpackAs } from '../../../../envoy/registry.js';
import { compileRouteMatch, type CompiledRouteMatch } from '../../route/match.js';
import { pathEndOf, type RouteRequest } from '../../route/request.js';
import { compileProvider, type CompiledProvider } from './provider.js';
import { compileRequirement, type Verifier } from './verifier.js';

interface Rule {
  readonly match: CompiledRouteMatch;
  /** undefined: the rule requires nothing. */
  readonly verifier: Verifier | undefined;
}

/** An `envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication`, compiled once per config. */
export interface JwtAuthnConfig {
  readonly providers: readonly CompiledProvider[];
  readonly rules: readonly Rule[];
  readonly requirementMap: ReadonlyMap<string, Verifier>;
  readonly bypassCorsPreflight: boolean;
  readonly stripFailureResponse: boolean;
}

export function compileJwtAuthn(c: JwtAuthentication, path: string): JwtAuthnConfig {
  if (c.filterStateRules) throw new ConfigError(`${path}.filter_state_rules`, 'filter_state_rules are not supported by tsmesh');
  const providers = new Map<string, CompiledProvider>();
  for (const [name, p] of Object.entries(c.providers)) providers.set(name, compileProvider(name, p, `${path}.providers[${name}]`));
  const requirementMap = new Map<string, Verifier>();
  for (const [name, r] of Object.entries(c.requirementMap)) requirementMap.set(name, compileRequirement(r, providers, `${path}.requirement_map[${name}]`));
  const rules = c.rules.map((r, i): Rule => {
    const p = `${path}.rules[${i}]`;
    const match = compileRouteMatch(r.match, `${p}.match`);
    const rt = r.requirementType;
    if (rt.case === 'requires') return { match, verifier: compileRequirement(rt.value, providers, `${p}.requires`) };
    if (rt.case === 'requirementName') {
      const v = requirementMap.get(rt.value);
      if (!v) throw new ConfigError(`${p}.requirement_name`, `Wrong requirement_name: ${rt.value}. It should be one of [${[...requirementMap.keys()].join(',')}]`);
      return { match, verifier: v };
    }
    return { match, verifier: undefined };
  });
  return { providers: [...providers.values()], rules, requirementMap, bypassCorsPreflight: c.bypassCorsPreflight, stripFailureResponse: c.stripFailureResponse };
}

/** The requirement of the first rule whose match takes the request (none: nothing required). */
export function findVerifier(cfg: JwtAuthnConfig, req: RouteRequest): Verifier | undefined {
  const end = pathEndOf(req.path);
  for (const r of cfg.rules) if (r.match.matches(req, end)) return r.verifier;
  return undefined;
}

/** A route's PerRouteConfig: turn the filter off, or name the requirement_map entry to apply. */
export type JwtPerRoute = { readonly disabled: true } | { readonly disabled: false; readonly requirementName: string };

export function parseJwtPerRoute(any: Any, path: string): JwtPerRoute {
  const c = unpackAs(any, PerRouteConfigSchema, path);
  const r = c.requirementSpecifier;
  if (r.case === 'disabled') {
    if (!r.value) throw new ConfigError(`${path}.disabled`, 'must be true');
    return { disabled: true };
  }
  if (r.case === 'requirementName') {
    if (!r.value) throw new ConfigError(`${path}.requirement_name`, 'must not be empty');
    return { disabled: false, requirementName: r.value };
  }
  throw new ConfigError(path, 'one of disabled or requirement_name is required');
}
