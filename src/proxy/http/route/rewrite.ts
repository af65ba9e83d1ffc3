import type { RegexMatchAndSubstitute } from '../../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import type { CompiledRouteMatch } from './match.js';
import { RegexRewrite } from './regex.js';
import { pathEndOf, type RouteRequest } from './request.js';

/** The rewritten `:path` (query kept), or undefined when the route rewrites nothing. */
export type PathRewrite = (req: RouteRequest) => string | undefined;

/**
 * `prefix_rewrite` / `regex_rewrite` of a RouteAction or RedirectAction (Envoy's
 * `currentUrlPathAfterRewriteWithMatchedPath`): `prefix_rewrite` replaces the matched part of
 * the path (the configured prefix or path; the whole path without query for a regex route);
 * `regex_rewrite` substitutes within the path without query and fragment, which are kept.
 * `forRedirect`: a regex rewrite that produces '' leaves the path as it is (Envoy treats the
 * empty result as "no rewrite").
 */
export function compilePathRewrite(
  prefixRewrite: string, regexRewrite: RegexMatchAndSubstitute | undefined,
  match: CompiledRouteMatch, path: string, forRedirect: boolean,
): PathRewrite | undefined {
  if (prefixRewrite && regexRewrite) {
    throw new ConfigError(`${path}.regex_rewrite`, 'Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy');
  }
  if (prefixRewrite) {
    if (/[\0\r\n]/.test(prefixRewrite)) throw new ConfigError(`${path}.prefix_rewrite`, 'must not contain NUL, CR or LF');
    return (req) => prefixRewrite + req.path.slice(match.matchedLength(pathEndOf(req.path)));
  }
  if (regexRewrite) {
    const rw = new RegexRewrite(regexRewrite, `${path}.regex_rewrite`);
    return (req) => {
      const p = req.path;
      const end = pathEndOf(p);
      const replaced = rw.replaceAll(end === p.length ? p : p.slice(0, end));
      if (forRedirect && replaced === '') return undefined;
      return end === p.length ? replaced : replaced + p.slice(end);
    };
  }
  return undefined;
}
