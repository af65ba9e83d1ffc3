import type { RE2JS } from 're2js';
import { re2 } from './re2-engine.js';
import type { RegexMatcher, RegexMatchAndSubstitute } from '../../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { ConfigError } from '../../../envoy/registry.js';

/**
 * Compiles an Envoy `RegexMatcher` (google_re2 is the only engine) once, at config time. RE2
 * syntax, RE2 defaults (`.` does not match `\n`, no look-around, no back-references): what
 * RE2 rejects, Envoy rejects, and so do we.
 */
export function compileRegex(m: RegexMatcher | undefined, path: string): RE2JS {
  if (!m) throw new ConfigError(path, 'a regex is required');
  if (!m.regex) throw new ConfigError(`${path}.regex`, 'must not be empty');
  try {
    return re2().compile(m.regex);
  } catch (e) {
    throw new ConfigError(`${path}.regex`, `invalid RE2 regex ${JSON.stringify(m.regex)}: ${(e as Error).message}`);
  }
}

/** A part of an RE2 rewrite string: literal text, or the number of a capture group (`\0`-`\9`). */
type RewritePart = string | number;

/**
 * `RegexMatchAndSubstitute`: every non-overlapping match of `pattern` replaced by `substitution`,
 * where `\N` (one digit) is capture group N and `\\` a backslash, exactly as RE2's
 * `GlobalReplace` (which Envoy calls) does it, including its rule for empty matches. RE2 leaves
 * the input unchanged when the substitution names a group the pattern lacks or has a stray
 * backslash; that can only be a mistake, so it is a config error here.
 */
export class RegexRewrite {
  readonly #re: RE2JS;
  readonly #parts: readonly RewritePart[];

  constructor(spec: RegexMatchAndSubstitute | undefined, path: string) {
    if (!spec) throw new ConfigError(path, 'pattern and substitution are required');
    this.#re = compileRegex(spec.pattern, `${path}.pattern`);
    this.#parts = parseRewrite(spec.substitution, this.#re.groupCount(), `${path}.substitution`);
  }

  /** `input` with every match replaced; `input` itself when nothing matched. */
  replaceAll(input: string): string {
    const m = this.#re.matcher(input);
    let out = '';
    let p = 0;
    let lastEnd = -1;
    let count = 0;
    while (p <= input.length) {
      if (!m.find(p)) break;
      const start = m.start();
      const end = m.end();
      if (p < start) out += input.slice(p, start);
      if (start === end && start === lastEnd) {
        // RE2: an empty match right where the previous match ended is not a match; copy one
        // character (a whole code point) and search again from after it.
        if (p < input.length) {
          const n = (input.codePointAt(p) ?? 0) > 0xffff ? 2 : 1;
          out += input.slice(p, p + n);
          p += n;
        } else {
          p++;
        }
        continue;
      }
      for (const part of this.#parts) out += typeof part === 'string' ? part : m.group(part) ?? '';
      p = end;
      lastEnd = end;
      count++;
    }
    if (count === 0) return input;
    if (p < input.length) out += input.slice(p);
    return out;
  }
}

function parseRewrite(s: string, groups: number, path: string): RewritePart[] {
  const parts: RewritePart[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') { lit += c; continue; }
    const next = s[i + 1];
    if (next === '\\') { lit += '\\'; i++; continue; }
    if (next !== undefined && next >= '0' && next <= '9') {
      const n = next.charCodeAt(0) - 48;
      if (n > groups) throw new ConfigError(path, `\\${n} refers to capture group ${n} but the pattern has ${groups}`);
      if (lit) { parts.push(lit); lit = ''; }
      parts.push(n);
      i++;
      continue;
    }
    throw new ConfigError(path, `invalid rewrite pattern: a backslash must be followed by a digit or a backslash, at position ${i}`);
  }
  if (lit) parts.push(lit);
  return parts;
}
