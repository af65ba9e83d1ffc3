import type { ProxyIdentity } from '../../envoy/node-metadata.js';

/**
 * Per type: NOT_SENT (nothing sent yet), STALE (sent, not yet answered), SYNCED (the last sent
 * version was ACKed), NACK (the last sent version was rejected; the proxy keeps its previous one).
 */
export type SyncState = 'SYNCED' | 'STALE' | 'NACK' | 'NOT_SENT';

export interface NackRecord {
  readonly message: string;
  readonly at: Date;
}

export interface TypeSyncStatus {
  readonly state: SyncState;
  readonly sentVersion?: string;
  readonly ackedVersion?: string;
  /** The most recent rejection; kept after later versions are ACKed, for the operator. */
  readonly lastNack?: NackRecord;
}

export interface ProxyStatus {
  /** The connection's id: the node id, with `#n` appended while an older stream of it is open. */
  readonly id: string;
  readonly identity: ProxyIdentity;
  readonly stream: 'sotw' | 'delta';
  readonly connectedAt: Date;
  readonly lastPushAt?: Date;
  /** By type URL, for the types the proxy subscribed to. */
  readonly types: Readonly<Record<string, TypeSyncStatus>>;
}

export type Answer = 'ack' | 'nack' | 'stale';

/** The version/nonce bookkeeping of one type on one stream. */
export class TypeSync {
  nonce = '';
  #sentVersion: string | undefined;
  #ackedVersion: string | undefined;
  #state: SyncState = 'NOT_SENT';
  #lastNack: NackRecord | undefined;

  sent(version: string, nonce: string): void {
    this.#sentVersion = version;
    this.nonce = nonce;
    this.#state = 'STALE';
  }

  get sentVersion(): string | undefined { return this.#sentVersion; }
  get ackedVersion(): string | undefined { return this.#ackedVersion; }

  /**
   * Classifies a request's `response_nonce`: a nonce other than the latest one sent is stale
   * (the client has not seen the newest response yet) and says nothing about the current version.
   */
  answer(responseNonce: string, errorMessage: string | undefined, now: Date): Answer {
    if (responseNonce === '' || responseNonce !== this.nonce) return 'stale';
    if (errorMessage !== undefined) {
      this.#state = 'NACK';
      this.#lastNack = { message: errorMessage, at: now };
      return 'nack';
    }
    this.#state = 'SYNCED';
    this.#ackedVersion = this.#sentVersion;
    return 'ack';
  }

  status(): TypeSyncStatus {
    return {
      state: this.#state,
      ...(this.#sentVersion !== undefined ? { sentVersion: this.#sentVersion } : {}),
      ...(this.#ackedVersion !== undefined ? { ackedVersion: this.#ackedVersion } : {}),
      ...(this.#lastNack ? { lastNack: this.#lastNack } : {}),
    };
  }
}
