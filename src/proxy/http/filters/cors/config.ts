import type { Any } from '@bufbuild/protobuf/wkt';
import { CorsPolicySchema, type CorsPolicy } from '../../../../envoy/generated/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { unpackAs } from '../../../../envoy/registry.js';
import { ALWAYS, compileRuntimeFraction, type Fraction } from '../../../../envoy/percent.js';
import { compileStringMatcher, type StringMatch } from '../../route/string-matcher.js';

/**
 * One level's compiled `envoy.extensions.filters.http.cors.v3.CorsPolicy`. Unset fields stay
 * undefined: Envoy takes each field from the most specific level that sets it (route, then
 * virtual host), so levels are merged field by field at request time.
 */
export interface CorsSettings {
  readonly allowOrigins: readonly StringMatch[];
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  readonly maxAge: string;
  readonly allowCredentials: boolean | undefined;
  readonly allowPrivateNetworkAccess: boolean | undefined;
  readonly forwardNotMatchingPreflights: boolean | undefined;
  /** filter_enabled; Envoy's default is 100 %. */
  readonly enabled: Fraction;
  /** shadow_enabled; unset = off. */
  readonly shadow: Fraction | undefined;
}

export function compileCorsPolicy(c: CorsPolicy, path: string): CorsSettings {
  return {
    allowOrigins: c.allowOriginStringMatch.map((m, i) => compileStringMatcher(m, `${path}.allow_origin_string_match[${i}]`)),
    allowMethods: c.allowMethods,
    allowHeaders: c.allowHeaders,
    exposeHeaders: c.exposeHeaders,
    maxAge: c.maxAge,
    allowCredentials: c.allowCredentials,
    allowPrivateNetworkAccess: c.allowPrivateNetworkAccess,
    forwardNotMatchingPreflights: c.forwardNotMatchingPreflights,
    enabled: compileRuntimeFraction(c.filterEnabled, `${path}.filter_enabled`) ?? ALWAYS,
    shadow: compileRuntimeFraction(c.shadowEnabled, `${path}.shadow_enabled`),
  };
}

export function parseCorsPerRoute(config: Any, path: string): CorsSettings {
  return compileCorsPolicy(unpackAs(config, CorsPolicySchema, path), path);
}

/** The levels' policies, most specific first, read field by field as Envoy's CorsFilter does. */
export class MergedCors {
  constructor(readonly levels: readonly CorsSettings[]) {}

  #first<T>(pick: (s: CorsSettings) => T | undefined, empty: (v: T) => boolean, def: T): T {
    for (const l of this.levels) {
      const v = pick(l);
      if (v !== undefined && !empty(v)) return v;
    }
    return def;
  }

  get allowOrigins(): readonly StringMatch[] { return this.#first((l) => l.allowOrigins, (v) => v.length === 0, []); }
  get allowMethods(): string { return this.#first((l) => l.allowMethods, (v) => v === '', ''); }
  get allowHeaders(): string { return this.#first((l) => l.allowHeaders, (v) => v === '', ''); }
  get exposeHeaders(): string { return this.#first((l) => l.exposeHeaders, (v) => v === '', ''); }
  get maxAge(): string { return this.#first((l) => l.maxAge, (v) => v === '', ''); }
  get allowCredentials(): boolean { return this.#first((l) => l.allowCredentials, () => false, false); }
  get allowPrivateNetworkAccess(): boolean { return this.#first((l) => l.allowPrivateNetworkAccess, () => false, false); }
  get forwardNotMatchingPreflights(): boolean { return this.#first((l) => l.forwardNotMatchingPreflights, () => false, true); }

  /** Origin matching as Envoy: a matcher that accepts "*" accepts every origin. */
  originAllowed(origin: string): boolean {
    return this.allowOrigins.some((m) => m('*') || m(origin));
  }
}
