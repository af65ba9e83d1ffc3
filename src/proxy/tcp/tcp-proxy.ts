import net from 'node:net';
import type { TcpProxy } from '../../envoy/generated/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { durationMs } from '../../envoy/duration.js';
import { ConfigError } from '../../envoy/registry.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { ConnectionInfo } from '../http/conn-manager/connection-info.js';
import { statSet, type StatScope } from '../stats-scope.js';
import { compileAccessLogs, logTcpAccess, type AccessLogger } from '../access-log.js';
import { ResponseFlag } from '../admin/access-log/response-flags.js';
import { upstreamTlsPrincipals } from '../tls/upstream-transport.js';
import { UPSTREAM_PEER_EVENT, type PeerExchange, type PeerExchangeResult, type UpstreamPeerInfo } from './peer-exchange/exchange.js';

export interface TcpProxyConfig {
  readonly statPrefix: string;
  readonly clusters: readonly { name: string; weight: number }[];
  readonly totalWeight: number;
  readonly idleTimeoutMs: number;
  readonly accessLogs: readonly AccessLogger[];
}

export function compileTcpProxy(t: TcpProxy, path: string): TcpProxyConfig {
  if (!t.statPrefix) throw new ConfigError(`${path}.stat_prefix`, 'required');
  let clusters: { name: string; weight: number }[];
  const cs = t.clusterSpecifier;
  if (cs.case === 'cluster') {
    if (!cs.value) throw new ConfigError(`${path}.cluster`, 'empty cluster name');
    clusters = [{ name: cs.value, weight: 1 }];
  } else if (cs.case === 'weightedClusters') {
    clusters = cs.value.clusters.map((c, i) => {
      if (c.weight < 1) throw new ConfigError(`${path}.weighted_clusters.clusters[${i}].weight`, `expected >= 1, got ${c.weight}`);
      return { name: c.name, weight: c.weight };
    });
    if (clusters.length === 0) throw new ConfigError(`${path}.weighted_clusters.clusters`, 'at least one cluster is required');
  } else {
    throw new ConfigError(`${path}.cluster_specifier`, 'cluster or weighted_clusters is required');
  }
  return {
    statPrefix: t.statPrefix,
    clusters,
    totalWeight: clusters.reduce((a, c) => a + c.weight, 0),
    idleTimeoutMs: durationMs(t.idleTimeout) ?? 3600_000,
    accessLogs: compileAccessLogs(t.accessLog, `${path}.access_log`),
  };
}

/** Envoy's tcp proxy stats (`tcp.<stat_prefix>.*`). */
export const tcpProxyStats = (s: StatScope) => statSet(s, [
  'downstream_cx_total',
  'downstream_cx_rx_bytes_total',
  'downstream_cx_tx_bytes_total',
  'downstream_cx_no_route',
  'idle_timeout',
], [
  'upstream_flush_active',
]);
export type TcpProxyStats = ReturnType<typeof tcpProxyStats>;

/**
 * `envoy.filters.network.tcp_proxy`: relays bytes to a host of the chosen cluster. A cluster
 * with `istio.metadata_exchange` in its filters runs the client side of the exchange on the
 * upstream connection (`peerExchange` gives this thread's exchange state). Once the upstream is
 * ready it tells the downstream socket's listeners who is there (UPSTREAM_PEER_EVENT).
 */
export class TcpProxyFilter {
  constructor(readonly cfg: TcpProxyConfig, readonly clusters: ClusterManager, readonly stats: TcpProxyStats, readonly peerExchange?: () => PeerExchange) {}

  onConnection(down: net.Socket, info: ConnectionInfo, initial?: Buffer): void {
    const { cfg, stats } = this;
    stats.downstream_cx_total.inc();
    const log = new TcpSession(this, info);
    let pick = Math.random() * cfg.totalWeight;
    let name = cfg.clusters[cfg.clusters.length - 1]!.name;
    for (const c of cfg.clusters) { if ((pick -= c.weight) < 0) { name = c.name; break; } }
    const cluster = this.clusters.get(name);
    log.cluster = name;
    if (!cluster) { stats.downstream_cx_no_route.inc(); log.flags |= ResponseFlag.NC; down.destroy(); log.done(); return; }
    const host = cluster.chooseHost({ random: Math.random, originalDst: info.originalDst });
    if (!host) { log.flags |= ResponseFlag.UH; down.destroy(); log.done(); return; }
    log.host = host.key;
    down.pause();
    cluster.stats.upstream_cx_total.inc();
    cluster.stats.upstream_cx_active.inc();
    const transport = cluster.transportFor(host);
    const up = transport.connect(host.address, host.port);
    let connected = false, timedOut = false;
    const connectTimer = setTimeout(() => { timedOut = true; cluster.stats.upstream_cx_connect_timeout.inc(); up.destroy(new Error('connect timeout')); }, cluster.spec.limits.connectTimeoutMs);
    up.on(transport.readyEvent, () => {
      connected = true;
      clearTimeout(connectTimer);
      cluster.outlier?.onLocalOrigin(host, 'success_final');
      const principals = transport.tls ? upstreamTlsPrincipals(up) : undefined;
      // Upstream bytes go downstream only after the peer's exchange frame is taken off them.
      const relay = (x: PeerExchangeResult | undefined): void => {
        const told: UpstreamPeerInfo = { peer: x?.peer, principal: principals?.peer, localPrincipal: principals?.local };
        down.emit(UPSTREAM_PEER_EVENT, told);
        up.on('data', (d: Buffer) => { log.sent += d.length; stats.downstream_cx_tx_bytes_total.inc(d.length); });
        up.pipe(down);
      };
      const mxConfig = cluster.spec.peerExchange;
      const mx = mxConfig && this.peerExchange?.();
      if (mx && mx.negotiated(mxConfig, up)) mx.exchange(up, relay);
      else relay(undefined);
      if (initial && initial.length) up.write(initial);
      down.pipe(up);
      down.resume();
    });
    down.on('data', (d: Buffer) => { log.received += d.length; stats.downstream_cx_rx_bytes_total.inc(d.length); });
    if (cfg.idleTimeoutMs > 0) {
      down.setTimeout(cfg.idleTimeoutMs, () => { stats.idle_timeout.inc(); down.destroy(); up.destroy(); });
    }
    up.on('error', () => { /* close follows */ });
    down.on('error', () => { /* close follows */ });
    up.on('close', () => {
      clearTimeout(connectTimer);
      cluster.stats.upstream_cx_active.dec();
      // A connect abandoned because the downstream left is not the host's failure.
      if (!connected && !down.destroyed) cluster.outlier?.onLocalOrigin(host, timedOut ? 'timeout' : 'connect_failed');
      if (!connected) { cluster.stats.upstream_cx_connect_fail.inc(); log.flags |= ResponseFlag.UF; down.destroy(); }
      else if (!down.destroyed) down.end();
      log.done();
    });
    down.on('close', () => { up.destroy(); log.done(); });
    // Half-close travels through (pipe does end()), so a server-first or half-closing peer works.
  }
}

class TcpSession {
  flags = 0;
  received = 0;
  sent = 0;
  cluster = '';
  host = '';
  readonly startMs = Date.now();
  readonly #start = performance.now();
  #logged = false;
  constructor(readonly filter: TcpProxyFilter, readonly info: ConnectionInfo) {}
  done(): void {
    if (this.#logged) return;
    this.#logged = true;
    if (this.filter.cfg.accessLogs.length) logTcpAccess(this.filter.cfg.accessLogs, this, performance.now() - this.#start);
  }
}

export type { TcpSession };
