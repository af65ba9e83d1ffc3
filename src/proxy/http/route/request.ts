import type { HeaderMap } from '../headers.js';

/**
 * What route selection reads from a request. `RequestHeaders` (../stream.ts) satisfies it.
 * Pseudo-headers are fields here; header matchers on `:authority`, `:path`, `:method` and
 * `:scheme` read them, as Envoy's matchers read its pseudo-headers.
 */
export interface RouteRequest {
  /** Host / :authority as received; may include `:port`. */
  readonly authority: string;
  /** Full request target in origin form, query included. */
  readonly path: string;
  readonly method: string;
  /** `:scheme` (`http` / `https`); redirects build their URL from it. Defaults to `http`. */
  readonly scheme?: string;
  /** Regular headers, names lower-case. */
  readonly headers: HeaderMap;
}

/**
 * Where the path proper ends: the first `?` or `#`, else the length. Envoy matches and rewrites
 * paths with the query and fragment removed (`Http::PathUtil::removeQueryAndFragment`).
 */
export function pathEndOf(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return path.length;
}

/**
 * Every value of header `name` (lower-case) joined with `,`, as Envoy's
 * `HeaderUtility::getAllOfHeaderAsString` does for matching; undefined when absent.
 * Allocates only when the header repeats.
 */
export function headerValue(req: RouteRequest, name: string): string | undefined {
  if (name.charCodeAt(0) === 58 /* : */) {
    switch (name) {
      case ':authority': return req.authority;
      case ':path': return req.path;
      case ':method': return req.method;
      case ':scheme': return req.scheme ?? 'http';
      default: return undefined;
    }
  }
  const l = req.headers.list;
  let out: string | undefined;
  for (let i = 0; i < l.length; i += 2) {
    if (l[i] === name) out = out === undefined ? l[i + 1]! : `${out},${l[i + 1]!}`;
  }
  return out;
}

/** `:scheme` of the request, `http` when the caller did not say. */
export function schemeOf(req: RouteRequest): string {
  return req.scheme ?? 'http';
}
