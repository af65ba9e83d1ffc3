import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { xdsTypeLabel } from './counters.js';
import type { XdsCounters } from './counters.js';
import { SERVED_TYPES, type ServedType, type Snapshot, type TypeResources, type VersionedResource } from './snapshot.js';
import type { Subscription } from './subscription.js';
import { TypeSync, type ProxyStatus, type TypeSyncStatus } from './sync-status.js';

let sharedNonce = 0;

/**
 * A nonce for a response whose bytes are shared by every stream that gets it (same shape, same
 * subscription, same push): the protocol needs nonces to be distinct within a stream, and each
 * shared response carries a process-wide fresh one, so the bytes can be encoded once.
 */
export function nextSharedNonce(): string {
  return (++sharedNonce).toString(36);
}

/**
 * Most shared responses a type's resources keep (per distinct subscription or change): bounds
 * the memory when proxies of one shape subscribe differently; past it, responses are encoded
 * per stream and not kept.
 */
export const MAX_SHARED_RESPONSES = 64;

/** What a stream needs from the server. */
export interface StreamContext {
  readonly counters: XdsCounters;
  now(): Date;
  onNack(stream: AdsStream, typeUrl: string, message: string): void;
  onAck(stream: AdsStream, typeUrl: string, version: string): void;
}

/** Per type on a stream: the subscription, the nonce/version bookkeeping, what was last sent. */
export interface TypeState {
  readonly sub: Subscription;
  readonly sync: TypeSync;
  /** The type's resources the last response (or skip) was computed from. */
  target: TypeResources | undefined;
}

/** The part SotW and Delta streams share: identity, snapshot, per-type state, status. */
export abstract class AdsStream {
  abstract readonly kind: 'sotw' | 'delta';
  identity: ProxyIdentity | undefined;
  id = '';
  readonly connectedAt: Date;
  lastPushAt: Date | undefined;
  protected snapshot: Snapshot | undefined;
  protected readonly types = new Map<ServedType, TypeState>();

  constructor(protected readonly ctx: StreamContext) {
    this.connectedAt = ctx.now();
  }

  /** Sets the snapshot before the first request is handled (no response). */
  attach(snapshot: Snapshot): void {
    this.snapshot = snapshot;
  }

  /** A new snapshot from a push: sends what changed, CDS → EDS → LDS → RDS. Returns whether it sent anything. */
  update(snapshot: Snapshot): boolean {
    this.snapshot = snapshot;
    let sent = false;
    for (const type of SERVED_TYPES) {
      const st = this.types.get(type);
      if (st && this.push(type, st, false)) {
        sent = true;
        const byType = this.ctx.counters.pushesByType;
        const label = xdsTypeLabel(type);
        byType[label] = (byType[label] ?? 0) + 1;
      }
    }
    if (sent) this.lastPushAt = this.ctx.now();
    return sent;
  }

  /** Whether the proxy has ACKed the last response of every type it subscribed to. */
  allAcked(): boolean {
    for (const st of this.types.values()) if (st.sync.status().state !== 'SYNCED') return false;
    return true;
  }

  status(): ProxyStatus {
    const types: Record<string, TypeSyncStatus> = {};
    for (const [type, st] of this.types) types[type] = st.sync.status();
    return {
      id: this.id, identity: this.identity!, stream: this.kind, connectedAt: this.connectedAt,
      ...(this.lastPushAt ? { lastPushAt: this.lastPushAt } : {}), types,
    };
  }

  /** The resources of `type` the proxy has been sent (and not told to remove). */
  abstract sentResources(type: ServedType): VersionedResource[];

  /** Names as the current snapshot spells them (one shared string per resource; see Intern). */
  protected internOf(type: ServedType): (name: string) => string {
    const resources = this.resourcesOf(type);
    return (n) => resources.get(n)?.name ?? n;
  }

  protected resourcesOf(type: ServedType): TypeResources {
    return this.snapshot?.types.get(type) ?? new Map();
  }

  /** Sends `type` if the proxy's view of it changed (or always when `force`). Returns whether it sent. */
  protected abstract push(type: ServedType, st: TypeState, force: boolean): boolean;
}
