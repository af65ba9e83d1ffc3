import type { LbHost } from './lb/types.js';

/** One upstream endpoint of a cluster. Mutable counters are per worker; health is shared later. */
export class UpstreamHost implements LbHost {
  readonly key: string;
  activeRequests = 0;
  healthy = true;
  constructor(
    readonly address: string,
    readonly port: number,
    readonly weight: number,
    /** The name it was resolved from (STRICT_DNS / LOGICAL_DNS), for /clusters. */
    readonly hostname = '',
  ) {
    this.key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  }
}
