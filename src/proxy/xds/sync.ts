import type { ProxyInstance } from '../instance.js';
import { log } from '../log.js';
import { compileValidated, type CompiledOf, type XdsKind } from './resources.js';
import type { DynamicSnapshot, SnapshotEntry } from './snapshot.js';
import { sameBytes } from './state.js';

/**
 * How this thread's listeners take their sockets: bind themselves (one serving thread), bind
 * an SO_REUSEPORT socket each (workers; `bindReusePort` opens it), or none (the admin thread's
 * view while workers serve).
 */
export type ListenMode =
  | { readonly kind: 'self' }
  | { readonly kind: 'reuseport'; readonly bindReusePort: (address: string, port: number) => number }
  | { readonly kind: 'none' };

/**
 * Brings one ProxyInstance to a DynamicSnapshot, touching only what changed (by bytes). The
 * order keeps requests whole: endpoints and clusters first (so new routes find them), then
 * routes and listeners, and removals last.
 */
export class InstanceSync {
  readonly #applied = {
    listener: new Map<string, Uint8Array>(),
    cluster: new Map<string, Uint8Array>(),
    route: new Map<string, Uint8Array>(),
    endpoint: new Map<string, Uint8Array>(),
  };

  constructor(readonly instance: ProxyInstance, readonly mode: ListenMode) {}

  async apply(snap: DynamicSnapshot): Promise<void> {
    const inst = this.instance;
    const endpoints = this.#changes('endpoint', snap.endpoints);
    for (const e of endpoints.upserts) inst.clusters.setEndpoints(e.name, compiled('endpoint', e));
    const clusters = this.#changes('cluster', snap.clusters);
    for (const c of clusters.upserts) inst.clusters.upsert(compiled('cluster', c));
    const routes = this.#changes('route', snap.routes);
    for (const r of routes.upserts) inst.setRoutes(r.name, compiled('route', r));
    const listeners = this.#changes('listener', snap.listeners);
    const ports = new Map(snap.listeners.map((l) => [l.name, l.port]));
    for (const l of listeners.upserts) {
      const spec = compiled('listener', l);
      if (inst.listener(l.name)) { inst.updateListener(spec); continue; }
      const port = ports.get(l.name) ?? spec.port;
      const m = this.mode;
      try {
        const bound = m.kind === 'none' || !spec.bindToPort
          ? await inst.addListener(spec, false)
          : m.kind === 'reuseport'
            ? await inst.addListener(spec, true, m.bindReusePort(spec.address, port))
            : await inst.addListener(spec, true);
        if (m.kind !== 'none') log.info(spec.bindToPort ? `listener ${spec.name} on ${spec.address}:${bound}` : `listener ${spec.name} for hand-offs to ${spec.address}:${bound} (not bound)`);
      } catch (e) {
        // Cannot bind (port taken): the listener is left out; the next snapshot tries again.
        log.error(`xds: listener ${spec.name}: cannot listen on ${spec.address}:${port}: ${(e as Error).message}`);
        void inst.removeListener(spec.name);
        this.#applied.listener.delete(spec.name);
      }
    }
    // Removed listeners stop accepting now; their connections drain in the background.
    for (const name of listeners.removals) void inst.removeListener(name);
    for (const name of routes.removals) inst.setRoutes(name, undefined);
    for (const name of clusters.removals) inst.clusters.remove(name);
    for (const name of endpoints.removals) inst.clusters.setEndpoints(name, undefined);
  }

  #changes<K extends XdsKind>(kind: K, entries: readonly SnapshotEntry<K>[]): { upserts: SnapshotEntry<K>[]; removals: string[] } {
    const applied = this.#applied[kind];
    const upserts = entries.filter((e) => { const prev = applied.get(e.name); return !prev || !sameBytes(prev, e.bytes); });
    const names = new Set(entries.map((e) => e.name));
    const removals = [...applied.keys()].filter((n) => !names.has(n));
    for (const n of removals) applied.delete(n);
    for (const e of upserts) applied.set(e.name, e.bytes);
    return { upserts, removals };
  }
}

function compiled<K extends XdsKind>(kind: K, e: SnapshotEntry<K>): CompiledOf[K] {
  return e.compiled ?? compileValidated(kind, e.bytes);
}
