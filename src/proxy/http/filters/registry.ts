import type { HttpFilter } from '../../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { RouterSchema } from '../../../envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import { typeUrlOf, unpackAs } from '../../../envoy/registry.js';

import { onTypesNamed } from '../../../envoy/type-registry.js';
import type { HttpFilterConfig, HttpFilterParser, PerRouteParser } from './types.js';

export type { HttpFilterConfig };

type Parser = HttpFilterParser;

const registry = new Map<string, Parser>();

/** Registers a filter by its type URL (Envoy matches typed_config's type first, then name). */
export function registerHttpFilter(typeUrl: string, parse: Parser): void {
  registry.set(typeUrl, parse);
}

const perRoute = new Map<string, PerRouteParser>();

/**
 * Registers the parser of a filter's `typed_per_filter_config` values by their type URL (for
 * fault and local_ratelimit the filter's own config type; Envoy finds it the same way).
 */
export function registerPerRouteParser(typeUrl: string, parse: PerRouteParser): void {
  perRoute.set(typeUrl, parse);
}

/** The per-route parser for values of `typeUrl`, if a filter registered one. */
export function perRouteParserFor(typeUrl: string): PerRouteParser | undefined {
  const parse = perRoute.get(typeUrl);
  if (!parse) checkLoaded(typeUrl);
  return parse;
}

registerHttpFilter(typeUrlOf(RouterSchema), (f, path) => {
  const cfg = unpackAs(f.configType.case === 'typedConfig' ? f.configType.value : undefined, RouterSchema, `${path}.typed_config`);
  return { name: f.name, terminal: true, suppressEnvoyHeaders: cfg.suppressEnvoyHeaders };
});

/**
 * A built-in filter: its config type, its parser and, when routes can configure it
 * (typed_per_filter_config), the parser of those values. Filter folders export one; this
 * module registers them (they do not import the registry, so there is no import cycle).
 */
export interface HttpFilterExtension {
  readonly typeUrl: string;
  readonly parse: HttpFilterParser;
  readonly parsePerRoute?: PerRouteParser;
  /** The type of its typed_per_filter_config values when it differs from the filter's (cors: CorsPolicy). */
  readonly perRouteTypeUrl?: string;
}

/**
 * The built-in filters, loaded when a config first names one of their types (`@type`, as the
 * filter's config or as a route's typed_per_filter_config): a proxy whose config has only the
 * router carries none of their code or descriptors. Plain data, so that knowing them costs
 * nothing. test/proxy/http/filters/registry.test.ts checks the names against each module.
 */
export const BUILT_IN_HTTP_FILTERS: ReadonlyArray<readonly [typeNames: readonly string[], load: () => Promise<HttpFilterExtension>]> = [
  [['envoy.extensions.filters.http.fault.v3.HTTPFault'], async () => (await import('./fault/index.js')).faultFilter],
  [['envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit'], async () => (await import('./local-ratelimit/index.js')).localRateLimitFilter],
  [['envoy.extensions.filters.http.cors.v3.Cors', 'envoy.extensions.filters.http.cors.v3.CorsPolicy'], async () => (await import('./cors/index.js')).corsFilter],
  [['envoy.extensions.filters.http.rbac.v3.RBAC', 'envoy.extensions.filters.http.rbac.v3.RBACPerRoute'], async () => (await import('./rbac/index.js')).rbacFilter],
  [['envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', 'envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig'], async () => (await import('./jwt-authn/index.js')).jwtAuthnFilter],
  [['xds.type.v3.TypedStruct'], async () => (await import('./istio-stats/index.js')).istioStatsFilter],
];

const loaded = new Map<(typeof BUILT_IN_HTTP_FILTERS)[number], Promise<void>>();
const TYPE_URL_PREFIX = 'type.googleapis.com/';

/**
 * Loads and registers the built-in filters that handle any of `typeNames` (type URLs without
 * their prefix), once each. Every path to compileHttpFilters comes through here first: config
 * decoding builds its registry with registryFor, which runs it (onTypesNamed below).
 */
export async function loadHttpFilters(typeNames: Iterable<string>): Promise<void> {
  const names = new Set(typeNames);
  await Promise.all(BUILT_IN_HTTP_FILTERS.filter((b) => b[0].some((n) => names.has(n))).map((b) => {
    let done = loaded.get(b);
    if (!done) {
      done = b[1]().then((ext) => {
        registerHttpFilter(ext.typeUrl, ext.parse);
        if (ext.parsePerRoute) registerPerRouteParser(ext.perRouteTypeUrl ?? ext.typeUrl, ext.parsePerRoute);
      });
      loaded.set(b, done);
    }
    return done;
  }));
}

onTypesNamed(loadHttpFilters);

/** A built-in filter's type URL whose module nobody loaded: a bug of the caller, not of the config. */
function checkLoaded(typeUrl: string): void {
  const name = typeUrl.startsWith(TYPE_URL_PREFIX) ? typeUrl.slice(TYPE_URL_PREFIX.length) : typeUrl;
  if (BUILT_IN_HTTP_FILTERS.some((b) => b[0].includes(name))) throw new Error(`HTTP filter for ${typeUrl} used before loadHttpFilters loaded it`);
}

/**
 * Compiles `http_filters`. The router is the terminal filter and is built into the stream (it
 * owns the upstream requests); the others see the request first, in order.
 */
export function compileHttpFilters(filters: readonly HttpFilter[], path: string): HttpFilterConfig[] {
  if (filters.length === 0) throw new ConfigError(path, 'at least envoy.filters.http.router is required');
  const out = filters.map((f, i) => {
    const p = `${path}[${i}]`;
    if (f.configType.case !== 'typedConfig') throw new ConfigError(`${p}.typed_config`, 'required');
    const parse = registry.get(f.configType.value.typeUrl);
    if (!parse) checkLoaded(f.configType.value.typeUrl);
    if (!parse) throw new ConfigError(`${p}.typed_config`, `unsupported HTTP filter ${f.name} (${f.configType.value.typeUrl})`);
    return parse(f, p);
  });
  out.forEach((f, i) => {
    if (f.terminal !== (i === out.length - 1)) throw new ConfigError(`${path}[${i}]`, f.terminal ? 'the router must be the last filter' : 'the last filter must be the router');
  });
  return out;
}
