import { create } from '@bufbuild/protobuf';
import { RouteMatchSchema, HeaderMatcherSchema, QueryParameterMatcherSchema, type RouteMatch, type HeaderMatcher } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../envoy/generated/envoy/type/matcher/v3/string_pb.js';
import { RegexMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import type { HTTPMatchRequest, StringMatch } from '../config/kinds.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { selects } from '../registry/labels.js';

/** Where routes are being built: which port's route configuration, for which proxy. */
export interface RouteScope {
  readonly port: number;
  readonly proxy: ProxyIdentity;
}

/**
 * Does an Istio match apply in this scope? Istio drops, per proxy and port, the matches whose
 * `port`, `sourceLabels`, `sourceNamespace` or `gateways` exclude it; a route left with no
 * match is dropped.
 */
export function matchApplies(m: HTTPMatchRequest, scope: RouteScope): boolean {
  if (m.port !== undefined && m.port !== scope.port) return false;
  if (m.sourceLabels && !selects(m.sourceLabels, scope.proxy.labels)) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== scope.proxy.namespace) return false;
  if (m.gateways && m.gateways.length > 0 && !m.gateways.includes('mesh')) return false;
  return true;
}

/**
 * An Istio HTTPMatchRequest as Envoy's RouteMatch: uri exact/prefix/regex → path / prefix /
 * safe_regex (prefix "/" when absent), ignoreUriCase → case_sensitive false, headers and
 * withoutHeaders (inverted), method / authority / scheme as the `:method` / `:authority` /
 * `:scheme` headers, queryParams.
 */
export function routeMatch(m: HTTPMatchRequest | undefined): RouteMatch {
  const rm = create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } });
  if (!m) return rm;
  if (m.uri?.exact !== undefined) rm.pathSpecifier = { case: 'path', value: m.uri.exact };
  else if (m.uri?.prefix !== undefined) rm.pathSpecifier = { case: 'prefix', value: m.uri.prefix };
  else if (m.uri?.regex !== undefined) rm.pathSpecifier = { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: m.uri.regex }) };
  if (m.ignoreUriCase) rm.caseSensitive = false;
  const headers: HeaderMatcher[] = [];
  for (const name of Object.keys(m.headers ?? {}).sort()) headers.push(headerMatcher(name.toLowerCase(), m.headers![name]!, false));
  for (const name of Object.keys(m.withoutHeaders ?? {}).sort()) headers.push(headerMatcher(name.toLowerCase(), m.withoutHeaders![name]!, true));
  if (m.method) headers.push(headerMatcher(':method', m.method, false));
  if (m.authority) headers.push(headerMatcher(':authority', m.authority, false));
  if (m.scheme) headers.push(headerMatcher(':scheme', m.scheme, false));
  rm.headers = headers;
  rm.queryParameters = Object.keys(m.queryParams ?? {}).sort().map((name) => {
    const sm = stringMatcher(m.queryParams![name]!);
    return create(QueryParameterMatcherSchema, { name, queryParameterMatchSpecifier: sm ? { case: 'stringMatch', value: sm } : { case: 'presentMatch', value: true } });
  });
  return rm;
}

/** An empty StringMatch (`{}` or exact "") means "present", as in Istio. */
function headerMatcher(name: string, sm: StringMatch, invert: boolean): HeaderMatcher {
  const s = stringMatcher(sm);
  return create(HeaderMatcherSchema, { name, invertMatch: invert, headerMatchSpecifier: s ? { case: 'stringMatch', value: s } : { case: 'presentMatch', value: true } });
}

export function stringMatcher(sm: StringMatch): StringMatcher | undefined {
  if (sm.exact !== undefined && sm.exact !== '') return create(StringMatcherSchema, { matchPattern: { case: 'exact', value: sm.exact } });
  if (sm.prefix !== undefined && sm.prefix !== '') return create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: sm.prefix } });
  if (sm.regex !== undefined && sm.regex !== '') return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: sm.regex }) } });
  return undefined;
}
