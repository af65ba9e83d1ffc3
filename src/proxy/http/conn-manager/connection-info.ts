/** What a stream knows of the connection it arrived on. */
export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** SNI of a TLS connection, when there is one. */
  readonly serverName?: string;
}

let nextId = 0;
export function nextConnectionId(): number {
  return ++nextId;
}
