import type net from 'node:net';
import type { ConnectionInfo } from '../http/conn-manager/connection-info.js';
import type { StatScopes } from '../stat-scopes.js';
import type { TrafficDirectionName } from '../http/filters/types.js';
import { reporterFor, type StatsPluginConfig } from '../istio-stats/plugin-config.js';
import { serviceOfCluster, type Reporter } from '../istio-stats/labels.js';
import { namespaceOfPrincipal, peerFromMetadata, UNKNOWN, UNKNOWN_PEER, type PeerNode } from '../istio-stats/peer.js';
import { EdgeTable, type TcpSeries } from '../istio-stats/series.js';
import type { LocalNode } from '../istio-stats/local-node.js';
import { UPSTREAM_PEER_EVENT, type UpstreamPeerInfo } from './peer-exchange/exchange.js';
import type { ExchangedPeer } from './peer-exchange/frame.js';

/** What the TCP variant needs besides its config, bound per chain and thread. */
export interface IstioTcpStatsContext {
  readonly scopes: StatScopes;
  readonly node: LocalNode;
  readonly direction: TrafficDirectionName;
  /** The chain's tcp_proxy cluster (the first, for weighted ones): the destination service's source. */
  readonly cluster: string | undefined;
}

/**
 * `istio.stats` as a network filter: Istio's TCP metrics (connections opened and closed, bytes
 * received from and sent to the downstream) per edge. Open connections report their bytes every
 * tcp_reporting_duration and at close, as Istio's does. The peer is what Istio's TCP metadata
 * exchange (istio.metadata_exchange, on mTLS connections that negotiated `istio-peer-exchange`)
 * told, and its principal what TLS verified:
 * - server side: the client from `ConnectionInfo.peer` (the exchange runs before this filter),
 *   its principal the client certificate's SPIFFE ID;
 * - client side: the server as tcp_proxy learns it once the upstream is ready (the exchange on
 *   the upstream connection, and the upstream certificate's SPIFFE ID as destination_principal);
 *   the connection is counted as opened then (or at close, if no upstream was ever ready).
 * Without the exchange the peer's workload labels are unknown, as in Istio.
 */
export class IstioTcpStatsFilter {
  readonly #reporter: Reporter;
  readonly #edges: EdgeTable;
  /** Peers by principal when only TLS told who they are (bounded: peers are outside input). */
  readonly #byPrincipal = new Map<string, PeerNode>();
  /** Peers by exchanged node (those objects are interned by the exchange's cache). */
  readonly #byExchange = new WeakMap<ExchangedPeer, PeerNode>();
  readonly #service: string;

  constructor(readonly cfg: StatsPluginConfig, readonly ctx: IstioTcpStatsContext) {
    this.#reporter = reporterFor(cfg.reporter, ctx.direction);
    this.#edges = new EdgeTable(ctx.scopes.named);
    this.#service = (ctx.cluster && serviceOfCluster(ctx.cluster)) ?? UNKNOWN;
  }

  onNewConnection(socket: net.Socket, info: ConnectionInfo): boolean {
    // Without tcp_proxy after it nobody will say who the upstream is: count it at once.
    if (this.#reporter === 'source' && this.ctx.cluster === undefined) {
      this.#count(socket, this.#sourceSeries({ peer: undefined, principal: undefined, localPrincipal: undefined }), 0, 0);
      return true;
    }
    if (this.#reporter === 'destination') {
      const x = info.peerExchange;
      this.#count(socket, this.#destinationSeries(info), x?.readBytes ?? 0, x?.writtenBytes ?? 0);
      return true;
    }
    let counted = false;
    const onUpstream = (up: UpstreamPeerInfo): void => {
      socket.removeListener('close', onCloseFirst);
      counted = true;
      this.#count(socket, this.#sourceSeries(up), 0, 0);
    };
    // No upstream was ever ready (no host, connect failure): still one connection, to unknown.
    const onCloseFirst = (): void => {
      socket.removeListener(UPSTREAM_PEER_EVENT, onUpstream);
      if (counted) return;
      const s = this.#sourceSeries({ peer: undefined, principal: undefined, localPrincipal: undefined });
      s.opened.inc();
      this.#report(socket, s, 0, 0);
      s.closed.inc();
    };
    socket.once(UPSTREAM_PEER_EVENT, onUpstream);
    socket.once('close', onCloseFirst);
    return true;
  }

  /**
   * Counts the connection as opened now, its bytes every reporting interval and at close; the
   * first `rx` / `tx` bytes (the exchange's frames) are not the application's.
   */
  #count(socket: net.Socket, series: TcpSeries, rx: number, tx: number): void {
    series.opened.inc();
    const report = (): void => { [rx, tx] = this.#report(socket, series, rx, tx); };
    const timer = setInterval(report, this.cfg.tcpReportingDurationMs);
    timer.unref();
    socket.once('close', () => {
      clearInterval(timer);
      report();
      series.closed.inc();
    });
  }

  #report(socket: net.Socket, series: TcpSeries, rx: number, tx: number): [number, number] {
    const r = socket.bytesRead;
    const w = socket.bytesWritten;
    if (r > rx) { series.received.inc(r - rx); rx = r; }
    if (w > tx) { series.sent.inc(w - tx); tx = w; }
    return [rx, tx];
  }

  /**
   * Client side: the principals are the URI SANs of the upstream TLS connection's certificates
   * (Istio's upstream uri_san_peer_certificate / uri_san_local_certificate); Istio's source
   * reporter leaves connection_security_policy unknown.
   */
  #sourceSeries(up: UpstreamPeerInfo): TcpSeries {
    const local = this.ctx.node;
    const service = this.#service;
    const principal = up.principal ?? UNKNOWN;
    const localPrincipal = up.localPrincipal ?? UNKNOWN;
    const key = localPrincipal === UNKNOWN ? principal : `${principal} ${localPrincipal}`;
    const peer = up.peer ? this.#peerOfExchange(up.peer) : UNKNOWN_PEER;
    const e = this.#edges.find(peer, service, key) ?? this.#edges.add(peer, service, key, {
      reporter: 'source', source: local.peer, destination: peer, sourcePrincipal: localPrincipal, destinationPrincipal: principal, destinationService: service, securityPolicy: 'unknown',
    });
    return e.tcp('unknown');
  }

  #destinationSeries(info: ConnectionInfo): TcpSeries {
    const local = this.ctx.node;
    const service = this.#service;
    const principal = info.tls?.peerUriSans[0];
    const exchanged = info.peerExchange?.peer;
    const peer = exchanged ? this.#peerOfExchange(exchanged) : principal === undefined ? UNKNOWN_PEER : this.#peerOfPrincipal(principal);
    const key = principal ?? UNKNOWN;
    const policy = principal === undefined ? 'none' : 'mutual_tls';
    const e = this.#edges.find(peer, service, key) ?? this.#edges.add(peer, service, key, {
      reporter: 'destination', source: peer, destination: local.peer, sourcePrincipal: key,
      destinationPrincipal: principal === undefined ? UNKNOWN : local.peer.principal, destinationService: service, securityPolicy: policy,
    });
    return e.tcp(policy);
  }

  #peerOfExchange(x: ExchangedPeer): PeerNode {
    let p = this.#byExchange.get(x);
    if (!p) this.#byExchange.set(x, (p = peerFromMetadata(x.metadata)));
    return p;
  }

  #peerOfPrincipal(principal: string): PeerNode {
    let p = this.#byPrincipal.get(principal);
    if (!p) {
      p = { ...UNKNOWN_PEER, namespace: namespaceOfPrincipal(principal) ?? UNKNOWN, principal };
      if (this.#byPrincipal.size < 1024) this.#byPrincipal.set(principal, p);
    }
    return p;
  }
}
