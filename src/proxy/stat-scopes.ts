import { StatsStore, type StatsShare } from './admin/stats.js';
export { scopesFor, type StatScopes } from './admin/scopes.js';
export type { StatsShare };

/** The proxy's one stats store, in shared memory so every worker thread counts into it. */
export function createStatsStore(): StatsStore {
  return StatsStore.create();
}

export function attachStatsStore(share: StatsShare): StatsStore {
  return StatsStore.attach(share);
}
