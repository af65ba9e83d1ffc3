import type { RouteMatch } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { asciiLower, regionEqualsIgnoreCase } from './ascii.js';
import { compileHeaderMatcher, type RequestPredicate } from './header-matcher.js';
import { compileQueryParameterMatcher } from './query-matcher.js';
import { compileRegex } from './regex.js';
import type { RouteRequest } from './request.js';

/** A compiled `RouteMatch`. */
export interface CompiledRouteMatch {
  /**
   * Whether the request matches: path specifier, `grpc`, every header matcher and every query
   * parameter matcher. `pathEnd` is `pathEndOf(req.path)` (paths are matched without query).
   */
  matches(req: RouteRequest, pathEnd: number): boolean;
  /**
   * How many leading characters of the path `prefix_rewrite` replaces: the configured prefix or
   * path, or the whole path without query for `safe_regex` (Envoy's "matched path").
   */
  matchedLength(pathEnd: number): number;
}

type PathTest = (path: string, pathEnd: number) => boolean;

class RouteMatchImpl implements CompiledRouteMatch {
  constructor(
    readonly pathTest: PathTest,
    /** Length replaced by prefix_rewrite; -1 = the whole path without query. */
    readonly fixedMatchedLength: number,
    readonly grpc: boolean,
    readonly conditions: readonly RequestPredicate[],
  ) {}

  matches(req: RouteRequest, pathEnd: number): boolean {
    if (!this.pathTest(req.path, pathEnd)) return false;
    if (this.grpc && !isGrpc(req)) return false;
    for (const c of this.conditions) if (!c(req)) return false;
    return true;
  }

  matchedLength(pathEnd: number): number {
    return this.fixedMatchedLength < 0 ? pathEnd : this.fixedMatchedLength;
  }
}

/**
 * Compiles a RouteMatch with Envoy's semantics: `prefix` / `path` / `path_separated_prefix`
 * compare the path without query and fragment, case-sensitively unless `case_sensitive: false`
 * (ASCII folding); `safe_regex` must match that whole path (RE2, case_sensitive ignored).
 */
export function compileRouteMatch(m: RouteMatch | undefined, path: string): CompiledRouteMatch {
  if (!m) throw new ConfigError(path, 'match is required');
  const cs = m.caseSensitive ?? true;
  const spec = m.pathSpecifier;
  let test: PathTest;
  let fixed: number;
  switch (spec.case) {
    case 'prefix':
      test = prefixTest(spec.value, cs);
      fixed = spec.value.length;
      break;
    case 'path':
      test = exactTest(spec.value, cs);
      fixed = spec.value.length;
      break;
    case 'pathSeparatedPrefix': {
      const p = spec.value;
      // Envoy's proto rule: ^[^?#]+[^?#/]$ (no query or fragment, no trailing slash).
      if (!/^[^?#]+[^?#/]$/.test(p)) {
        throw new ConfigError(`${path}.path_separated_prefix`, `${JSON.stringify(p)} must have no ? or #, at least 2 characters and no trailing /`);
      }
      const pre = prefixTest(p, cs);
      test = (s, end) => end >= p.length && pre(s, end) && (end === p.length || s.charCodeAt(p.length) === 47 /* / */);
      fixed = p.length;
      break;
    }
    case 'safeRegex': {
      const re = compileRegex(spec.value, `${path}.safe_regex`);
      test = (s, end) => re.testExact(end === s.length ? s : s.slice(0, end));
      fixed = -1;
      break;
    }
    case 'connectMatcher':
      throw new ConfigError(`${path}.connect_matcher`, 'CONNECT routes are not supported');
    case 'pathMatchPolicy':
      throw new ConfigError(`${path}.path_match_policy`, 'path match extensions are not supported');
    default:
      throw new ConfigError(path, 'one of prefix, path, safe_regex or path_separated_prefix is required');
  }
  const conditions: RequestPredicate[] = [
    ...m.headers.map((h, i) => compileHeaderMatcher(h, `${path}.headers[${i}]`)),
    ...m.queryParameters.map((q, i) => compileQueryParameterMatcher(q, `${path}.query_parameters[${i}]`)),
  ];
  return new RouteMatchImpl(test, fixed, m.grpc !== undefined, conditions);
}

function prefixTest(prefix: string, caseSensitive: boolean): PathTest {
  if (caseSensitive) return (s, end) => prefix.length <= end && s.startsWith(prefix);
  const lower = asciiLower(prefix);
  return (s, end) => lower.length <= end && regionEqualsIgnoreCase(s, 0, lower);
}

function exactTest(p: string, caseSensitive: boolean): PathTest {
  if (caseSensitive) return (s, end) => end === p.length && s.startsWith(p);
  const lower = asciiLower(p);
  return (s, end) => end === lower.length && regionEqualsIgnoreCase(s, 0, lower);
}

/**
 * Envoy's `Grpc::Common::isGrpcRequestHeaders`: content-type exactly `application/grpc` or
 * starting with `application/grpc+` (so not grpc-web).
 */
function isGrpc(req: RouteRequest): boolean {
  const ct = req.headers.get('content-type');
  if (ct === undefined || !ct.startsWith('application/grpc')) return false;
  return ct.length === 16 || ct.charCodeAt(16) === 43 /* + */;
}
