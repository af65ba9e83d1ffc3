/**
 * OTLP/HTTP protobuf body: an ExportTraceServiceRequest
 * (opentelemetry/proto/collector/trace/v1/trace_service.proto), written field by field. The
 * field numbers are OTLP's (opentelemetry/proto/trace/v1/trace.proto, common/v1, resource/v1);
 * test/proxy/tracing decodes the output with an independent .proto to keep them honest. Pure.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { FinishedSpan } from './span.js';

// ExportTraceServiceRequest
const REQ_RESOURCE_SPANS = 1;
// ResourceSpans
const RS_RESOURCE = 1;
const RS_SCOPE_SPANS = 2;
// Resource
const RES_ATTRIBUTES = 1;
// ScopeSpans
const SS_SCOPE = 1;
const SS_SPANS = 2;
// InstrumentationScope
const SCOPE_NAME = 1;
const SCOPE_VERSION = 2;
// Span
const SPAN_TRACE_ID = 1;
const SPAN_SPAN_ID = 2;
const SPAN_TRACE_STATE = 3;
const SPAN_PARENT_SPAN_ID = 4;
const SPAN_NAME = 5;
const SPAN_KIND = 6;
const SPAN_START = 7;
const SPAN_END = 8;
const SPAN_ATTRIBUTES = 9;
const SPAN_STATUS = 15;
// Status
const STATUS_CODE = 3;
// KeyValue / AnyValue
const KV_KEY = 1;
const KV_VALUE = 2;
const ANY_STRING = 1;

/** Span.SpanKind */
const KIND_SERVER = 2;
const KIND_CLIENT = 3;
/** Status.StatusCode */
const STATUS_ERROR = 2;

export interface OtlpResource {
  /** Resource attributes, `service.name` first. */
  readonly attributes: readonly (readonly [string, string])[];
}

/** One resource (this proxy), one instrumentation scope, every span given. */
export function encodeExportTraceRequest(resource: OtlpResource, spans: readonly FinishedSpan[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(REQ_RESOURCE_SPANS, WireType.LengthDelimited).fork();
  w.tag(RS_RESOURCE, WireType.LengthDelimited).fork();
  for (const [k, v] of resource.attributes) keyValue(w, RES_ATTRIBUTES, k, v);
  w.join();
  w.tag(RS_SCOPE_SPANS, WireType.LengthDelimited).fork();
  w.tag(SS_SCOPE, WireType.LengthDelimited).fork().tag(SCOPE_NAME, WireType.LengthDelimited).string('tsmesh').tag(SCOPE_VERSION, WireType.LengthDelimited).string('1').join();
  for (const s of spans) span(w, s);
  w.join();
  w.join();
  return w.finish();
}

function span(w: BinaryWriter, s: FinishedSpan): void {
  w.tag(SS_SPANS, WireType.LengthDelimited).fork();
  w.tag(SPAN_TRACE_ID, WireType.LengthDelimited).bytes(Buffer.from(s.traceId, 'hex'));
  w.tag(SPAN_SPAN_ID, WireType.LengthDelimited).bytes(Buffer.from(s.spanId, 'hex'));
  if (s.traceState) w.tag(SPAN_TRACE_STATE, WireType.LengthDelimited).string(s.traceState);
  if (s.parentSpanId) w.tag(SPAN_PARENT_SPAN_ID, WireType.LengthDelimited).bytes(Buffer.from(s.parentSpanId, 'hex'));
  w.tag(SPAN_NAME, WireType.LengthDelimited).string(s.name);
  w.tag(SPAN_KIND, WireType.Varint).int32(s.kind === 'server' ? KIND_SERVER : KIND_CLIENT);
  w.tag(SPAN_START, WireType.Bit64).fixed64(s.startUnixNano);
  w.tag(SPAN_END, WireType.Bit64).fixed64(s.endUnixNano);
  for (const [k, v] of s.attributes) keyValue(w, SPAN_ATTRIBUTES, k, v);
  if (s.error) w.tag(SPAN_STATUS, WireType.LengthDelimited).fork().tag(STATUS_CODE, WireType.Varint).int32(STATUS_ERROR).join();
  w.join();
}

function keyValue(w: BinaryWriter, field: number, key: string, value: string): void {
  w.tag(field, WireType.LengthDelimited).fork();
  w.tag(KV_KEY, WireType.LengthDelimited).string(key);
  w.tag(KV_VALUE, WireType.LengthDelimited).fork().tag(ANY_STRING, WireType.LengthDelimited).string(value).join();
  w.join();
}
