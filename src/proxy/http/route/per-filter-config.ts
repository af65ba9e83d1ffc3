import type { Any } from '@bufbuild/protobuf/wkt';
import { ConfigError } from '../../../envoy/registry.js';
import { perRouteParserFor } from '../filters/registry.js';

/**
 * Compiled `typed_per_filter_config`: filter name (the key, as in http_filters[].name) to the
 * value its filter's per-route parser made. Immutable.
 */
export type PerFilterConfig = ReadonlyMap<string, unknown>;

export const NO_PER_FILTER_CONFIG: PerFilterConfig = new Map();

/**
 * Compiles one level's `typed_per_filter_config` (route, virtual host or route configuration)
 * by the type of each value; a type no filter registered a per-route parser for is refused
 * with the entry's path.
 */
export function compilePerFilterConfig(m: Readonly<Record<string, Any>>, path: string): PerFilterConfig {
  const names = Object.keys(m);
  if (names.length === 0) return NO_PER_FILTER_CONFIG;
  const out = new Map<string, unknown>();
  for (const name of names) {
    const p = `${path ? `${path}.` : ''}typed_per_filter_config[${name}]`;
    if (!name) throw new ConfigError(p, 'the filter name must not be empty');
    const any = m[name]!;
    const parse = perRouteParserFor(any.typeUrl);
    if (!parse) throw new ConfigError(p, `no HTTP filter takes per-route config of type ${any.typeUrl || '(empty)'}`);
    out.set(name, parse(any, p));
  }
  return out;
}

/**
 * What a route's filters see: for each filter the most specific level's value (route, then
 * virtual host, then route configuration), whole; levels are not merged field by field.
 * `levels` is most specific first.
 */
export function mostSpecificPerFilterConfig(levels: readonly PerFilterConfig[]): PerFilterConfig {
  const nonEmpty = levels.filter((l) => l.size > 0);
  if (nonEmpty.length === 0) return NO_PER_FILTER_CONFIG;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const out = new Map<string, unknown>();
  for (let i = nonEmpty.length - 1; i >= 0; i--) for (const [k, v] of nonEmpty[i]!) out.set(k, v);
  return out;
}

/** A filter's per-route values on the route and then its virtual host (those that set one). */
export function perFilterLevels<T>(levels: readonly (PerFilterConfig | undefined)[], name: string): T[] {
  const out: T[] = [];
  for (const level of levels) {
    const v = level?.get(name);
    if (v !== undefined) out.push(v as T);
  }
  return out;
}
