import { firstQueryValue } from '../query-string.js';
import type { QueryParameterMatcher } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { compileStringMatcher } from './string-matcher.js';
import type { RequestPredicate } from './header-matcher.js';

/**
 * Compiles a `QueryParameterMatcher` as Envoy does: only the first value of the parameter is
 * looked at; names and values are percent-decoded (`+` is not a space); `string_match` needs
 * the parameter present and matching; `present_match: true/false` requires it present/absent
 * (Envoy's current behaviour, `enable_new_query_param_present_match_behavior`); with neither,
 * presence is enough.
 */
export function compileQueryParameterMatcher(q: QueryParameterMatcher, path: string): RequestPredicate {
  const name = q.name;
  if (!name) throw new ConfigError(`${path}.name`, 'must not be empty');
  if (name.length > 1024) throw new ConfigError(`${path}.name`, 'must be at most 1024 bytes');
  const spec = q.queryParameterMatchSpecifier;
  if (spec.case === 'presentMatch') {
    const want = spec.value;
    return (req) => (firstQueryValue(req.path, name) !== undefined) === want;
  }
  if (spec.case === 'stringMatch') {
    const test = compileStringMatcher(spec.value, `${path}.string_match`);
    return (req) => {
      const v = firstQueryValue(req.path, name);
      return v !== undefined && test(v);
    };
  }
  return (req) => firstQueryValue(req.path, name) !== undefined;
}
