import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { MetadataMatcher } from '../../envoy/generated/envoy/type/matcher/v3/metadata_pb.js';
import type { ValueMatcher } from '../../envoy/generated/envoy/type/matcher/v3/value_pb.js';
import type { DoubleMatcher } from '../../envoy/generated/envoy/type/matcher/v3/number_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { compileStringMatcher } from '../http/route/string-matcher.js';

/** A compiled ValueMatcher over a metadata value; `undefined` is a value that is not there. */
export type ValueMatch = (v: JsonValue | undefined) => boolean;

/** A compiled MetadataMatcher: reads its namespace through `lookup` (undefined when absent). */
export interface CompiledMetadataMatcher {
  readonly filter: string;
  matches(namespace: JsonObject | undefined): boolean;
}

/**
 * Compiles an `envoy.type.matcher.v3.MetadataMatcher` as Envoy's Matchers::MetadataMatcher: the
 * value at `path` inside the `filter` namespace (a missing step is a value that is not there),
 * matched by `value`, the result inverted by `invert`.
 */
export function compileMetadataMatcher(m: MetadataMatcher, path: string): CompiledMetadataMatcher {
  if (!m.filter) throw new ConfigError(`${path}.filter`, 'must not be empty');
  if (m.path.length === 0) throw new ConfigError(`${path}.path`, 'at least one path segment is required');
  const keys = m.path.map((seg, i) => {
    if (seg.segment.case !== 'key' || !seg.segment.value) throw new ConfigError(`${path}.path[${i}].key`, 'must not be empty');
    return seg.segment.value;
  });
  if (!m.value) throw new ConfigError(`${path}.value`, 'required');
  const test = compileValueMatcher(m.value, `${path}.value`);
  const invert = m.invert;
  return {
    filter: m.filter,
    matches(ns) {
      let v: JsonValue | undefined = ns;
      for (let i = 0; i < keys.length && v !== undefined; i++) {
        v = v !== null && typeof v === 'object' && !Array.isArray(v) ? v[keys[i]!] : undefined;
      }
      return test(v) !== invert;
    },
  };
}

/** Envoy's ValueMatcher kinds over JSON values (null, number, string, bool, list, struct). */
export function compileValueMatcher(m: ValueMatcher, path: string): ValueMatch {
  const p = m.matchPattern;
  switch (p.case) {
    case 'nullMatch': return (v) => v === null;
    case 'doubleMatch': {
      const d = compileDoubleMatcher(p.value, `${path}.double_match`);
      return (v) => typeof v === 'number' && d(v);
    }
    case 'stringMatch': {
      const s = compileStringMatcher(p.value, `${path}.string_match`);
      return (v) => typeof v === 'string' && s(v);
    }
    case 'boolMatch': { const b = p.value; return (v) => typeof v === 'boolean' && v === b; }
    // Envoy: present only when the value is set; a present_match of false never matches.
    case 'presentMatch': { const want = p.value; return (v) => want && v !== undefined; }
    case 'listMatch': {
      const one = p.value.matchPattern;
      if (one.case !== 'oneOf') throw new ConfigError(`${path}.list_match.one_of`, 'required');
      const inner = compileValueMatcher(one.value, `${path}.list_match.one_of`);
      return (v) => Array.isArray(v) && v.some((e) => inner(e));
    }
    case 'orMatch': {
      const ms = p.value.valueMatchers;
      if (ms.length < 2) throw new ConfigError(`${path}.or_match.value_matchers`, 'at least two matchers are required');
      const all = ms.map((x, i) => compileValueMatcher(x, `${path}.or_match.value_matchers[${i}]`));
      return (v) => all.some((f) => f(v));
    }
    default:
      throw new ConfigError(path, 'one of null_match, double_match, string_match, bool_match, present_match, list_match or or_match is required');
  }
}

function compileDoubleMatcher(m: DoubleMatcher, path: string): (n: number) => boolean {
  const p = m.matchPattern;
  if (p.case === 'exact') { const x = p.value; return (n) => n === x; }
  if (p.case === 'range') {
    const { start, end } = p.value;
    if (start > end) throw new ConfigError(`${path}.range`, `start ${start} is after end ${end}`);
    return (n) => n >= start && n < end;
  }
  throw new ConfigError(path, 'one of range or exact is required');
}
