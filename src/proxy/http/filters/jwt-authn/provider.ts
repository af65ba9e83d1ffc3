import type { JwtProvider } from '../../../../envoy/generated/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { durationMs } from '../../../../envoy/duration.js';
import { ConfigError } from '../../../../envoy/registry.js';
import { AudienceCheck } from './audience.js';
import { DEFAULT_LOCATIONS, type TokenLocation } from './extractor.js';
import { parseJwks, type Jwks } from './jwks.js';

/** Where a remote JWKS comes from and how long it is kept. */
export interface RemoteJwksSpec {
  readonly uri: string;
  readonly cluster: string;
  readonly authority: string;
  readonly path: string;
  readonly scheme: 'http' | 'https';
  readonly timeoutMs: number;
  readonly cacheDurationMs: number;
  /** async_fetch: fetched when the filter is built, and a stale set keeps serving while it is refreshed. */
  readonly asyncFetch: boolean;
}

/** A JwtProvider, compiled. */
export interface CompiledProvider {
  readonly name: string;
  /** '' accepts any issuer. */
  readonly issuer: string;
  readonly audiences: AudienceCheck;
  readonly local: Jwks | undefined;
  readonly remote: RemoteJwksSpec | undefined;
  readonly forward: boolean;
  readonly locations: readonly TokenLocation[];
  readonly forwardPayloadHeader: string;
  readonly padForwardPayloadHeader: boolean;
  readonly payloadInMetadata: string;
  readonly headerInMetadata: string;
  /** [header name (lower-case), claim name]. */
  readonly claimToHeaders: readonly (readonly [string, string])[];
  /** Seconds; Envoy's 60 when unset. */
  readonly clockSkewS: number;
  /** normalize_payload_in_metadata: claims whose space-delimited string becomes a list in the metadata. */
  readonly spaceDelimitedClaims: readonly string[];
  /** clear_route_cache: the route is selected again after a verified JWT changed the headers. */
  readonly clearRouteCache: boolean;
  /** jwt_cache_config: how many verified JWTs a thread keeps (0: no cache). */
  readonly jwtCacheSize: number;
}

const DEFAULT_CACHE_MS = 600_000;
const DEFAULT_SKEW_S = 60;
const DEFAULT_JWT_CACHE = 100;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function headerName(v: string, path: string): string {
  const n = v.toLowerCase();
  if (!HEADER_NAME.test(n)) throw new ConfigError(path, `not a valid header name: ${JSON.stringify(v)}`);
  return n;
}

export function compileProvider(name: string, p: JwtProvider, path: string): CompiledProvider {
  let local: Jwks | undefined;
  let remote: RemoteJwksSpec | undefined;
  const src = p.jwksSourceSpecifier;
  if (src.case === 'localJwks') {
    const ds = src.value.specifier;
    const text = ds.case === 'inlineString' ? ds.value : ds.case === 'inlineBytes' ? Buffer.from(ds.value).toString('utf8') : undefined;
    if (text === undefined) throw new ConfigError(`${path}.local_jwks`, 'inline_string or inline_bytes is required');
    const jwks = parseJwks(text);
    if (typeof jwks === 'string') throw new ConfigError(`${path}.local_jwks`, jwks);
    local = jwks;
  } else if (src.case === 'remoteJwks') {
    remote = compileRemote(src.value, `${path}.remote_jwks`);
  } else {
    throw new ConfigError(path, 'one of local_jwks or remote_jwks is required');
  }
  const locations: TokenLocation[] = [];
  p.fromHeaders.forEach((h, i) => {
    locations.push({ kind: 'header', name: headerName(h.name, `${path}.from_headers[${i}].name`), prefix: h.valuePrefix });
  });
  p.fromParams.forEach((q, i) => {
    if (!q) throw new ConfigError(`${path}.from_params[${i}]`, 'must not be empty');
    locations.push({ kind: 'param', name: q });
  });
  p.fromCookies.forEach((c, i) => {
    if (!c) throw new ConfigError(`${path}.from_cookies[${i}]`, 'must not be empty');
    locations.push({ kind: 'cookie', name: c });
  });
  return {
    name,
    issuer: p.issuer,
    audiences: new AudienceCheck(p.audiences),
    local,
    remote,
    forward: p.forward,
    locations: locations.length > 0 ? locations : DEFAULT_LOCATIONS,
    forwardPayloadHeader: p.forwardPayloadHeader ? headerName(p.forwardPayloadHeader, `${path}.forward_payload_header`) : '',
    padForwardPayloadHeader: p.padForwardPayloadHeader,
    payloadInMetadata: p.payloadInMetadata,
    headerInMetadata: p.headerInMetadata,
    claimToHeaders: p.claimToHeaders.map((c, i) => {
      if (!c.claimName) throw new ConfigError(`${path}.claim_to_headers[${i}].claim_name`, 'must not be empty');
      return [headerName(c.headerName, `${path}.claim_to_headers[${i}].header_name`), c.claimName] as const;
    }),
    clockSkewS: p.clockSkewSeconds > 0 ? p.clockSkewSeconds : DEFAULT_SKEW_S,
    spaceDelimitedClaims: p.normalizePayloadInMetadata?.spaceDelimitedClaims ?? [],
    clearRouteCache: p.clearRouteCache,
    jwtCacheSize: p.jwtCacheConfig ? p.jwtCacheConfig.jwtCacheSize || DEFAULT_JWT_CACHE : 0,
  };
}

function compileRemote(r: NonNullable<Extract<JwtProvider['jwksSourceSpecifier'], { case: 'remoteJwks' }>['value']>, path: string): RemoteJwksSpec {
  const u = r.httpUri;
  if (!u) throw new ConfigError(`${path}.http_uri`, 'required');
  if (u.httpUpstreamType.case !== 'cluster' || !u.httpUpstreamType.value) throw new ConfigError(`${path}.http_uri.cluster`, 'required');
  let url: URL;
  try { url = new URL(u.uri); } catch { throw new ConfigError(`${path}.http_uri.uri`, `not a URL: ${JSON.stringify(u.uri)}`); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${path}.http_uri.uri`, `expected an http or https URL, got ${JSON.stringify(u.uri)}`);
  const timeoutMs = durationMs(u.timeout);
  if (timeoutMs === undefined) throw new ConfigError(`${path}.http_uri.timeout`, 'required');
  if (timeoutMs <= 0) throw new ConfigError(`${path}.http_uri.timeout`, 'must be greater than 0');
  if (r.retryPolicy) throw new ConfigError(`${path}.retry_policy`, 'retries of JWKS fetches are not supported by tsmesh');
  const cache = durationMs(r.cacheDuration);
  if (cache !== undefined && cache <= 0) throw new ConfigError(`${path}.cache_duration`, 'must be greater than 0');
  if (r.asyncFetch && (r.asyncFetch.fastListener || r.asyncFetch.failedRefetchDuration)) {
    throw new ConfigError(`${path}.async_fetch`, 'fast_listener and failed_refetch_duration are not supported by tsmesh');
  }
  return {
    uri: u.uri,
    cluster: u.httpUpstreamType.value,
    authority: url.host,
    path: `${url.pathname}${url.search}`,
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    timeoutMs,
    cacheDurationMs: cache ?? DEFAULT_CACHE_MS,
    asyncFetch: r.asyncFetch !== undefined,
  };
}
