import type { RBAC as RbacRules } from '../../envoy/generated/envoy/config/rbac/v3/rbac_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import { compileRbacRules, type RbacEngine } from './engine.js';

/** The engines of one RBAC filter config (HTTP or network): enforced and shadow, each optional. */
export interface RbacEngines {
  /** `rules`; absent: every request is allowed and nothing is counted (Envoy's "no engine"). */
  readonly rules: RbacEngine | undefined;
  readonly shadow: RbacEngine | undefined;
}

/** What the HTTP and network RBAC configs share; `matcher` and `shadow_matcher` are refused. */
export function compileRbacEngines(c: { rules?: RbacRules | undefined; shadowRules?: RbacRules | undefined; matcher?: unknown; shadowMatcher?: unknown }, path: string): RbacEngines {
  if (c.matcher) throw new ConfigError(`${path}.matcher`, 'the matcher API for RBAC is not supported by tsmesh; use rules');
  if (c.shadowMatcher) throw new ConfigError(`${path}.shadow_matcher`, 'the matcher API for RBAC is not supported by tsmesh; use shadow_rules');
  return {
    rules: c.rules ? compileRbacRules(c.rules, `${path}.rules`) : undefined,
    shadow: c.shadowRules ? compileRbacRules(c.shadowRules, `${path}.shadow_rules`) : undefined,
  };
}
