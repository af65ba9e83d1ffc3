/**
 * OTLP/HTTP protobuf body: an ExportTraceServiceRequest
 * (opentelemetry/proto/collector/trace/v1/trace_service.proto) holding one ResourceSpans (this
 * proxy) with one ScopeSpans, its spans written into the report as they finish. Field numbers
 * are OTLP's (opentelemetry/proto/trace/v1/trace.proto, common/v1, resource/v1);
 * test/proxy/tracing decodes the output with an independent .proto to keep them honest. Every
 * length is the shortest varint, as any protobuf encoder writes it. Pure.
 */
import { putText } from '../io/put-text.js';
import { encodeReport, ReportBuffer, type ReportFormat } from './report-buffer.js';
import type { FinishedSpan } from './span.js';

// Tags (field number << 3 | wire type) of the fields written. LEN is wire type 2.
const T_RESOURCE_SPANS = 0x0a; // ExportTraceServiceRequest.resource_spans = 1
const T_RESOURCE = 0x0a; // ResourceSpans.resource = 1
const T_SCOPE_SPANS = 0x12; // ResourceSpans.scope_spans = 2
const T_RES_ATTRIBUTE = 0x0a; // Resource.attributes = 1
const T_SCOPE = 0x0a; // ScopeSpans.scope = 1
const T_SPAN = 0x12; // ScopeSpans.spans = 2
const T_SCOPE_NAME = 0x0a; // InstrumentationScope.name = 1
const T_SCOPE_VERSION = 0x12; // InstrumentationScope.version = 2
const T_TRACE_ID = 0x0a; // Span.trace_id = 1
const T_SPAN_ID = 0x12; // Span.span_id = 2
const T_TRACE_STATE = 0x1a; // Span.trace_state = 3
const T_PARENT_SPAN_ID = 0x22; // Span.parent_span_id = 4
const T_NAME = 0x2a; // Span.name = 5
const T_KIND = 0x30; // Span.kind = 6, varint
const T_START = 0x39; // Span.start_time_unix_nano = 7, fixed64
const T_END = 0x41; // Span.end_time_unix_nano = 8, fixed64
const T_SPAN_ATTRIBUTE = 0x4a; // Span.attributes = 9
const T_STATUS = 0x7a; // Span.status = 15
const T_STATUS_CODE = 0x18; // Status.code = 3, varint
const T_KEY = 0x0a; // KeyValue.key = 1
const T_VALUE = 0x12; // KeyValue.value = 2
const T_STRING = 0x0a; // AnyValue.string_value = 1

/** Span.SpanKind */
const KIND_SERVER = 2;
const KIND_CLIENT = 3;
/** Status.StatusCode */
const STATUS_ERROR = 2;

export interface OtlpResource {
  /** Resource attributes, `service.name` first. */
  readonly attributes: readonly (readonly [string, string])[];
}

/** One resource (this proxy), one instrumentation scope, the spans as they come. */
export function otlpFormat(resource: OtlpResource): ReportFormat {
  let max = 0;
  for (const [k, v] of resource.attributes) max += 3 * (k.length + v.length) + 24;
  const resourceBody = encodeAlone(max, (r) => { for (const [k, v] of resource.attributes) keyValue(r, T_RES_ATTRIBUTE, k, v); });
  const scope = encodeAlone(32, (r) => {
    const at = openField(r, T_SCOPE, 32);
    stringField(r, T_SCOPE_NAME, 'tsmesh');
    stringField(r, T_SCOPE_VERSION, '1');
    closeField(r, at, 32);
  });
  // resource_spans { resource { ... } scope_spans { scope { ... } spans... } }: three tags and
  // lengths of at most 5 bytes each, the resource and the scope.
  const headroom = 3 * 6 + resourceBody.length + scope.length;
  return {
    headroom,
    putSpan,
    frame(r: ReportBuffer): Buffer {
      const scopeSpans = scope.length + (r.pos - r.headroom);
      const resourceField = 1 + varintSize(resourceBody.length) + resourceBody.length;
      const resourceSpans = resourceField + 1 + varintSize(scopeSpans) + scopeSpans;
      const start = r.headroom - (1 + varintSize(resourceSpans) + resourceField + 1 + varintSize(scopeSpans) + scope.length);
      const b = r.buf;
      let p = start;
      b[p++] = T_RESOURCE_SPANS;
      p = putVarint(b, p, resourceSpans);
      b[p++] = T_RESOURCE;
      p = putVarint(b, p, resourceBody.length);
      b.set(resourceBody, p);
      p += resourceBody.length;
      b[p++] = T_SCOPE_SPANS;
      p = putVarint(b, p, scopeSpans);
      b.set(scope, p);
      return b.subarray(start, r.pos);
    },
  };
}

/** An ExportTraceServiceRequest of `spans` (tests and one-off reports). */
export function encodeExportTraceRequest(resource: OtlpResource, spans: readonly FinishedSpan[]): Buffer {
  return encodeReport(otlpFormat(resource), spans);
}

function putSpan(r: ReportBuffer, s: FinishedSpan): void {
  const attrs = s.attributes;
  // An upper bound of the span's size: 3 bytes per UTF-16 unit, the longest lengths, the fixed fields.
  let max = 80 + 3 * s.name.length + (s.traceState ? 3 * s.traceState.length + 6 : 0);
  for (let i = 0; i < attrs.length; i++) { const a = attrs[i]!; max += 3 * (a[0].length + a[1].length) + 24; }
  r.reserve(max + 6);
  const at = openField(r, T_SPAN, max);
  const b = r.buf;
  b[r.pos++] = T_TRACE_ID;
  b[r.pos++] = 16;
  r.pos = putHexBytes(b, r.pos, s.traceId);
  b[r.pos++] = T_SPAN_ID;
  b[r.pos++] = 8;
  r.pos = putHexBytes(b, r.pos, s.spanId);
  if (s.traceState) stringField(r, T_TRACE_STATE, s.traceState);
  if (s.parentSpanId) {
    b[r.pos++] = T_PARENT_SPAN_ID;
    b[r.pos++] = 8;
    r.pos = putHexBytes(b, r.pos, s.parentSpanId);
  }
  stringField(r, T_NAME, s.name);
  b[r.pos++] = T_KIND;
  b[r.pos++] = s.kind === 'server' ? KIND_SERVER : KIND_CLIENT;
  b[r.pos++] = T_START;
  r.pos = b.writeBigUInt64LE(s.startUnixNano, r.pos);
  b[r.pos++] = T_END;
  r.pos = b.writeBigUInt64LE(s.endUnixNano, r.pos);
  for (let i = 0; i < attrs.length; i++) { const a = attrs[i]!; keyValue(r, T_SPAN_ATTRIBUTE, a[0], a[1]); }
  if (s.error) {
    b[r.pos++] = T_STATUS;
    b[r.pos++] = 2;
    b[r.pos++] = T_STATUS_CODE;
    b[r.pos++] = STATUS_ERROR;
  }
  closeField(r, at, max);
}

/**
 * A KeyValue with a string AnyValue as field `tag` (the caller reserved the room). Written with
 * the lengths of ASCII text first, the case of nearly every tag, and checked: text that is not
 * ASCII writes it again, each length after its body.
 */
function keyValue(r: ReportBuffer, tag: number, key: string, value: string): void {
  const b = r.buf;
  const p0 = r.pos;
  const kl = key.length;
  const vl = value.length;
  const any = 1 + varintSize(vl) + vl;
  b[p0] = tag;
  let p = putVarint(b, p0 + 1, 1 + varintSize(kl) + kl + 1 + varintSize(any) + any);
  b[p++] = T_KEY;
  p = putVarint(b, p, kl);
  let q = putText(b, p, key);
  if (q === p + kl) {
    b[q++] = T_VALUE;
    q = putVarint(b, q, any);
    b[q++] = T_STRING;
    q = putVarint(b, q, vl);
    const end = putText(b, q, value);
    if (end === q + vl) { r.pos = end; return; }
  }
  r.pos = p0;
  // Its body is at most 18 + 3 × (key + value) bytes: each of the three strings' fields takes a
  // tag, a length of at most 5 bytes and 3 bytes per UTF-16 unit.
  const max = 3 * (kl + vl) + 18;
  const at = openField(r, tag, max);
  stringField(r, T_KEY, key);
  const valueMax = 3 * vl + 6;
  const v = openField(r, T_VALUE, valueMax);
  stringField(r, T_STRING, value);
  closeField(r, v, valueMax);
  closeField(r, at, max);
}

function stringField(r: ReportBuffer, tag: number, s: string): void {
  const b = r.buf;
  const p0 = r.pos;
  const n = s.length;
  b[p0] = tag;
  const p = putVarint(b, p0 + 1, n);
  const end = putText(b, p, s);
  if (end === p + n) { r.pos = end; return; }
  // Not ASCII: its UTF-8 is longer, and so may its length be.
  r.pos = p0;
  const at = openField(r, tag, 3 * n);
  r.pos = putText(b, r.pos, s);
  closeField(r, at, 3 * n);
}

/**
 * Starts field `tag` whose body will be at most `max` bytes, leaving room for that length;
 * returns where the body starts, for closeField.
 */
function openField(r: ReportBuffer, tag: number, max: number): number {
  r.buf[r.pos++] = tag;
  r.pos += varintSize(max);
  return r.pos;
}

/**
 * Writes the length of the body that started at `start`; when that length takes fewer bytes than
 * were left for `max` (only bodies that might reach 128 bytes, so rarely), the body moves back.
 */
function closeField(r: ReportBuffer, start: number, max: number): void {
  const room = varintSize(max);
  const len = r.pos - start;
  const size = varintSize(len);
  if (size < room) { r.buf.copyWithin(start - room + size, start, r.pos); r.pos -= room - size; }
  putVarint(r.buf, start - room, len);
}

/** A message on its own of at most `max` bytes (the resource, the scope), for `frame` to copy in front of the spans. */
function encodeAlone(max: number, write: (r: ReportBuffer) => void): Buffer {
  const r = new ReportBuffer(0, max + 64);
  write(r);
  return Buffer.from(r.buf.subarray(0, r.pos));
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : n < 0x1000_0000 ? 4 : 5;
}

function putVarint(b: Buffer, p: number, n: number): number {
  while (n >= 0x80) { b[p++] = (n & 0x7f) | 0x80; n >>>= 7; }
  b[p++] = n;
  return p;
}

/** Lowercase or uppercase hex digits (ids are validated before they get here) as bytes. */
function putHexBytes(b: Buffer, p: number, hex: string): number {
  for (let i = 0; i < hex.length; i += 2) b[p++] = (hexValue(hex.charCodeAt(i)) << 4) | hexValue(hex.charCodeAt(i + 1));
  return p;
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}
