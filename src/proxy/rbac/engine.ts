import type { RBAC as RbacRules } from '../../envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { RBAC_Action } from '../../envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { compilePermission, compilePrincipal } from './matchers.js';
import type { RbacInput, RbacMatch } from './input.js';

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

interface CompiledPolicy {
  readonly name: string;
  readonly permissions: RbacMatch;
  readonly principals: RbacMatch;
}

/** What an engine decided for one input. */
export interface RbacDecision {
  readonly allowed: boolean;
  /** The first policy (by name) that matched, if any. */
  readonly policy: string | undefined;
}

/**
 * One `envoy.config.rbac.v3.RBAC` compiled into closures, once per config (Envoy's
 * RoleBasedAccessControlEngineImpl). Evaluation is pure: no I/O, no clock.
 */
export class RbacEngine {
  readonly #policies: readonly CompiledPolicy[];
  constructor(readonly action: RbacAction, policies: readonly CompiledPolicy[]) {
    this.#policies = policies;
  }

  /** The first policy in name order whose permissions and principals both match. */
  matchedPolicy(input: RbacInput): string | undefined {
    const ps = this.#policies;
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k]!;
      if (p.permissions(input) && p.principals(input)) return p.name;
    }
    return undefined;
  }

  /**
   * ALLOW: allowed when a policy matches. DENY: allowed when none does. LOG: always allowed
   * (the match only says whether to log).
   */
  evaluate(input: RbacInput): RbacDecision {
    const policy = this.matchedPolicy(input);
    const allowed = this.action === 'ALLOW' ? policy !== undefined : this.action === 'DENY' ? policy === undefined : true;
    return { allowed, policy };
  }
}

/** Compiles RBAC rules; policies are evaluated in lexicographic order of their names, as Envoy does. */
export function compileRbacRules(r: RbacRules, path: string): RbacEngine {
  const action = r.action === RBAC_Action.ALLOW ? 'ALLOW' : r.action === RBAC_Action.DENY ? 'DENY' : r.action === RBAC_Action.LOG ? 'LOG' : undefined;
  if (!action) throw new ConfigError(`${path}.action`, `unknown value ${r.action}`);
  const names = Object.keys(r.policies).sort();
  const policies = names.map((name): CompiledPolicy => {
    const p = r.policies[name]!;
    const pp = `${path}.policies[${name}]`;
    if (p.condition) throw new ConfigError(`${pp}.condition`, 'CEL conditions are not supported by tsmesh');
    if (p.checkedCondition) throw new ConfigError(`${pp}.checked_condition`, 'CEL conditions are not supported by tsmesh');
    if (p.permissions.length === 0) throw new ConfigError(`${pp}.permissions`, 'at least one permission is required');
    if (p.principals.length === 0) throw new ConfigError(`${pp}.principals`, 'at least one principal is required');
    return {
      name,
      permissions: anyOf(p.permissions.map((x, i) => compilePermission(x, `${pp}.permissions[${i}]`))),
      principals: anyOf(p.principals.map((x, i) => compilePrincipal(x, `${pp}.principals[${i}]`))),
    };
  });
  return new RbacEngine(action, policies);
}

function anyOf(ms: RbacMatch[]): RbacMatch {
  if (ms.length === 1) return ms[0]!;
  return (i) => { for (const m of ms) if (m(i)) return true; return false; };
}
