/** A finished span as the exporters encode it. */
export interface FinishedSpan {
  /** 32 hex digits (a 64-bit Zipkin id has a zero upper half). */
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string | undefined;
  readonly name: string;
  /** server: the inbound (ingress) side; client: outbound (egress), or the upstream span of spawn_upstream_span. */
  readonly kind: 'server' | 'client';
  readonly startUnixNano: bigint;
  readonly endUnixNano: bigint;
  /** Tag values as Envoy sets them: strings (OTLP and Zipkin both carry them as strings). */
  readonly attributes: readonly (readonly [string, string])[];
  readonly error: boolean;
  /** Zipkin: the span reuses its caller's id (shared_span_context). */
  readonly shared: boolean;
  /** The client's address for a server span, the upstream's for a client span. */
  readonly remote: { readonly address: string; readonly port: number } | undefined;
  readonly local: { readonly address: string; readonly port: number };
}

/** Where finished spans go; `add` never blocks and never throws. */
export interface SpanSink {
  add(span: FinishedSpan): void;
}
