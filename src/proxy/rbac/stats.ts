import { statSet, type StatScope } from '../stats-scope.js';

/**
 * Envoy's Envoy::statPrefixJoin: `prefix.token`, without doubling a `.` the prefix already
 * ends with; an empty side gives the other.
 */
export function statPrefixJoin(prefix: string, token: string): string {
  if (prefix === '') return token;
  if (token === '') return prefix;
  return prefix.endsWith('.') ? prefix + token : `${prefix}.${token}`;
}

/** The counters of an RBAC filter. */
export interface RbacStats {
  readonly allowed: { inc(): void };
  readonly denied: { inc(): void };
  readonly logged: { inc(): void };
  readonly not_logged: { inc(): void };
  readonly shadow_allowed: { inc(): void };
  readonly shadow_denied: { inc(): void };
}

/**
 * Envoy's RBAC generateStats: under `<base>rbac.`, the enforced counters after
 * rules_stat_prefix and the shadow ones after shadow_rules_stat_prefix (each joined with `.`).
 */
export function rbacStats(scope: StatScope, rulesPrefix: string, shadowPrefix: string): RbacStats {
  const base = 'rbac.';
  const rules = statPrefixJoin(base, rulesPrefix);
  const shadow = statPrefixJoin(base, shadowPrefix);
  const name = (p: string, n: string) => statPrefixJoin(p, n);
  const e = statSet(scope, [name(rules, 'allowed'), name(rules, 'denied'), name(rules, 'logged'), name(rules, 'not_logged')]);
  const s = statSet(scope, [name(shadow, 'shadow_allowed'), name(shadow, 'shadow_denied')]);
  return {
    allowed: e[name(rules, 'allowed')]!,
    denied: e[name(rules, 'denied')]!,
    logged: e[name(rules, 'logged')]!,
    not_logged: e[name(rules, 'not_logged')]!,
    shadow_allowed: s[name(shadow, 'shadow_allowed')]!,
    shadow_denied: s[name(shadow, 'shadow_denied')]!,
  };
}

/** RESPONSE_CODE_DETAILS of a denial: `rbac_access_denied_matched_policy[<policy>|none]`, spaces as `_`. */
export function deniedDetails(policy: string | undefined): string {
  return `rbac_access_denied_matched_policy[${policy === undefined ? 'none' : policy.replace(/\s/g, '_')}]`;
}
