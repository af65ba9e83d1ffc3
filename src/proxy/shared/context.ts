import type { StatScopes } from '../stat-scopes.js';
import type { SharedSlots } from './slots.js';
import type { SecretStore } from '../tls/secret-store.js';

/**
 * What the threads of one proxy instance share besides stats: the slots that hold
 * instance-wide state, and which thread does the instance-wide work.
 */
export interface InstanceShared {
  readonly slots: SharedSlots;
  /**
   * This thread runs the tasks that must happen once per instance, not once per worker
   * (active health checks, outlier-detection sweeps). The main thread, always.
   */
  readonly supervisor: boolean;
  /**
   * The instance's shared stats, for what the supervisor counts on behalf of everyone
   * (health_check.*, outlier_detection.*). With workers, the supervisor's own scopes are
   * private so that its idle view of the clusters counts nothing twice.
   */
  readonly sharedScopes: StatScopes;
  /** The instance's secrets (ProxyInstance makes one when not given). */
  readonly secrets?: SecretStore;
}
