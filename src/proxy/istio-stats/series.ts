/**
 * Istio's standard metrics as series of the proxy's shared stats store, interned so that a
 * request costs a few map lookups on objects and numbers, never a label string built per
 * request: an Edge (one pair of workloads, one service, one principal) is found by object and
 * string keys that already exist, and its series per (protocol, code, grpc status, flags) by one
 * number. Series are registered in the shared store, so every worker thread counts into the same
 * ones and /stats/prometheus prints their sum.
 */
import type { Counter, Histogram } from '../stats-scope.js';
import type { StatDescriptor } from '../admin/stats.js';
import { edgeLabelPairs, requestLabelPairs, type EdgeLabels } from './labels.js';
import type { PeerNode } from './peer.js';

/** Registers stats by full descriptor (the store, as a thread sees it). */
export interface NamedStats {
  counter(d: StatDescriptor): Counter;
  histogram(d: StatDescriptor): Histogram;
}

/**
 * Stats whose tag-extracted name starts with this are printed by /stats/prometheus without
 * Envoy's `envoy_` prefix and without the namespace (Envoy's custom stat namespaces, which Istio
 * registers for "istio").
 */
export const ISTIO_NAMESPACE = 'istio.';

export const HTTP_METRICS = {
  requests: 'istio_requests_total',
  duration: 'istio_request_duration_milliseconds',
  requestBytes: 'istio_request_bytes',
  responseBytes: 'istio_response_bytes',
} as const;

export const TCP_METRICS = {
  sent: 'istio_tcp_sent_bytes_total',
  received: 'istio_tcp_received_bytes_total',
  opened: 'istio_tcp_connections_opened_total',
  closed: 'istio_tcp_connections_closed_total',
} as const;

export interface HttpSeries {
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly requestBytes: Histogram;
  readonly responseBytes: Histogram;
}

export interface TcpSeries {
  readonly sent: Counter;
  readonly received: Counter;
  readonly opened: Counter;
  readonly closed: Counter;
}

/** A descriptor in Istio's /stats naming (`reporter=.=destination;.;...;.;istio_requests_total`). */
export function istioStat(metric: string, labels: readonly (readonly [string, string])[]): StatDescriptor {
  let name = '';
  for (const [k, v] of labels) name += `${k}=.=${v};.;`;
  return { name: ISTIO_NAMESPACE + name + metric, tagExtractedName: ISTIO_NAMESPACE + metric, tags: Object.fromEntries(labels) };
}

const PROTOCOLS = ['http', 'grpc'] as const;

/** One pair of workloads for one service: its series, made on first use. */
export class Edge {
  readonly #stats: NamedStats;
  readonly #labels: [string, string][];
  readonly #http = new Map<number, HttpSeries>();
  #tcp: TcpSeries | undefined;

  constructor(stats: NamedStats, labels: EdgeLabels) {
    this.#stats = stats;
    this.#labels = edgeLabelPairs(labels);
  }

  /** The series for one request outcome. `grpcStatus` -1 is an invalid one (printed as -1). */
  http(protocol: 'http' | 'grpc', code: number, grpcStatus: number | undefined, flags: number, securityPolicy: string): HttpSeries {
    // status < 1000, grpc 0..18, protocol 0..1; flags (< 2^30) above: exact in a double.
    const g = grpcStatus === undefined ? 0 : grpcStatus < 0 ? 18 : Math.min(grpcStatus, 16) + 1;
    const key = (code % 1000) + 1000 * g + 19_000 * (protocol === 'grpc' ? 1 : 0) + 38_000 * flags;
    // Most requests of an edge end alike (200, no flags): the last series is tried first.
    if (key === this.#lastKey) return this.#lastSeries!;
    let s = this.#http.get(key);
    if (s) { this.#remember(key, s); return s; }
    const labels = [...this.#labels, ...requestLabelPairs(PROTOCOLS[protocol === 'grpc' ? 1 : 0], code, grpcStatus, flags), ['connection_security_policy', securityPolicy] as [string, string]];
    const st = this.#stats;
    s = {
      requests: st.counter(istioStat(HTTP_METRICS.requests, labels)),
      duration: st.histogram(istioStat(HTTP_METRICS.duration, labels)),
      requestBytes: st.histogram(istioStat(HTTP_METRICS.requestBytes, labels)),
      responseBytes: st.histogram(istioStat(HTTP_METRICS.responseBytes, labels)),
    };
    this.#http.set(key, s);
    this.#remember(key, s);
    return s;
  }

  #lastKey = -1;
  #lastSeries: HttpSeries | undefined;

  #remember(key: number, s: HttpSeries): void {
    this.#lastKey = key;
    this.#lastSeries = s;
  }

  /** The TCP series (Istio's TCP metrics have no per-request labels; flags are those at open). */
  tcp(securityPolicy: string): TcpSeries {
    if (this.#tcp) return this.#tcp;
    const labels: [string, string][] = [...this.#labels, ['request_protocol', 'tcp'], ['response_flags', '-'], ['connection_security_policy', securityPolicy]];
    const st = this.#stats;
    this.#tcp = {
      sent: st.counter(istioStat(TCP_METRICS.sent, labels)),
      received: st.counter(istioStat(TCP_METRICS.received, labels)),
      opened: st.counter(istioStat(TCP_METRICS.opened, labels)),
      closed: st.counter(istioStat(TCP_METRICS.closed, labels)),
    };
    return this.#tcp;
  }
}

/**
 * Edges of one reporter in one thread, by (peer object, service, TLS peer principal). Peers are
 * interned by PeerCache, so the first key is an object; the table keeps at most `max` edges.
 */
export class EdgeTable {
  readonly #byPeer = new Map<PeerNode, Map<string, Map<string, Edge>>>();
  #count = 0;

  constructor(readonly stats: NamedStats, readonly max = 4096) {}

  // The last edge found: a sidecar's requests mostly repeat one edge, which then costs three
  // comparisons instead of three map lookups.
  #lastPeer: PeerNode | undefined;
  #lastService = '';
  #lastPrincipal = '';
  #lastEdge: Edge | undefined;

  find(peer: PeerNode, service: string, principal: string): Edge | undefined {
    if (peer === this.#lastPeer && service === this.#lastService && principal === this.#lastPrincipal) return this.#lastEdge;
    const e = this.#byPeer.get(peer)?.get(service)?.get(principal);
    if (e !== undefined) {
      this.#lastPeer = peer;
      this.#lastService = service;
      this.#lastPrincipal = principal;
      this.#lastEdge = e;
    }
    return e;
  }

  /** The edge for these keys, made from `labels` (call after find() said there is none). */
  add(peer: PeerNode, service: string, principal: string, labels: EdgeLabels): Edge {
    const e = new Edge(this.stats, labels);
    // Full (hostile peers): still counted right, the series found again through the store by name.
    if (this.#count >= this.max) return e;
    let byService = this.#byPeer.get(peer);
    if (!byService) this.#byPeer.set(peer, (byService = new Map()));
    let byPrincipal = byService.get(service);
    if (!byPrincipal) byService.set(service, (byPrincipal = new Map()));
    byPrincipal.set(principal, e);
    this.#count++;
    return e;
  }
}
