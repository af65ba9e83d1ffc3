import type { ProxyIdentity } from '../../envoy/node-metadata.js';

/**
 * The sidecars that count as connected, for auto-registration. A proxy that disconnects stays
 * registered for `graceMs` (a reconnect within that time, e.g. after a control-plane blip or an
 * xDS stream reset, must not remove the workload's endpoints from every other proxy).
 *
 * No timers and no clock inside: callers pass `now` (ms) and run `sweep(now)` when
 * `nextDeadline()` is reached. Connections are counted per node id, since a proxy's new stream
 * can open before its old one is seen to close.
 */
export class AutoRegistry {
  readonly #entries = new Map<string, { identity: ProxyIdentity; streams: number; removeAt: number | undefined }>();

  constructor(readonly graceMs: number) {
    if (!(graceMs >= 0)) throw new RangeError(`graceMs must be >= 0, got ${graceMs}`);
  }

  /** A stream from `identity` opened. Cancels a pending removal; the newest identity wins. */
  connect(identity: ProxyIdentity): void {
    const e = this.#entries.get(identity.id);
    if (e) { e.identity = identity; e.streams++; e.removeAt = undefined; return; }
    this.#entries.set(identity.id, { identity, streams: 1, removeAt: undefined });
  }

  /** A stream of `id` closed at `now`; when it was the last, removal is due at now + grace. */
  disconnect(id: string, now: number): void {
    const e = this.#entries.get(id);
    if (!e || e.streams === 0) return;
    e.streams--;
    if (e.streams === 0) e.removeAt = now + this.graceMs;
  }

  /** Removes every proxy whose grace period ended at or before `now`; returns them. */
  sweep(now: number): ProxyIdentity[] {
    const removed: ProxyIdentity[] = [];
    for (const [id, e] of this.#entries) {
      if (e.removeAt !== undefined && e.removeAt <= now) { this.#entries.delete(id); removed.push(e.identity); }
    }
    return removed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The earliest pending removal time, for the caller's timer; undefined when none is pending. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const e of this.#entries.values()) if (e.removeAt !== undefined && (min === undefined || e.removeAt < min)) min = e.removeAt;
    return min;
  }

  /**
   * Proxies registered before a control-plane restart: each counts as disconnected, removed at
   * `removeAt` unless it reconnects first. Ids already known are left as they are.
   */
  restore(identities: readonly ProxyIdentity[], removeAt: number): void {
    for (const identity of identities) if (!this.#entries.has(identity.id)) this.#entries.set(identity.id, { identity, streams: 0, removeAt });
  }

  /** The identity registered under `id`, if any. */
  get(id: string): ProxyIdentity | undefined {
    return this.#entries.get(id)?.identity;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Registered proxies (connected or within their grace period), sorted by id. */
  list(): ProxyIdentity[] {
    return [...this.#entries.values()].map((e) => e.identity).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
