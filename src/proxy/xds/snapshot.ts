import type { ActiveSet } from './state.js';
import type { CompiledOf, XdsKind } from './resources.js';

/** One serving resource as a worker receives it: name and bytes (compiled on arrival), or already compiled (same thread). */
export interface SnapshotEntry<K extends XdsKind> {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly compiled?: CompiledOf[K];
}

/**
 * Everything dynamic that serves, as one message: what the main thread sends every worker after
 * an accepted update. A worker reconciles its instance with it (sync.ts), so a lost or
 * reordered intermediate state cannot leave workers apart.
 */
export interface DynamicSnapshot {
  readonly listeners: readonly (SnapshotEntry<'listener'> & { readonly port: number })[];
  readonly clusters: readonly SnapshotEntry<'cluster'>[];
  readonly routes: readonly SnapshotEntry<'route'>[];
  readonly endpoints: readonly SnapshotEntry<'endpoint'>[];
}

/**
 * The snapshot of `active`. `ports` gives each listener's port when it was fixed by the main
 * thread (port 0 made real, SO_REUSEPORT). `withCompiled` keeps the compiled form (same
 * thread); without it the snapshot is structured-clonable.
 */
export function snapshotOf(active: ActiveSet, ports: ReadonlyMap<string, number>, withCompiled: boolean): DynamicSnapshot {
  const entry = <K extends XdsKind>(r: { name: string; bytes: Uint8Array; compiled: CompiledOf[K] }): SnapshotEntry<K> =>
    withCompiled ? { name: r.name, bytes: r.bytes, compiled: r.compiled } : { name: r.name, bytes: r.bytes };
  return {
    listeners: [...active.listeners.values()].map((l) => ({ ...entry<'listener'>(l), port: ports.get(l.name) ?? l.compiled.port })),
    clusters: [...active.clusters.values()].map((c) => entry<'cluster'>(c)),
    routes: [...active.routes.values()].map((r) => entry<'route'>(r)),
    endpoints: [...active.endpoints.values()].map((e) => entry<'endpoint'>(e)),
  };
}
