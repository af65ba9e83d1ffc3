/**
 * Tracing for one connection manager in one thread: at the request head it decides sampling,
 * opens the span (server span on an ingress connection manager, client span on an egress one,
 * plus an upstream client span with spawn_upstream_span) and writes the context the next hop
 * sees; when the stream finishes it tags the span as Envoy does and hands it to the exporter.
 */
import type { RequestHeaders } from '../http/stream.js';
import type { HeaderMap } from '../http/headers.js';
import { responseFlagsToString } from '../admin/access-log/response-flags.js';
import { extractContext, injectB3, injectW3c } from './propagation.js';
import { decideReason, isSampled, scanTraceHeaders, TraceHeader } from './sampling.js';
import { newSpanId, newTraceparent } from './ids.js';
import type { TracingConfig } from './config.js';
import type { SpanSink } from './span.js';

/** Istio's and Envoy's per-proxy span tags, from the bootstrap's node. */
export interface NodeTags {
  readonly nodeId: string;
  readonly zone: string;
  /** istio.canonical_service, istio.canonical_revision, istio.namespace, istio.mesh_id when known. */
  readonly istio: readonly (readonly [string, string])[];
}

/** A span opened at the request head. */
export interface ActiveSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string | undefined;
  readonly sampled: boolean;
  readonly shared: boolean;
  /** spawn_upstream_span: the client span (child of this one) the upstream request carries. */
  readonly upstreamSpanId: string | undefined;
}

/** What the tracer reads of a finished stream (HttpStream implements it). */
export interface TracedStream {
  readonly req: RequestHeaders;
  /** Milliseconds since the stream started (monotonic). */
  elapsedMs(): number;
  readonly status: number;
  readonly flags: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly upstreamCluster: { readonly name: string } | undefined;
  readonly upstreamHost: { readonly address: string; readonly port: number } | undefined;
  readonly downstreamAddress: { readonly address: string; readonly port: number };
  readonly conn: { readonly localAddress: string; readonly localPort: number };
}

export class Tracer {
  constructor(readonly config: TracingConfig, readonly sink: SpanSink, readonly node: NodeTags) {}

  /**
   * Runs after the connection manager's own header edits (x-request-id exists). Records the
   * decision on x-request-id and writes the context for the next hop in the provider's format
   * (OpenTelemetry: traceparent; Zipkin: x-b3-*). Returns the span
   * to finish, or undefined when it is not sampled (nothing will be reported: most requests).
   */
  start(req: RequestHeaders): ActiveSpan | undefined {
    const h = req.headers;
    const cfg = this.config;
    const seen = scanTraceHeaders(h);
    // The random draw only matters to a client-forced trace (x-client-trace-id): most requests skip it.
    const reason = decideReason(h, cfg, (seen & TraceHeader.ClientTraceId) !== 0 ? Math.random() : 0, seen);
    const zipkin = cfg.provider.kind === 'zipkin' ? cfg.provider : undefined;
    const parent = (seen & TraceHeader.Context) !== 0 ? extractContext(h, zipkin ? 'b3' : 'w3c') : undefined;
    const sampled = isSampled(reason, parent?.sampled);
    // Zipkin's shared span context: the server side of a hop reports under its caller's span id.
    const shared = zipkin !== undefined && zipkin.sharedSpanContext && cfg.operation === 'ingress' && parent !== undefined;
    const upstreamSpanId = cfg.spawnUpstreamSpan ? newSpanId() : undefined;
    if (parent === undefined) {
      // A new trace (most requests at the edge of a mesh): the header is made first and the ids
      // are slices of it.
      const traceparent = newTraceparent(zipkin !== undefined && !zipkin.traceId128, sampled);
      // The caller sent no valid context; an invalid traceparent or a stray tracestate is replaced.
      const callerW3c = (seen & (TraceHeader.Context | TraceHeader.TraceState)) !== 0;
      // The common case: OpenTelemetry, not sampled: the header is all there is to it.
      if (!zipkin && !sampled && upstreamSpanId === undefined) { injectW3c(h, '', '', false, undefined, traceparent, callerW3c); return undefined; }
      const traceId = traceparent.slice(3, 35);
      const spanId = traceparent.slice(36, 52);
      if (zipkin) injectB3(h, traceId, upstreamSpanId ?? spanId, upstreamSpanId ? spanId : undefined, sampled, h.has('b3'));
      else if (upstreamSpanId === undefined) injectW3c(h, traceId, spanId, sampled, undefined, traceparent, callerW3c);
      else injectW3c(h, traceId, upstreamSpanId, sampled, undefined, undefined, callerW3c);
      return sampled ? { traceId, spanId, parentSpanId: undefined, traceState: undefined, sampled, shared: false, upstreamSpanId } : undefined;
    }
    const traceId = parent.traceId;
    const spanId = shared ? parent.spanId : newSpanId();
    const parentSpanId = shared ? parent.parentSpanId : parent.spanId;
    if (zipkin) injectB3(h, traceId, upstreamSpanId ?? spanId, upstreamSpanId ? spanId : parentSpanId, sampled, parent.format === 'b3-single' || h.has('b3'));
    else injectW3c(h, traceId, upstreamSpanId ?? spanId, sampled, parent.traceState);
    return sampled ? { traceId, spanId, parentSpanId, traceState: parent.traceState, sampled, shared, upstreamSpanId } : undefined;
  }

  /** The stream is done: a sampled span goes to the exporter. */
  finish(a: ActiveSpan | undefined, s: TracedStream): void {
    if (!a?.sampled) return;
    const cfg = this.config;
    const req = s.req;
    // Both ends from the monotonic clock anchored at the process's time origin: nested spans of
    // one proxy nest exactly, and Date.now()'s millisecond steps do not skew short spans.
    const nowMs = performance.timeOrigin + performance.now();
    const end = BigInt(Math.round(nowMs * 1e6));
    const start = end - BigInt(Math.max(0, Math.round(s.elapsedMs() * 1e6)));
    const error = s.status >= 500 || s.status === 0;
    const attributes = this.#tags(s, req.headers, error);
    const name = spanName(req, cfg.maxPathTagLength);
    const local = { address: s.conn.localAddress, port: s.conn.localPort };
    const egress = cfg.operation === 'egress';
    const upstream = s.upstreamHost ? { address: s.upstreamHost.address, port: s.upstreamHost.port } : undefined;
    this.sink.add({
      traceId: a.traceId, spanId: a.spanId, parentSpanId: a.parentSpanId, traceState: a.traceState,
      name, kind: egress ? 'client' : 'server', startUnixNano: start, endUnixNano: end, attributes, error, shared: a.shared,
      remote: egress ? upstream : { address: s.downstreamAddress.address, port: s.downstreamAddress.port }, local,
    });
    if (a.upstreamSpanId) {
      this.sink.add({
        traceId: a.traceId, spanId: a.upstreamSpanId, parentSpanId: a.spanId, traceState: a.traceState,
        name: `router ${s.upstreamCluster?.name ?? '-'} egress`, kind: 'client', startUnixNano: start, endUnixNano: end,
        attributes, error, shared: false, remote: upstream, local,
      });
    }
  }

  #tags(s: TracedStream, h: HeaderMap, error: boolean): [string, string][] {
    const cfg = this.config;
    const req = s.req;
    const cluster = s.upstreamCluster?.name;
    const t: [string, string][] = [
      ['component', 'proxy'],
      ['node_id', this.node.nodeId],
      ['zone', this.node.zone],
      ['guid:x-request-id', h.get('x-request-id') ?? ''],
      ['http.url', truncate(`${req.scheme}://${req.authority}${req.path}`, cfg.maxPathTagLength)],
      ['http.method', req.method],
      ['downstream_cluster', h.get('x-envoy-downstream-service-cluster') ?? '-'],
      ['user_agent', h.get('user-agent') ?? '-'],
      ['http.protocol', req.protocol],
      ['peer.address', s.downstreamAddress.address],
      ['request_size', String(s.bytesReceived)],
      ['response_size', String(s.bytesSent)],
      ['http.status_code', String(s.status)],
      ['response_flags', responseFlagsToString(s.flags) || '-'],
    ];
    if (cluster !== undefined) t.push(['upstream_cluster', cluster], ['upstream_cluster.name', cluster]);
    if (s.upstreamHost) t.push(['upstream_address', `${s.upstreamHost.address}:${s.upstreamHost.port}`]);
    for (const kv of this.node.istio) t.push([kv[0], kv[1]]);
    for (const ct of cfg.customTags) {
      if (ct.kind === 'header') { const v = h.get(ct.name) ?? ct.defaultValue; if (v) t.push([ct.tag, v]); } else if (ct.value) t.push([ct.tag, ct.value]);
    }
    if (error) t.push(['error', 'true']);
    return t;
  }
}

/** `host/path` without the query: what the span is about, bounded like http.url. */
function spanName(req: RequestHeaders, max: number): string {
  const q = req.path.indexOf('?');
  return truncate(`${req.authority}${q < 0 ? req.path : req.path.slice(0, q)}`, max);
}

function truncate(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}
