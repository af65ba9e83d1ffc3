import type { HttpFilter } from '../../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { RouterSchema } from '../../../envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import { typeUrlOf, unpackAs } from '../../../envoy/registry.js';

import type { HttpFilterConfig, HttpFilterParser } from './types.js';

export type { HttpFilterConfig };

type Parser = HttpFilterParser;

const registry = new Map<string, Parser>();

/** Registers a filter by its type URL (Envoy matches typed_config's type first, then name). */
export function registerHttpFilter(typeUrl: string, parse: Parser): void {
  registry.set(typeUrl, parse);
}

registerHttpFilter(typeUrlOf(RouterSchema), (f, path) => {
  const cfg = unpackAs(f.configType.case === 'typedConfig' ? f.configType.value : undefined, RouterSchema, `${path}.typed_config`);
  return { name: f.name, terminal: true, suppressEnvoyHeaders: cfg.suppressEnvoyHeaders };
});

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
