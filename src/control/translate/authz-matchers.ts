/*
 * The pieces of Istio's generated RBAC (pilot/pkg/security/authz/model): one AuthorizationPolicy
 * value (a principal, a path, a host...) as an Envoy RBAC Principal or Permission. Values may use
 * Istio's `*` forms: `*` alone (present), `prefix*`, `*suffix`. Pure.
 */
import { create } from '@bufbuild/protobuf';
import {
  PrincipalSchema, Principal_SetSchema, Principal_AuthenticatedSchema, PermissionSchema, Permission_SetSchema, type Principal, type Permission,
} from '../../envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../envoy/generated/envoy/type/matcher/v3/string_pb.js';
import { RegexMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/regex_pb.js';
import { MetadataMatcherSchema, MetadataMatcher_PathSegmentSchema } from '../../envoy/generated/envoy/type/matcher/v3/metadata_pb.js';
import { ValueMatcherSchema, ListMatcherSchema, type ValueMatcher } from '../../envoy/generated/envoy/type/matcher/v3/value_pb.js';
import { PathMatcherSchema } from '../../envoy/generated/envoy/type/matcher/v3/path_pb.js';
import { HeaderMatcherSchema } from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { CidrRangeSchema, type CidrRange } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';

/** Where jwt_authn puts each verified token's payload: under the provider's issuer (payload_in_metadata). */
export const JWT_FILTER = 'envoy.filters.http.jwt_authn';

// --- builders -----------------------------------------------------------------------------

export const anyPrincipal = (): Principal => create(PrincipalSchema, { identifier: { case: 'any', value: true } });
export const anyPermission = (): Permission => create(PermissionSchema, { rule: { case: 'any', value: true } });
/** Matches nothing: a principal that no request has (an empty OR). */
export const noPrincipal = (): Principal => create(PrincipalSchema, { identifier: { case: 'orIds', value: create(Principal_SetSchema, { ids: [] }) } });

export function orIds(ids: Principal[]): Principal {
  return ids.length === 1 ? ids[0]! : create(PrincipalSchema, { identifier: { case: 'orIds', value: create(Principal_SetSchema, { ids }) } });
}
export function andIds(ids: Principal[]): Principal {
  return create(PrincipalSchema, { identifier: { case: 'andIds', value: create(Principal_SetSchema, { ids }) } });
}
export function notId(p: Principal): Principal {
  return create(PrincipalSchema, { identifier: { case: 'notId', value: p } });
}
export function orRules(rules: Permission[]): Permission {
  return rules.length === 1 ? rules[0]! : create(PermissionSchema, { rule: { case: 'orRules', value: create(Permission_SetSchema, { rules }) } });
}
export function andRules(rules: Permission[]): Permission {
  return create(PermissionSchema, { rule: { case: 'andRules', value: create(Permission_SetSchema, { rules }) } });
}
export function notRule(p: Permission): Permission {
  return create(PermissionSchema, { rule: { case: 'notRule', value: p } });
}

function exact(value: string, ignoreCase = false): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'exact', value }, ignoreCase });
}
function regex(re: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: re }) } });
}

/** Istio's value forms: `*` → any non-empty value, `abc*` → prefix, `*abc` → suffix, else exact. */
export function istioString(v: string, prepend = '', ignoreCase = false): StringMatcher {
  if (v === '*') return regex('.+');
  if (v.endsWith('*')) return create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: prepend + v.slice(0, -1) }, ignoreCase });
  if (v.startsWith('*')) return create(StringMatcherSchema, { matchPattern: { case: 'suffix', value: v.slice(1) }, ignoreCase });
  return exact(prepend + v, ignoreCase);
}

// --- principals (who) ---------------------------------------------------------------------

/** `source.principals`: the peer certificate's URI SAN; Istio writes them without `spiffe://`. */
export function principalName(v: string): Principal {
  // Written with the scheme by mistake (analysis warns): the same identity, not spiffe://spiffe://.
  const id = v.startsWith('spiffe://') ? v.slice('spiffe://'.length) : v;
  const name = id === '*' ? regex('.+') : id.startsWith('*') ? istioString(id) : istioString(id, 'spiffe://');
  return create(PrincipalSchema, { identifier: { case: 'authenticated', value: create(Principal_AuthenticatedSchema, { principalName: name }) } });
}

/** `source.namespaces`: Istio's regex on the principal (any trust domain, namespace NS, any service account). */
export function namespacePrincipal(v: string): Principal {
  const ns = v === '*' ? '.*' : v.endsWith('*') ? `${escapeRegex(v.slice(0, -1))}.*` : v.startsWith('*') ? `.*${escapeRegex(v.slice(1))}` : escapeRegex(v);
  return create(PrincipalSchema, { identifier: { case: 'authenticated', value: create(Principal_AuthenticatedSchema, { principalName: regex(`.*/ns/${ns}/.*`) }) } });
}

export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

export function cidr(v: string): CidrRange {
  const [ip, len] = v.split('/') as [string, string | undefined];
  return create(CidrRangeSchema, { addressPrefix: ip, prefixLen: len !== undefined ? Number(len) : ip.includes(':') ? 128 : 32 });
}
export const directRemoteIp = (v: string): Principal => create(PrincipalSchema, { identifier: { case: 'directRemoteIp', value: cidr(v) } });
export const remoteIp = (v: string): Principal => create(PrincipalSchema, { identifier: { case: 'remoteIp', value: cidr(v) } });

export function headerPrincipal(name: string, v: string): Principal {
  return create(PrincipalSchema, { identifier: { case: 'header', value: create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: 'stringMatch', value: istioString(v) } }) } });
}

/** A claim of the verified token of `issuer` (jwt_authn metadata), as a string or as one item of a list. */
export function claimPrincipal(issuer: string, claim: readonly string[], v: string): Principal {
  const sm = istioString(v);
  return orIds([
    metadataPrincipal(issuer, claim, create(ValueMatcherSchema, { matchPattern: { case: 'stringMatch', value: sm } })),
    metadataPrincipal(issuer, claim, create(ValueMatcherSchema, {
      matchPattern: { case: 'listMatch', value: create(ListMatcherSchema, { matchPattern: { case: 'oneOf', value: create(ValueMatcherSchema, { matchPattern: { case: 'stringMatch', value: sm } }) } }) },
    })),
  ]);
}

/** A verified token of `issuer` is present. */
export function issuerPresent(issuer: string): Principal {
  return metadataPrincipal(issuer, ['iss'], create(ValueMatcherSchema, { matchPattern: { case: 'presentMatch', value: true } }));
}

function metadataPrincipal(issuer: string, claim: readonly string[], value: ValueMatcher): Principal {
  return create(PrincipalSchema, {
    identifier: {
      case: 'metadata',
      value: create(MetadataMatcherSchema, {
        filter: JWT_FILTER,
        path: [issuer, ...claim].map((key) => create(MetadataMatcher_PathSegmentSchema, { segment: { case: 'key', value: key } })),
        value,
      }),
    },
  });
}

/**
 * `requestPrincipals` / `request.auth.principal`: `ISS/SUB` of a verified token. The issuers that
 * can have verified one are those of the workload's RequestAuthentications; a form that none of
 * them can produce matches nothing.
 */
export function requestPrincipal(v: string, issuers: readonly string[]): Principal {
  const ids: Principal[] = [];
  for (const iss of issuers) {
    const p = `${iss}/`;
    if (v === '*') ids.push(issuerPresent(iss));
    else if (v.endsWith('*')) {
      const pre = v.slice(0, -1);
      if (p.startsWith(pre)) ids.push(issuerPresent(iss));
      else if (pre.startsWith(p)) ids.push(claimPrincipal(iss, ['sub'], `${pre.slice(p.length)}*`));
    } else if (v.startsWith('*')) {
      // `*SUF`: SUF is a suffix of SUB, or (with a "/") ends the issuer and names SUB exactly.
      const suf = v.slice(1);
      const slash = suf.lastIndexOf('/');
      if (slash < 0) ids.push(claimPrincipal(iss, ['sub'], `*${suf}`));
      else if (slash < suf.length - 1 && iss.endsWith(suf.slice(0, slash))) ids.push(claimPrincipal(iss, ['sub'], suf.slice(slash + 1)));
    } else if (v.startsWith(p) && v.length > p.length) ids.push(claimPrincipal(iss, ['sub'], v.slice(p.length)));
  }
  return ids.length === 0 ? noPrincipal() : orIds(ids);
}

/** A claim condition over every issuer the workload accepts (`request.auth.claims[a][b]`, audiences, presenter). */
export function anyIssuerClaim(issuers: readonly string[], claim: readonly string[], v: string): Principal {
  return issuers.length === 0 ? noPrincipal() : orIds(issuers.map((iss) => claimPrincipal(iss, claim, v)));
}

// --- permissions (what) -------------------------------------------------------------------

export function headerPermission(name: string, sm: StringMatcher): Permission {
  return create(PermissionSchema, { rule: { case: 'header', value: create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: 'stringMatch', value: sm } }) } });
}

export function methodPermission(v: string): Permission {
  return headerPermission(':method', istioString(v));
}

/** `hosts`: the :authority, with or without a port, case-insensitively (Istio's host matching). */
export function hostPermission(v: string): Permission {
  if (v === '*') return anyPermission();
  if (v.startsWith('*')) return orRules([headerPermission(':authority', istioString(v, '', true)), headerPermission(':authority', regexI(`.*${escapeRegex(v.slice(1))}:[0-9]+`))]);
  if (v.endsWith('*')) return headerPermission(':authority', istioString(v, '', true));
  return orRules([headerPermission(':authority', exact(v, true)), headerPermission(':authority', create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: `${v}:` }, ignoreCase: true }))]);
}

function regexI(re: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: `(?i)${re}` }) } });
}

/** `paths`: the path without the query string (url_path). */
export function pathPermission(v: string): Permission {
  if (v === '*') return anyPermission();
  return create(PermissionSchema, { rule: { case: 'urlPath', value: create(PathMatcherSchema, { rule: { case: 'path', value: istioString(v) } }) } });
}

export function portPermission(port: number): Permission {
  return create(PermissionSchema, { rule: { case: 'destinationPort', value: port } });
}

export function destinationIpPermission(v: string): Permission {
  return create(PermissionSchema, { rule: { case: 'destinationIp', value: cidr(v) } });
}

export function sniPermission(v: string): Permission {
  return create(PermissionSchema, { rule: { case: 'requestedServerName', value: istioString(v) } });
}
