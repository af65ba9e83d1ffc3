/**
 * Istio's TCP metadata exchange at run time, both sides. It runs only on a connection whose TLS
 * handshake negotiated the configured ALPN (`istio-peer-exchange`); any other connection is
 * passed on untouched. Each side writes its own frame first, then reads the peer's frame off
 * the stream before the application's bytes flow:
 * - server side (`istio.metadata_exchange` on an inbound filter chain): the rest of the chain
 *   (RBAC, stats, tcp_proxy) starts once the client's frame is read, with the client in
 *   `ConnectionInfo.peerExchange`;
 * - client side (`istio.metadata_exchange` in a cluster's `filters`, applied by tcp_proxy): the
 *   server's frame is read off the upstream socket before its bytes go downstream.
 * What does not parse is passed on as Istio does (a stream without the magic, a payload that
 * is no Any) or closed (an oversize frame); see stream.ts.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { NetworkFilter } from '../../listener/network-filters.js';
import type { LocalNode } from '../../istio-stats/local-node.js';
import { statSet, type StatScope } from '../../stats-scope.js';
import { encodeExchangeFrame, ExchangedPeerCache, type ExchangedPeer } from './frame.js';
import { readExchangeFrame, type ExchangeOutcome } from './stream.js';
import type { MetadataExchangeConfig } from './config.js';

/** Istio's metadata exchange stats (`metadata_exchange.*`). */
export const metadataExchangeStats = (s: StatScope) => statSet(s, [
  'alpn_protocol_found',
  'alpn_protocol_not_found',
  'initial_header_not_found',
  'header_not_found',
  'metadata_added',
]);
export type MetadataExchangeStats = ReturnType<typeof metadataExchangeStats>;

/** What one proxy thread shares between its exchanges: its own frame, decoded peers, stats. */
export class PeerExchange {
  readonly frame: Buffer;
  readonly #peers = new ExchangedPeerCache();

  constructor(readonly local: LocalNode, readonly stats: MetadataExchangeStats) {
    this.frame = encodeExchangeFrame(local.exchanged, local.id);
  }

  /** Whether `socket` negotiated `cfg.protocol` (counted as Istio counts it). */
  negotiated(cfg: MetadataExchangeConfig, socket: net.Socket): boolean {
    const alpn = (socket as Partial<tls.TLSSocket>).alpnProtocol;
    const yes = alpn === cfg.protocol;
    (yes ? this.stats.alpn_protocol_found : this.stats.alpn_protocol_not_found).inc();
    return yes;
  }

  /** Writes this node's frame, then reads the peer's; `done` runs with the stream positioned after it. */
  exchange(socket: net.Socket, done: (result: PeerExchangeResult) => void): void {
    socket.write(this.frame);
    this.stats.metadata_added.inc();
    readExchangeFrame(socket, this.#peers.decode, (o: ExchangeOutcome) => {
      if (o.kind === 'absent') this.stats.initial_header_not_found.inc();
      else if (!o.peer) this.stats.header_not_found.inc();
      done(o.kind === 'frame' ? { peer: o.peer, readBytes: o.bytes, writtenBytes: this.frame.length } : { peer: undefined, readBytes: 0, writtenBytes: this.frame.length });
    });
  }
}

/**
 * The server side: a filter chain whose `inner` filters run once the client's frame has been
 * read (or at once, when the connection did not negotiate the exchange).
 */
export function peerExchanging(cfg: MetadataExchangeConfig, mx: PeerExchange, inner: NetworkFilter): NetworkFilter {
  return {
    onConnection(socket, info, initial) {
      if (!mx.negotiated(cfg, socket)) { inner.onConnection(socket, info, initial); return; }
      // A TLS chain hands over a fresh decrypted socket, so there are no initial bytes here.
      if (initial?.length) socket.unshift(initial);
      mx.exchange(socket, (peerExchange) => inner.onConnection(socket, { ...info, peerExchange }, undefined));
    },
  };
}

/**
 * What the exchange on a connection gave: the peer (undefined when it did not take part), and
 * the bytes of both frames, which are not the application's (Istio's byte metrics leave them out).
 */
export interface PeerExchangeResult {
  readonly peer: ExchangedPeer | undefined;
  readonly readBytes: number;
  readonly writtenBytes: number;
}

/** Emitted on the downstream socket by tcp_proxy once its upstream is ready: who is there. */
export const UPSTREAM_PEER_EVENT = 'tsmesh.upstreamPeer';

/** What the client side learns about the upstream (UPSTREAM_PEER_EVENT's argument). */
export interface UpstreamPeerInfo {
  /** The peer's exchanged metadata, when the exchange ran. */
  readonly peer: ExchangedPeer | undefined;
  /** The first URI SAN of the upstream's certificate (its SPIFFE ID) on an mTLS connection. */
  readonly principal: string | undefined;
  /** The first URI SAN of the certificate this proxy presented to it (mTLS). */
  readonly localPrincipal: string | undefined;
}
