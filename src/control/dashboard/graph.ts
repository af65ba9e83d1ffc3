import type { Sample } from './prom-text.js';
import { explainFlags, explainStatus } from './response-flags.js';

/** One proxy's metrics at one moment. */
export interface Scrape {
  readonly at: number;
  readonly samples: readonly Sample[];
}

/** What the graph is computed from: per proxy, its oldest scrape in the window and its newest. */
export interface TargetWindow {
  readonly first: Scrape;
  readonly last: Scrape;
  /**
   * The history is shorter than the window (the dashboard was just opened): failures are then
   * counted since the sidecar started, since nothing says which of them are recent.
   */
  readonly sinceStart?: boolean;
}

export interface GraphNode {
  /** `namespace/workload`, or the service's host for a destination without a sidecar. */
  readonly id: string;
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  /** 'unknown' is traffic from outside the mesh; 'service' a destination with no sidecar. */
  readonly kind: 'workload' | 'service' | 'unknown';
}

export interface GraphEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** destination_service: the host the caller asked for. */
  readonly service: string;
  readonly protocol: string;
  /** Requests (HTTP/gRPC) or connections (TCP) per second over the window. */
  readonly rate: number;
  /** Share of requests answered 5xx (or failing with a response flag) over the window (since the start with no rate yet), 0..1. */
  readonly errorRate: number;
  readonly p99Ms?: number;
  /** Bytes per second both ways (TCP). */
  readonly bytesPerS?: number;
  /** Every request seen so far (the counter's value, not the window's). */
  readonly total: number;
  readonly mtls: boolean;
  /** Which side's sidecar the numbers come from: the receiving side when it has one. */
  readonly reporter: 'destination' | 'source';
}

export interface Failure {
  readonly source: string;
  readonly target: string;
  readonly service: string;
  readonly code: string;
  readonly flags: string;
  /** Failures of this kind in the window. */
  readonly count: number;
  readonly explanation: string;
}

export interface MeshGraph {
  readonly windowS: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly failures: readonly Failure[];
}

const REQUESTS = 'istio_requests_total';
const DURATION_BUCKET = 'istio_request_duration_milliseconds_bucket';
const TCP_OPENED = 'istio_tcp_connections_opened_total';
const TCP_SENT = 'istio_tcp_sent_bytes_total';
const TCP_RECEIVED = 'istio_tcp_received_bytes_total';
export const GRAPH_METRICS: ReadonlySet<string> = new Set([REQUESTS, DURATION_BUCKET, TCP_OPENED, TCP_SENT, TCP_RECEIVED]);

interface EdgeAcc {
  source: GraphNode;
  target: GraphNode;
  service: string;
  protocol: string;
  requests: number;
  errors: number;
  total: number;
  totalErrors: number;
  bytes: number;
  mtls: boolean;
  buckets: Map<number, number>;
}

/**
 * The service graph of the last window, from each proxy's first and last scrape in it: counters
 * become rates by difference (a counter that went down restarted, so its new value is the
 * increase). Each edge is counted once: from the receiving sidecar when it reports the edge,
 * else from the caller's (a destination outside the mesh). Pure.
 */
export function buildGraph(windows: readonly TargetWindow[]): MeshGraph {
  const byReporter = { destination: new Map<string, EdgeAcc>(), source: new Map<string, EdgeAcc>() };
  const failures = new Map<string, FailureAcc>();
  let windowS = 0;
  for (const w of windows) {
    const dt = (w.last.at - w.first.at) / 1000;
    windowS = Math.max(windowS, dt);
    const before = indexSeries(w.first === w.last ? [] : w.first.samples);
    for (const s of w.last.samples) {
      const reporter = s.labels['reporter'] === 'source' ? 'source' : s.labels['reporter'] === 'destination' ? 'destination' : undefined;
      if (!reporter) continue;
      const prev = before.get(seriesKey(s));
      const increase = prev === undefined ? (w.first === w.last ? 0 : s.value) : s.value >= prev ? s.value - prev : s.value;
      const recent = w.sinceStart ? s.value : increase;
      const rate = dt > 0 ? increase / dt : 0;
      const acc = edgeFor(byReporter[reporter], s.labels, s.name === REQUESTS || s.name === DURATION_BUCKET ? protocolOf(s.labels) : 'tcp');
      switch (s.name) {
        case REQUESTS: {
          acc.requests += rate;
          acc.total += s.value;
          const failed = isFailure(s.labels);
          if (failed) { acc.errors += rate; acc.totalErrors += s.value; }
          if (s.labels['connection_security_policy'] === 'mutual_tls') acc.mtls = true;
          if (failed && recent > 0) addFailure(failures, acc, s.labels, recent, reporter === 'source' ? 'source' : '');
          break;
        }
        case DURATION_BUCKET: {
          const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
          if (!Number.isNaN(le)) acc.buckets.set(le, (acc.buckets.get(le) ?? 0) + increase);
          break;
        }
        case TCP_OPENED:
          acc.requests += rate;
          acc.total += s.value;
          if (s.labels['connection_security_policy'] === 'mutual_tls') acc.mtls = true;
          break;
        case TCP_SENT:
        case TCP_RECEIVED:
          acc.bytes += rate;
          break;
      }
    }
  }
  const edges: GraphEdge[] = [];
  const nodes = new Map<string, GraphNode>();
  const chosen = new Map(byReporter.destination);
  for (const [k, v] of byReporter.source) if (!chosen.has(k)) chosen.set(k, v);
  for (const [id, a] of chosen) {
    const reporter = byReporter.destination.has(id) ? 'destination' : 'source';
    nodes.set(a.source.id, a.source);
    nodes.set(a.target.id, a.target);
    const p99 = quantile(0.99, a.buckets);
    edges.push({
      id, source: a.source.id, target: a.target.id, service: a.service, protocol: a.protocol,
      rate: round(a.requests), errorRate: round(a.requests > 0 ? a.errors / a.requests : a.total > 0 ? a.totalErrors / a.total : 0, 4),
      ...(p99 !== undefined ? { p99Ms: round(p99) } : {}),
      ...(a.protocol === 'tcp' ? { bytesPerS: round(a.bytes) } : {}),
      total: a.total, mtls: a.mtls, reporter,
    });
  }
  // Failures seen by both sides would count twice: keep the receiving side's where it has one.
  const fails = [...failures.values()].filter((f) => !(f.key.endsWith('|source') && failures.has(f.key.slice(0, -'|source'.length))));
  return {
    windowS: round(windowS),
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: edges.sort((a, b) => a.id.localeCompare(b.id)),
    failures: fails.map(({ key: _k, ...f }) => f).sort((a, b) => b.count - a.count || a.service.localeCompare(b.service)),
  };
}

function edgeFor(map: Map<string, EdgeAcc>, l: Readonly<Record<string, string>>, protocol: string): EdgeAcc {
  const source = sourceNode(l);
  const target = destinationNode(l);
  const service = l['destination_service'] ?? l['destination_service_name'] ?? 'unknown';
  const id = `${source.id}->${target.id}|${service}|${protocol}`;
  let a = map.get(id);
  if (!a) map.set(id, (a = { source, target, service, protocol, requests: 0, errors: 0, total: 0, totalErrors: 0, bytes: 0, mtls: false, buckets: new Map() }));
  return a;
}

function known(v: string | undefined): string | undefined {
  return v === undefined || v === '' || v === 'unknown' ? undefined : v;
}

function sourceNode(l: Readonly<Record<string, string>>): GraphNode {
  const workload = known(l['source_workload']);
  const namespace = known(l['source_workload_namespace']) ?? '';
  if (!workload) return { id: 'unknown', workload: 'unknown', namespace: '', app: 'unknown', version: '', kind: 'unknown' };
  return { id: `${namespace}/${workload}`, workload, namespace, app: known(l['source_app']) ?? workload, version: known(l['source_version']) ?? '', kind: 'workload' };
}

function destinationNode(l: Readonly<Record<string, string>>): GraphNode {
  const workload = known(l['destination_workload']);
  const namespace = known(l['destination_workload_namespace']) ?? known(l['destination_service_namespace']) ?? '';
  if (!workload) {
    const host = known(l['destination_service']) ?? known(l['destination_service_name']) ?? 'unknown';
    return { id: host, workload: host, namespace, app: known(l['destination_service_name']) ?? host, version: '', kind: host === 'unknown' ? 'unknown' : 'service' };
  }
  return { id: `${namespace}/${workload}`, workload, namespace, app: known(l['destination_app']) ?? workload, version: known(l['destination_version']) ?? '', kind: 'workload' };
}

function protocolOf(l: Readonly<Record<string, string>>): string {
  return l['request_protocol'] === 'grpc' ? 'grpc' : 'http';
}

function isFailure(l: Readonly<Record<string, string>>): boolean {
  const code = Number(l['response_code']);
  return code >= 500 || code === 0 || (l['response_flags'] !== undefined && l['response_flags'] !== '-' && l['response_flags'] !== '');
}

type FailureAcc = { -readonly [K in keyof Failure]: Failure[K] } & { key: string };

function addFailure(map: Map<string, FailureAcc>, e: EdgeAcc, l: Readonly<Record<string, string>>, n: number, side = ''): void {
  const code = l['response_code'] ?? '';
  const flags = l['response_flags'] ?? '-';
  const key = `${e.source.id}->${e.target.id}|${e.service}|${code}|${flags}${side ? `|${side}` : ''}`;
  const f = map.get(key);
  if (f) { f.count += n; return; }
  const explanation = explainFlags(flags) ?? explainStatus(code) ?? `status ${code}`;
  map.set(key, { key, source: e.source.id, target: e.target.id, service: e.service, code, flags, count: n, explanation });
}

/** histogram_quantile over cumulative buckets, interpolating inside a bucket as Prometheus does. */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const les = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? (les.length > 0 ? buckets.get(les[les.length - 1]!)! : 0);
  if (!total || total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const count = buckets.get(le)!;
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

function indexSeries(samples: readonly Sample[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples) m.set(seriesKey(s), s.value);
  return m;
}

function seriesKey(s: Sample): string {
  return `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${s.labels[k]}`).join(',')}}`;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
