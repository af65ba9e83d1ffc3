import type { StringMatcher } from '../../../envoy/generated/envoy/type/matcher/v3/string_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { asciiLower, containsIgnoreCase, regionEqualsIgnoreCase } from './ascii.js';
import { compileRegex } from './regex.js';

/** A compiled `envoy.type.matcher.v3.StringMatcher`: true when `value` matches. */
export type StringMatch = (value: string) => boolean;

/**
 * Compiles a StringMatcher as Envoy's `StringMatcherImpl`: exact / prefix / suffix / contains,
 * with `ignore_case` folding ASCII letters only; `safe_regex` must match the whole value and
 * may not be combined with `ignore_case` (Envoy: "ignore_case has no effect for safe_regex").
 */
export function compileStringMatcher(m: StringMatcher | undefined, path: string): StringMatch {
  if (!m) throw new ConfigError(path, 'a string matcher is required');
  const ic = m.ignoreCase;
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact': {
      const v = p.value;
      if (!ic) return (s) => s === v;
      const lv = asciiLower(v);
      return (s) => s.length === lv.length && regionEqualsIgnoreCase(s, 0, lv);
    }
    case 'prefix': {
      const v = nonEmpty(p.value, `${path}.prefix`);
      if (!ic) return (s) => s.startsWith(v);
      const lv = asciiLower(v);
      return (s) => regionEqualsIgnoreCase(s, 0, lv);
    }
    case 'suffix': {
      const v = nonEmpty(p.value, `${path}.suffix`);
      if (!ic) return (s) => s.endsWith(v);
      const lv = asciiLower(v);
      return (s) => regionEqualsIgnoreCase(s, s.length - lv.length, lv);
    }
    case 'contains': {
      const v = nonEmpty(p.value, `${path}.contains`);
      if (!ic) return (s) => s.includes(v);
      const lv = asciiLower(v);
      return (s) => containsIgnoreCase(s, lv);
    }
    case 'safeRegex': {
      if (ic) throw new ConfigError(`${path}.ignore_case`, 'ignore_case has no effect for safe_regex');
      const re = compileRegex(p.value, `${path}.safe_regex`);
      return (s) => re.testExact(s);
    }
    case 'custom':
      throw new ConfigError(`${path}.custom`, 'custom string matchers are not supported');
    default:
      throw new ConfigError(path, 'one of exact, prefix, suffix, contains or safe_regex is required');
  }
}

function nonEmpty(v: string, path: string): string {
  if (!v) throw new ConfigError(path, 'must not be empty');
  return v;
}
