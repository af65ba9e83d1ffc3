/*
 * AuthorizationPolicy → Envoy RBAC in the shape Istio generates (pilot/pkg/security/authz/builder):
 * one filter per action in the order AUDIT (RBAC action LOG), DENY, ALLOW; one RBAC policy per
 * rule, named `ns[NS]-policy[NAME]-rule[I]`, whose permissions are
 * `and_rules[or_rules[operations...], conditions...]` and principals
 * `and_ids[or_ids[sources...], conditions...]`, each field an OR of its values (`not*` fields
 * a not_rule / not_id of that OR). Semantics (https://istio.io/latest/docs/reference/config/security/authorization-policy/):
 * - an ALLOW policy without rules allows nothing: once any ALLOW policy applies, the ALLOW filter
 *   exists, and a request no rule matches is denied; `rules: [{}]` matches everything;
 * - DENY / AUDIT policies without rules match nothing (no filter);
 * - on TCP chains, a rule using HTTP-only fields (hosts, methods, paths, requestPrincipals,
 *   request.* conditions) is dropped from ALLOW / AUDIT policies (it can never match, so TCP is not
 *   allowed by it) and kept without those fields in DENY policies (denying more, never less).
 * Pure.
 */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { RBACSchema as RbacRulesSchema, RBAC_Action, PolicySchema, type Policy, type Principal, type Permission } from '../../envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { RBACSchema as HttpRbacSchema } from '../../envoy/generated/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBACSchema as NetworkRbacSchema } from '../../envoy/generated/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { FilterSchema, type Filter } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import type { AuthorizationPolicy, AuthzCondition, AuthzOperation, AuthzRule, AuthzSource } from '../config/kinds.js';
import {
  andIds, andRules, anyIssuerClaim, anyPermission, anyPrincipal, destinationIpPermission, directRemoteIp, headerPrincipal, hostPermission,
  methodPermission, namespacePrincipal, notId, notRule, orIds, orRules, pathPermission, portPermission, principalName, remoteIp, requestPrincipal, sniPermission,
} from './authz-matchers.js';

export const HTTP_RBAC_FILTER = 'envoy.filters.http.rbac';
export const NETWORK_RBAC_FILTER = 'envoy.filters.network.rbac';

type Action = 'ALLOW' | 'DENY' | 'AUDIT';
const ORDER: readonly [Action, RBAC_Action][] = [['AUDIT', RBAC_Action.LOG], ['DENY', RBAC_Action.DENY], ['ALLOW', RBAC_Action.ALLOW]];

/**
 * Where the filter runs. `workloadPort`: the chain serves this one workload port and the
 * connection's destination port is another one (the sidecar's own inbound port, without traffic
 * capture), so `ports` / `destination.port` are decided here instead of by destination_port.
 */
export interface RbacScope {
  readonly forTcp: boolean;
  readonly issuers: readonly string[];
  readonly workloadPort?: number;
}

/** The RBAC rule sets for `policies` (those applying to one workload), in filter order; empty sets left out as Istio does. */
export function rbacRules(policies: readonly AuthorizationPolicy[], scope: RbacScope): { action: RBAC_Action; policies: Record<string, Policy> }[] {
  const out: { action: RBAC_Action; policies: Record<string, Policy> }[] = [];
  for (const [action, envoyAction] of ORDER) {
    const mine = policies.filter((p) => (p.spec.action ?? 'ALLOW') === action);
    if (mine.length === 0) continue;
    const built: Record<string, Policy> = {};
    for (const p of mine) {
      (p.spec.rules ?? []).forEach((r, i) => {
        const policy = rulePolicy(r, action, scope);
        if (policy) built[`ns[${p.metadata.namespace}]-policy[${p.metadata.name}]-rule[${i}]`] = policy;
      });
    }
    if (action !== 'ALLOW' && Object.keys(built).length === 0) continue;
    out.push({ action: envoyAction, policies: built });
  }
  return out;
}

/** `envoy.filters.http.rbac` filters for an inbound HTTP connection manager (before the router). */
export function httpRbacFilters(policies: readonly AuthorizationPolicy[], issuers: readonly string[], workloadPort?: number): HttpFilter[] {
  return rbacRules(policies, { forTcp: false, issuers, ...(workloadPort !== undefined ? { workloadPort } : {}) }).map((r) => create(HttpFilterSchema, {
    name: HTTP_RBAC_FILTER,
    configType: { case: 'typedConfig', value: anyPack(HttpRbacSchema, create(HttpRbacSchema, { rules: create(RbacRulesSchema, r) })) },
  }));
}

/** `envoy.filters.network.rbac` filters for an inbound TCP chain (before tcp_proxy). */
export function networkRbacFilters(policies: readonly AuthorizationPolicy[], workloadPort?: number): Filter[] {
  return rbacRules(policies, { forTcp: true, issuers: [], ...(workloadPort !== undefined ? { workloadPort } : {}) }).map((r) => create(FilterSchema, {
    name: NETWORK_RBAC_FILTER,
    configType: { case: 'typedConfig', value: anyPack(NetworkRbacSchema, create(NetworkRbacSchema, { statPrefix: 'tcp.', rules: create(RbacRulesSchema, r) })) },
  }));
}

const HTTP_SOURCE: readonly (keyof AuthzSource)[] = ['requestPrincipals', 'notRequestPrincipals'];
const HTTP_OPERATION: readonly (keyof AuthzOperation)[] = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];
const isHttpCondition = (c: AuthzCondition): boolean => c.key.startsWith('request.');

function usesHttp(r: AuthzRule): boolean {
  return (r.from ?? []).some((f) => HTTP_SOURCE.some((k) => (f.source?.[k]?.length ?? 0) > 0))
    || (r.to ?? []).some((t) => HTTP_OPERATION.some((k) => (t.operation?.[k]?.length ?? 0) > 0))
    || (r.when ?? []).some(isHttpCondition);
}

function rulePolicy(r: AuthzRule, action: Action, scope: RbacScope): Policy | undefined {
  const { forTcp, issuers } = scope;
  const port = portMatcher(scope);
  if (forTcp && action !== 'DENY' && usesHttp(r)) return undefined;
  const when = (r.when ?? []).filter((c) => !(forTcp && isHttpCondition(c)));
  const sources = (r.from ?? []).map((f) => sourcePrincipal(f.source ?? {}, forTcp, issuers)).filter((p): p is Principal => p !== undefined);
  const operations = (r.to ?? []).map((t) => operationPermission(t.operation ?? {}, forTcp, port)).filter((p): p is Permission => p !== undefined);
  const ids: Principal[] = [];
  const rules: Permission[] = [];
  if (sources.length > 0) ids.push(orIds(sources));
  if (operations.length > 0) rules.push(orRules(operations));
  for (const c of when) {
    const cond = condition(c, issuers, port);
    if (cond.principal) ids.push(cond.principal);
    if (cond.permission) rules.push(cond.permission);
  }
  return create(PolicySchema, {
    permissions: [rules.length > 0 ? andRules(rules) : anyPermission()],
    principals: [ids.length > 0 ? andIds(ids) : anyPrincipal()],
  });
}

/** A port condition: Envoy's destination_port, or decided now when the chain serves one known workload port. */
function portMatcher(scope: RbacScope): (p: number) => Permission {
  const wp = scope.workloadPort;
  return wp === undefined ? portPermission : (p) => (p === wp ? anyPermission() : notRule(anyPermission()));
}

/** One field's values OR'd; `not` fields are the negation of that OR. */
function field<T>(values: readonly string[] | undefined, one: (v: string) => T, or: (xs: T[]) => T, negate: (x: T) => T, not: boolean): T | undefined {
  if (!values || values.length === 0) return undefined;
  const x = or(values.map(one));
  return not ? negate(x) : x;
}

function sourcePrincipal(s: AuthzSource, forTcp: boolean, issuers: readonly string[]): Principal | undefined {
  const f = (values: readonly string[] | undefined, one: (v: string) => Principal, not = false) => field(values, one, orIds, notId, not);
  const ids = [
    f(s.principals, principalName), f(s.notPrincipals, principalName, true),
    forTcp ? undefined : f(s.requestPrincipals, (v) => requestPrincipal(v, issuers)),
    forTcp ? undefined : f(s.notRequestPrincipals, (v) => requestPrincipal(v, issuers), true),
    f(s.namespaces, namespacePrincipal), f(s.notNamespaces, namespacePrincipal, true),
    f(s.ipBlocks, directRemoteIp), f(s.notIpBlocks, directRemoteIp, true),
    f(s.remoteIpBlocks, remoteIp), f(s.notRemoteIpBlocks, remoteIp, true),
  ].filter((p): p is Principal => p !== undefined);
  return ids.length === 0 ? undefined : andIds(ids);
}

function operationPermission(o: AuthzOperation, forTcp: boolean, port: (p: number) => Permission): Permission | undefined {
  const f = (values: readonly string[] | undefined, one: (v: string) => Permission, not = false) => field(values, one, orRules, notRule, not);
  const rules = [
    forTcp ? undefined : f(o.hosts, hostPermission), forTcp ? undefined : f(o.notHosts, hostPermission, true),
    f(o.ports, (v) => port(Number(v))), f(o.notPorts, (v) => port(Number(v)), true),
    forTcp ? undefined : f(o.methods, methodPermission), forTcp ? undefined : f(o.notMethods, methodPermission, true),
    forTcp ? undefined : f(o.paths, pathPermission), forTcp ? undefined : f(o.notPaths, pathPermission, true),
  ].filter((p): p is Permission => p !== undefined);
  return rules.length === 0 ? undefined : andRules(rules);
}

/** A `when` condition: source and request attributes are principals, destination ones permissions (as Istio). */
function condition(c: AuthzCondition, issuers: readonly string[], port: (p: number) => Permission): { principal?: Principal; permission?: Permission } {
  const principal = (one: (v: string) => Principal): { principal: Principal } => {
    const ids = [field(c.values, one, orIds, notId, false), field(c.notValues, one, orIds, notId, true)].filter((p): p is Principal => p !== undefined);
    return { principal: ids.length === 1 ? ids[0]! : andIds(ids) };
  };
  const permission = (one: (v: string) => Permission): { permission: Permission } => {
    const rules = [field(c.values, one, orRules, notRule, false), field(c.notValues, one, orRules, notRule, true)].filter((p): p is Permission => p !== undefined);
    return { permission: rules.length === 1 ? rules[0]! : andRules(rules) };
  };
  const header = /^request\.headers\[(.+)\]$/.exec(c.key);
  if (header) return principal((v) => headerPrincipal(header[1]!.toLowerCase(), v));
  const claim = /^request\.auth\.claims\[(.+)\]$/.exec(c.key);
  // Nested claims are written request.auth.claims[a][b] (Istio): a path in the token's payload.
  if (claim) return principal((v) => anyIssuerClaim(issuers, claim[1]!.split(']['), v));
  switch (c.key) {
    case 'source.ip': return principal(directRemoteIp);
    case 'remote.ip': return principal(remoteIp);
    case 'source.namespace': return principal(namespacePrincipal);
    case 'source.principal': return principal(principalName);
    case 'request.auth.principal': return principal((v) => requestPrincipal(v, issuers));
    case 'request.auth.audiences': return principal((v) => anyIssuerClaim(issuers, ['aud'], v));
    case 'request.auth.presenter': return principal((v) => anyIssuerClaim(issuers, ['azp'], v));
    case 'destination.ip': return permission(destinationIpPermission);
    case 'destination.port': return permission((v) => port(Number(v)));
    case 'connection.sni': return permission(sniPermission);
    // Validation refuses other keys; a stored one from an older tsmesh matches nothing rather than everything.
    default: return { principal: orIds([]) };
  }
}
