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
   * The TLS session of a downstream connection the proxy terminated (absent for plaintext). The
   * peer's principal is its first URI SAN (`spiffe://td/ns/NS/sa/SA`); empty lists and subject
   * when the client sent no certificate.
   */
  readonly tls?: {
    readonly peerUriSans: readonly string[];
    readonly peerDnsSans: readonly string[];
    readonly peerSubject: string;
    readonly peerCertificateDer?: Uint8Array;
    readonly alpn?: string;
    readonly version: string;
  };
}

let nextId = 0;
export function nextConnectionId(): number {
  return ++nextId;
}
