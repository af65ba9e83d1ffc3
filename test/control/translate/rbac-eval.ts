import { BlockList, isIP } from 'node:net';
import { RE2JS } from 're2js';
import type { JsonValue } from '@bufbuild/protobuf';
import { RBAC_Action, type Permission, type Principal, type RBAC } from '../../../src/envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import type { StringMatcher } from '../../../src/envoy/generated/envoy/type/matcher/v3/string_pb.js';
import type { ValueMatcher } from '../../../src/envoy/generated/envoy/type/matcher/v3/value_pb.js';
import type { CidrRange } from '../../../src/envoy/generated/envoy/config/core/v3/address_pb.js';

/**
 * Envoy's RBAC matching re-implemented for simulation tests (as Istio's simulation tests do for
 * filter chains and routes): enough of Principal / Permission for what the translation emits,
 * following Envoy's documented semantics. Not the data plane's filter (the rbac-jwt helper's);
 * this checks that the generated shape means what the AuthorizationPolicy says.
 */
export interface SimRequest {
  /** The peer certificate's URI SAN (mTLS); undefined on plaintext. */
  readonly principal?: string;
  readonly directRemoteIp: string;
  /** From x-forwarded-for etc.; defaults to the direct address. */
  readonly remoteIp?: string;
  /** Lower-case names; pseudo-headers `:method`, `:authority`, `:path`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly destinationPort: number;
  /** jwt_authn's dynamic metadata: verified payloads by issuer. */
  readonly jwt?: Readonly<Record<string, Record<string, JsonValue>>>;
}

/** The outcome of RBAC filters in order: LOG never denies, DENY denies on a match, ALLOW unless a match. */
export function authorize(rules: readonly RBAC[], req: SimRequest): 'allow' | 'deny' {
  for (const r of rules) {
    const matched = Object.values(r.policies).some((p) => p.permissions.some((x) => permission(x, req)) && p.principals.some((x) => principal(x, req)));
    if (r.action === RBAC_Action.DENY && matched) return 'deny';
    if (r.action === RBAC_Action.ALLOW && !matched) return 'deny';
  }
  return 'allow';
}

function principal(p: Principal, req: SimRequest): boolean {
  const id = p.identifier;
  switch (id.case) {
    case 'any': return true;
    case 'andIds': return id.value.ids.every((x) => principal(x, req));
    case 'orIds': return id.value.ids.some((x) => principal(x, req));
    case 'notId': return !principal(id.value, req);
    case 'authenticated': return req.principal !== undefined && (id.value.principalName === undefined || string(id.value.principalName, req.principal));
    case 'directRemoteIp': return inCidr(id.value, req.directRemoteIp);
    case 'remoteIp': return inCidr(id.value, req.remoteIp ?? req.directRemoteIp);
    case 'header': {
      const v = req.headers[id.value.name];
      return v !== undefined && id.value.headerMatchSpecifier.case === 'stringMatch' && string(id.value.headerMatchSpecifier.value, v) !== id.value.invertMatch;
    }
    case 'metadata': {
      if (id.value.filter !== 'envoy.filters.http.jwt_authn') return false;
      let v: JsonValue | undefined = req.jwt as JsonValue | undefined;
      for (const seg of id.value.path) v = v && typeof v === 'object' && !Array.isArray(v) && seg.segment.case === 'key' ? v[seg.segment.value] : undefined;
      return id.value.value !== undefined && value(id.value.value, v) !== id.value.invert;
    }
    default: throw new Error(`simulation: principal ${id.case} not modelled`);
  }
}

function permission(p: Permission, req: SimRequest): boolean {
  const r = p.rule;
  switch (r.case) {
    case 'any': return true;
    case 'andRules': return r.value.rules.every((x) => permission(x, req));
    case 'orRules': return r.value.rules.some((x) => permission(x, req));
    case 'notRule': return !permission(r.value, req);
    case 'destinationPort': return req.destinationPort === r.value;
    case 'header': {
      const v = req.headers[r.value.name];
      return v !== undefined && r.value.headerMatchSpecifier.case === 'stringMatch' && string(r.value.headerMatchSpecifier.value, v) !== r.value.invertMatch;
    }
    case 'urlPath': {
      const path = (req.headers[':path'] ?? '/').split('?')[0]!;
      return r.value.rule.case === 'path' && string(r.value.rule.value, path);
    }
    default: throw new Error(`simulation: permission ${r.case} not modelled`);
  }
}

function value(m: ValueMatcher, v: JsonValue | undefined): boolean {
  const p = m.matchPattern;
  switch (p.case) {
    case 'presentMatch': return v !== undefined;
    case 'stringMatch': return typeof v === 'string' && string(p.value, v);
    case 'listMatch': return Array.isArray(v) && p.value.matchPattern.case === 'oneOf' && v.some((x) => value((p.value.matchPattern as { value: ValueMatcher }).value, x));
    default: throw new Error(`simulation: value matcher ${p.case} not modelled`);
  }
}

function string(m: StringMatcher, s: string): boolean {
  const p = m.matchPattern;
  const ci = m.ignoreCase;
  const a = ci ? s.toLowerCase() : s;
  switch (p.case) {
    case 'exact': return a === (ci ? p.value.toLowerCase() : p.value);
    case 'prefix': return a.startsWith(ci ? p.value.toLowerCase() : p.value);
    case 'suffix': return a.endsWith(ci ? p.value.toLowerCase() : p.value);
    case 'contains': return a.includes(ci ? p.value.toLowerCase() : p.value);
    // Envoy's safe_regex is a full match (RE2).
    case 'safeRegex': return RE2JS.compile(p.value.regex).matcher(s).matches();
    default: throw new Error(`simulation: string matcher ${p.case} not modelled`);
  }
}

function inCidr(c: CidrRange, ip: string): boolean {
  const fam = isIP(c.addressPrefix) === 6 ? 'ipv6' : 'ipv4';
  const bl = new BlockList();
  bl.addSubnet(c.addressPrefix, c.prefixLen ?? (fam === 'ipv4' ? 32 : 128), fam);
  return isIP(ip) !== 0 && bl.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}
