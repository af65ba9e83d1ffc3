import type net from 'node:net';
import type { ConnectionInfo } from '../http/conn-manager/connection-info.js';
import type { StatScopes } from '../stat-scopes.js';
import type { TrafficDirectionName } from '../http/filters/types.js';
import { reporterFor, type StatsPluginConfig } from '../istio-stats/plugin-config.js';
import { serviceOfCluster, type Reporter } from '../istio-stats/labels.js';
import { namespaceOfPrincipal, UNKNOWN, UNKNOWN_PEER, type PeerNode } from '../istio-stats/peer.js';
import { EdgeTable, type TcpSeries } from '../istio-stats/series.js';
import type { LocalNode } from '../istio-stats/local-node.js';

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
 * tcp_reporting_duration and at close, as Istio's does. TCP has no header to carry the
 * metadata exchange, so the peer is what TLS says: on the server side the client's SPIFFE
 * principal (and the namespace in it) when the connection is mTLS, else unknown; on the client
 * side the destination service comes from the cluster name, the workload stays unknown.
 */
export class IstioTcpStatsFilter {
  readonly #reporter: Reporter;
  readonly #edges: EdgeTable;
  readonly #peers = new Map<string, PeerNode>();
  readonly #service: string;

  constructor(readonly cfg: StatsPluginConfig, readonly ctx: IstioTcpStatsContext) {
    this.#reporter = reporterFor(cfg.reporter, ctx.direction);
    this.#edges = new EdgeTable(ctx.scopes.named);
    this.#service = (ctx.cluster && serviceOfCluster(ctx.cluster)) ?? UNKNOWN;
  }

  onNewConnection(socket: net.Socket, info: ConnectionInfo): boolean {
    const series = this.#series(info);
    series.opened.inc();
    let rx = 0;
    let tx = 0;
    const report = (): void => {
      const r = socket.bytesRead;
      const w = socket.bytesWritten;
      if (r > rx) { series.received.inc(r - rx); rx = r; }
      if (w > tx) { series.sent.inc(w - tx); tx = w; }
    };
    const timer = setInterval(report, this.cfg.tcpReportingDurationMs);
    timer.unref();
    socket.once('close', () => {
      clearInterval(timer);
      report();
      series.closed.inc();
    });
    return true;
  }

  #series(info: ConnectionInfo): TcpSeries {
    const local = this.ctx.node;
    const service = this.#service;
    if (this.#reporter === 'source') {
      const e = this.#edges.find(UNKNOWN_PEER, service, UNKNOWN) ?? this.#edges.add(UNKNOWN_PEER, service, UNKNOWN, {
        reporter: 'source', source: local.peer, destination: UNKNOWN_PEER, sourcePrincipal: UNKNOWN, destinationPrincipal: UNKNOWN, destinationService: service, securityPolicy: 'unknown',
      });
      return e.tcp('unknown');
    }
    const principal = info.tls?.peerUriSans[0];
    const peer = principal === undefined ? UNKNOWN_PEER : this.#peerOf(principal);
    const key = principal ?? UNKNOWN;
    const policy = principal === undefined ? 'none' : 'mutual_tls';
    const e = this.#edges.find(peer, service, key) ?? this.#edges.add(peer, service, key, {
      reporter: 'destination', source: peer, destination: local.peer, sourcePrincipal: key,
      destinationPrincipal: principal === undefined ? UNKNOWN : local.peer.principal, destinationService: service, securityPolicy: policy,
    });
    return e.tcp(policy);
  }

  #peerOf(principal: string): PeerNode {
    let p = this.#peers.get(principal);
    if (!p) {
      p = { ...UNKNOWN_PEER, namespace: namespaceOfPrincipal(principal) ?? UNKNOWN, principal };
      if (this.#peers.size < 1024) this.#peers.set(principal, p);
    }
    return p;
  }
}
