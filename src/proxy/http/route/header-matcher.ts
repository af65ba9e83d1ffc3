import type { HeaderMatcher } from '../../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { ConfigError } from '../../../envoy/registry.js';
import { asciiLower } from './ascii.js';
import { compileRegex } from './regex.js';
import { headerValue, type RouteRequest } from './request.js';
import { compileStringMatcher, type StringMatch } from './string-matcher.js';

/** A compiled request condition. */
export type RequestPredicate = (req: RouteRequest) => boolean;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT_RE = /^[\t\n\v\f\r ]*([+-]?[0-9]+)[\t\n\v\f\r ]*$/;

/**
 * Compiles a route `HeaderMatcher` with Envoy's semantics (`HeaderUtility::matchHeaders`):
 * repeated headers are matched as their values joined with `,`; a missing header never
 * matches (whatever `invert_match` says) unless `treat_missing_header_as_empty`, except for
 * `present_match`, where presence XOR invert decides; no specifier means "present".
 */
export function compileHeaderMatcher(h: HeaderMatcher, path: string): RequestPredicate {
  if (!h.name) throw new ConfigError(`${path}.name`, 'must not be empty');
  if (/[\0\r\n]/.test(h.name)) throw new ConfigError(`${path}.name`, 'must not contain NUL, CR or LF');
  const name = asciiLower(h.name);
  const invert = h.invertMatch;
  const missingAsEmpty = h.treatMissingHeaderAsEmpty;
  const s = h.headerMatchSpecifier;

  if (s.case === 'presentMatch' || s.case === undefined) {
    const present = s.case === 'presentMatch' ? s.value : true;
    return (req) => {
      if (headerValue(req, name) === undefined && !missingAsEmpty) return invert ? present : !present;
      return present !== invert;
    };
  }

  const test = valueTest(h, path);
  return (req) => {
    const v = headerValue(req, name);
    if (v === undefined) return missingAsEmpty ? test('') !== invert : false;
    return test(v) !== invert;
  };
}

function valueTest(h: HeaderMatcher, path: string): StringMatch {
  const s = h.headerMatchSpecifier;
  switch (s.case) {
    case 'exactMatch': {
      const v = s.value;
      // Envoy: an empty exact_match matches any value of a present header.
      return v === '' ? () => true : (x) => x === v;
    }
    case 'prefixMatch': { const v = s.value; return (x) => x.startsWith(v); }
    case 'suffixMatch': { const v = s.value; return (x) => x.endsWith(v); }
    case 'containsMatch': { const v = s.value; return (x) => x.includes(v); }
    case 'safeRegexMatch': {
      const re = compileRegex(s.value, `${path}.safe_regex_match`);
      return (x) => re.testExact(x);
    }
    case 'rangeMatch': {
      const start = s.value.start;
      const end = s.value.end;
      // [start, end) over the value read as a signed 64-bit integer (absl::SimpleAtoi).
      return (x) => {
        const m = INT_RE.exec(x);
        if (!m) return false;
        const n = BigInt(m[1]!);
        return n >= INT64_MIN && n <= INT64_MAX && n >= start && n < end;
      };
    }
    case 'stringMatch':
      return compileStringMatcher(s.value, `${path}.string_match`);
    default:
      throw new ConfigError(path, 'unsupported header_match_specifier');
  }
}
