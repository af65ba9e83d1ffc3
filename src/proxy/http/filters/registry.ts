import type { HttpFilter } from '../../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { RouterSchema } from '../../../envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import { typeUrlOf, unpackAs } from '../../../envoy/registry.js';

import type { HttpFilterConfig, HttpFilterParser, PerRouteParser } from './types.js';
import { faultFilter } from './fault/index.js';
import { localRateLimitFilter } from './local-ratelimit/index.js';
import { corsFilter } from './cors/index.js';
import { rbacFilter } from './rbac/index.js';
import { jwtAuthnFilter } from './jwt-authn/index.js';
import { istioStatsFilter } from './istio-stats/index.js';

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
  return perRoute.get(typeUrl);
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

for (const ext of [faultFilter, localRateLimitFilter, corsFilter, rbacFilter, jwtAuthnFilter, istioStatsFilter]) {
  registerHttpFilter(ext.typeUrl, ext.parse);
  if (ext.parsePerRoute) registerPerRouteParser(ext.perRouteTypeUrl ?? ext.typeUrl, ext.parsePerRoute);
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
    if (!parse) throw new ConfigError(`${p}.typed_config`, `unsupported HTTP filter ${f.name} (${f.configType.value.typeUrl})`);
    return parse(f, p);
  });
  out.forEach((f, i) => {
    if (f.terminal !== (i === out.length - 1)) throw new ConfigError(`${path}[${i}]`, f.terminal ? 'the router must be the last filter' : 'the last filter must be the router');
  });
  return out;
}
