import type { TlsConnectionInfo } from '../../tls/downstream-tls.js';
import type { PeerExchangeResult } from '../../tcp/peer-exchange/exchange.js';

/** What a stream knows of the connection it arrived on. */
export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /**
   * Where the client sent the connection when that is not this socket's own address (traffic
   * capture redirected it): what an ORIGINAL_DST cluster connects to. Never set for a connection
   * made to the proxy itself, so a passthrough cannot loop back into the proxy.
   */
  readonly originalDst?: { readonly address: string; readonly port: number };
  /** SNI of a TLS connection, when there is one. */
  readonly serverName?: string;
  /**
   * Set on a connection whose filter chain terminated TLS: the verified peer (its principal is
   * the first URI SAN, `spiffe://td/ns/NS/sa/SA`), ALPN and protocol version.
   */
  readonly tls?: TlsConnectionInfo;
  /** Istio's TCP metadata exchange on this connection (istio.metadata_exchange): the downstream peer's node. */
  readonly peerExchange?: PeerExchangeResult;
}

let nextId = 0;
export function nextConnectionId(): number {
  return ++nextId;
}
