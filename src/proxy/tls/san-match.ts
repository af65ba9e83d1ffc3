import type { CertificateValidationContext } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SubjectAltNameMatcher_SanType } from '../../envoy/generated/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { compileStringMatcher, type StringMatch } from '../http/route/string-matcher.js';

/** A certificate's subject alternative names, by type. */
export interface PeerSans {
  readonly uri: readonly string[];
  readonly dns: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
}

/** One SAN matcher: which SAN types it looks at and the string match. */
export interface SanMatcher {
  readonly types: readonly (keyof PeerSans)[];
  readonly match: StringMatch;
  /** A DNS exact match honours a wildcard SAN (`*.example.com`), as Envoy's DNS matching. */
  readonly dnsExact: string | undefined;
}

/**
 * match_typed_subject_alt_names (typed) and the older match_subject_alt_names (any SAN type),
 * compiled. Envoy takes the typed list when both are set. Pure.
 */
export function compileSanMatchers(v: CertificateValidationContext, path: string): SanMatcher[] {
  if (v.matchTypedSubjectAltNames.length > 0) {
    return v.matchTypedSubjectAltNames.map((m, i) => {
      const p = `${path}.match_typed_subject_alt_names[${i}]`;
      const type = m.sanType === SubjectAltNameMatcher_SanType.URI ? 'uri' : m.sanType === SubjectAltNameMatcher_SanType.DNS ? 'dns' : m.sanType === SubjectAltNameMatcher_SanType.EMAIL ? 'email' : m.sanType === SubjectAltNameMatcher_SanType.IP_ADDRESS ? 'ip' : undefined;
      if (!type) throw new ConfigError(`${p}.san_type`, `expected URI, DNS, EMAIL or IP_ADDRESS, got ${SubjectAltNameMatcher_SanType[m.sanType] ?? m.sanType}`);
      if (m.oid) throw new ConfigError(`${p}.oid`, 'OTHER_NAME matching is not supported');
      const exact = m.matcher?.matchPattern.case === 'exact' && !m.matcher.ignoreCase ? m.matcher.matchPattern.value : undefined;
      return { types: [type], match: compileStringMatcher(m.matcher, `${p}.matcher`), dnsExact: type === 'dns' ? exact : undefined };
    });
  }
  return v.matchSubjectAltNames.map((m, i) => {
    const exact = m.matchPattern.case === 'exact' && !m.ignoreCase ? m.matchPattern.value : undefined;
    return { types: ['uri', 'dns', 'email', 'ip'], match: compileStringMatcher(m, `${path}.match_subject_alt_names[${i}]`), dnsExact: exact };
  });
}

/** True when no matcher is configured or one of them matches one of the peer's SANs. */
export function sansMatch(matchers: readonly SanMatcher[], sans: PeerSans): boolean {
  if (matchers.length === 0) return true;
  for (const m of matchers) {
    for (const t of m.types) {
      for (const san of sans[t]) {
        if (m.match(san)) return true;
        if (t === 'dns' && m.dnsExact !== undefined && dnsWildcardMatch(san, m.dnsExact)) return true;
      }
    }
  }
  return false;
}

/** A certificate's `*.example.com` covers exactly one label: `a.example.com`, not `a.b.example.com`. */
function dnsWildcardMatch(san: string, name: string): boolean {
  if (!san.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot).toLowerCase() === san.slice(1).toLowerCase();
}

/**
 * Parses Node's `subjectaltname` text (`URI:spiffe://td/ns/a/sa/b, DNS:x.example, IP Address:10.0.0.1`).
 * Values with a comma come quoted (JSON) from Node; those are unquoted.
 */
export function parseSubjectAltName(text: string | undefined): PeerSans {
  const out = { uri: [] as string[], dns: [] as string[], email: [] as string[], ip: [] as string[] };
  if (!text) return out;
  const re = /(URI|DNS|email|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const raw = m[2]!;
    const v = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (m[1] === 'URI') out.uri.push(v);
    else if (m[1] === 'DNS') out.dns.push(v);
    else if (m[1] === 'email') out.email.push(v);
    else out.ip.push(v);
    if (m.index === re.lastIndex) re.lastIndex++;
  }
  return out;
}
