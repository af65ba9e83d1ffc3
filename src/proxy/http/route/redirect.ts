import { RedirectAction_RedirectResponseCode as Code, type RedirectAction } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { asciiLower } from './ascii.js';
import type { CompiledRouteMatch } from './match.js';
import { schemeOf, type RouteRequest } from './request.js';
import { compilePathRewrite, type PathRewrite } from './rewrite.js';

/** A route that answers with a redirect: `Location: location(req)` and `status`. */
export interface RedirectRouteAction {
  readonly kind: 'redirect';
  readonly status: number;
  location(req: RouteRequest): string;
}

const STATUS: Readonly<Record<number, number>> = {
  [Code.MOVED_PERMANENTLY]: 301,
  [Code.FOUND]: 302,
  [Code.SEE_OTHER]: 303,
  [Code.TEMPORARY_REDIRECT]: 307,
  [Code.PERMANENT_REDIRECT]: 308,
};

class Redirect implements RedirectRouteAction {
  readonly kind = 'redirect' as const;
  constructor(
    readonly status: number,
    readonly scheme: string,
    readonly https: boolean,
    readonly host: string,
    /** `:port`, or '' */
    readonly port: string,
    readonly pathRedirect: string,
    readonly rewrite: PathRewrite | undefined,
    readonly stripQuery: boolean,
  ) {}

  /** Envoy's `Http::Utility::newUri` after the redirect's path rewrite. */
  location(req: RouteRequest): string {
    const scheme = this.scheme || (this.https ? 'https' : schemeOf(req));
    const host = this.host || requestHost(req, scheme, this.port);
    const pathRedirectHasQuery = this.pathRedirect.includes('?');
    let path: string;
    if (this.pathRedirect) {
      // A query in path_redirect wins over the request's and is never stripped.
      const q = req.path.indexOf('?');
      path = pathRedirectHasQuery || q < 0 ? this.pathRedirect : this.pathRedirect + req.path.slice(q);
    } else {
      path = this.rewrite?.(req) ?? req.path;
    }
    if (!path.startsWith('/')) path = `/${path}`;
    if (!pathRedirectHasQuery && this.stripQuery) {
      const q = path.indexOf('?');
      if (q >= 0) path = path.slice(0, q);
    }
    return `${scheme}://${host}${this.port}${path}`;
  }
}

export function compileRedirect(r: RedirectAction, match: CompiledRouteMatch, path: string): RedirectRouteAction {
  const status = STATUS[r.responseCode];
  if (status === undefined) throw new ConfigError(`${path}.response_code`, `unknown value ${r.responseCode}`);
  for (const [field, v] of [['host_redirect', r.hostRedirect], ['path_redirect', r.pathRewriteSpecifier.case === 'pathRedirect' ? r.pathRewriteSpecifier.value : '']] as const) {
    if (/[\0\r\n]/.test(v)) throw new ConfigError(`${path}.${field}`, 'must not contain NUL, CR or LF');
  }
  const s = r.schemeRewriteSpecifier;
  const p = r.pathRewriteSpecifier;
  const rewrite = compilePathRewrite(
    p.case === 'prefixRewrite' ? p.value : '', p.case === 'regexRewrite' ? p.value : undefined, match, path, true,
  );
  return new Redirect(
    status,
    s.case === 'schemeRedirect' ? s.value : '',
    s.case === 'httpsRedirect' && s.value,
    r.hostRedirect,
    r.portRedirect ? `:${r.portRedirect}` : '',
    p.case === 'pathRedirect' ? p.value : '',
    rewrite,
    r.stripQuery,
  );
}

/** The redirect for `require_tls` (Envoy's SslRedirector): `https://<host><path>`, 301. */
export const SSL_REDIRECT: RedirectRouteAction = {
  kind: 'redirect',
  status: 301,
  location: (req) => `https://${req.authority}${req.path}`,
};

/**
 * The request's host for a redirect URL (Envoy's `processRequestHost`): its port is dropped
 * when the redirect sets a port, or when the scheme changes and the port is the default one of
 * the request's `x-forwarded-proto` (`:80` for http, `:443` for https).
 */
export function requestHost(req: RouteRequest, newScheme: string, newPort: string): string {
  const host = req.authority;
  if (!host) return host;
  let end: number;
  if (host[0] === '[') {
    end = host.lastIndexOf(']:');
    if (end >= 0) end += 1;
  } else {
    end = host.lastIndexOf(':');
  }
  if (end < 0) return host;
  const port = host.slice(end);
  const proto = asciiLower(req.headers.get('x-forwarded-proto') ?? '');
  let remove = newPort !== '';
  if (newScheme !== (req.headers.get('x-forwarded-proto') ?? '')) {
    remove ||= proto === 'https' && port === ':443';
    remove ||= proto === 'http' && port === ':80';
  }
  return remove ? host.slice(0, end) : host;
}
