import { HANDLE_TAKEN, type MaybeTaken, type NetworkFilter } from '../listener/network-filters.js';
import { DRAIN_EVENT } from '../listener/drain.js';
import type { DownstreamTlsTerminator } from './downstream-tls.js';

/**
 * A filter chain with a TLS transport socket: the handshake runs first, then the chain's
 * filters get the decrypted socket and a ConnectionInfo carrying the peer (`info.tls`).
 * A plaintext chain never goes through this, so it pays nothing for TLS.
 */
export function tlsTerminating(tls: DownstreamTlsTerminator, inner: NetworkFilter): NetworkFilter {
  return {
    onConnection(raw, info, initial) {
      (raw as MaybeTaken)[HANDLE_TAKEN] = true;
      tls.accept(raw, initial, (s, peer) => {
        // The listener asks its raw sockets to drain; the connection manager listens on this one.
        raw.on(DRAIN_EVENT, () => s.emit(DRAIN_EVENT));
        inner.onConnection(s, { ...info, tls: peer }, undefined);
      });
    },
  };
}
