/**
 * Trace context on HTTP headers: W3C Trace Context (`traceparent`, `tracestate`,
 * https://www.w3.org/TR/trace-context/) and B3 (`x-b3-*` and the single `b3` header,
 * https://github.com/openzipkin/b3-propagation). Pure.
 */
import type { HeaderMap } from '../http/headers.js';
import { isShortTraceId } from './ids.js';

/** The caller's span, as read from the request. Ids are lowercase hex: trace 32 digits, span 16. */
export interface ParentContext {
  readonly traceId: string;
  readonly spanId: string;
  /** B3 only: the caller's parent (what a span sharing the caller's id reports as its parent). */
  readonly parentSpanId?: string;
  /** The caller's decision; undefined when it made none (B3 without a sampling state). */
  readonly sampled: boolean | undefined;
  readonly traceState?: string;
  /** Where it came from: the same format is written back. */
  readonly format: 'w3c' | 'b3' | 'b3-single';
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

/**
 * The formats a provider speaks, as Envoy's tracers do: OpenTelemetry W3C trace context, Zipkin
 * B3. Its own format is read first and is the only one written.
 */
export type Propagation = 'w3c' | 'b3';

/**
 * The trace context of a request; undefined when none is valid. `w3c` (OpenTelemetry):
 * traceparent, then `b3`, then `x-b3-*`. `b3` (Zipkin): `b3`, then `x-b3-*`, then traceparent.
 * Envoy's tracers read their own format only; the other one is read as a fallback, so that a
 * caller speaking it still gets its trace continued.
 */
export function extractContext(h: HeaderMap, prefer: Propagation = 'w3c'): ParentContext | undefined {
  if (prefer === 'w3c') return extractW3c(h) ?? extractB3(h);
  return extractB3(h) ?? extractW3c(h);
}

function extractW3c(h: HeaderMap): ParentContext | undefined {
  const tp = h.get('traceparent');
  if (tp === undefined) return undefined;
  const c = parseTraceparent(tp);
  if (!c) return undefined;
  const ts = h.get('tracestate');
  // The same span in B3 form may name its own parent, which traceparent cannot carry.
  const pid = h.get('x-b3-spanid')?.toLowerCase() === c.spanId ? h.get('x-b3-parentspanid')?.toLowerCase() : undefined;
  return { ...c, ...(ts ? { traceState: ts } : {}), ...(pid && HEX16.test(pid) ? { parentSpanId: pid } : {}) };
}

function extractB3(h: HeaderMap): ParentContext | undefined {
  const single = h.get('b3');
  if (single !== undefined) {
    const c = parseB3Single(single);
    if (c) return c;
  }
  const tid = h.get('x-b3-traceid');
  if (tid === undefined) return undefined;
  const sid = h.get('x-b3-spanid');
  if (sid === undefined) return undefined;
  const traceId = normalizeTraceId(tid.toLowerCase());
  const spanId = sid.toLowerCase();
  if (!traceId || !HEX16.test(spanId) || spanId === ZERO16) return undefined;
  const pid = h.get('x-b3-parentspanid')?.toLowerCase();
  const flags = h.get('x-b3-flags');
  const s = h.get('x-b3-sampled');
  const sampled = flags === '1' ? true : s === '1' || s === 'true' ? true : s === '0' || s === 'false' ? false : undefined;
  return { traceId, spanId, parentSpanId: pid && HEX16.test(pid) ? pid : undefined, sampled, format: 'b3' };
}

/** `version-traceid-parentid-flags`; version 00 exactly, later versions by their first four fields (§4.3). */
export function parseTraceparent(v: string): ParentContext | undefined {
  const t = v.trim().toLowerCase();
  if (t.length < 55 || t[2] !== '-' || t[35] !== '-' || t[52] !== '-') return undefined;
  const version = t.slice(0, 2);
  if (!/^[0-9a-f]{2}$/.test(version) || version === 'ff') return undefined;
  if (version === '00' && t.length !== 55) return undefined;
  if (version !== '00' && t.length > 55 && t[55] !== '-') return undefined;
  const traceId = t.slice(3, 35);
  const spanId = t.slice(36, 52);
  const flags = t.slice(53, 55);
  if (!HEX32.test(traceId) || traceId === ZERO32 || !HEX16.test(spanId) || spanId === ZERO16 || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, format: 'w3c' };
}

/** `b3: traceid-spanid[-sampled[-parentspanid]]`, or a lone sampling state (which carries no context). */
export function parseB3Single(v: string): ParentContext | undefined {
  const parts = v.trim().toLowerCase().split('-');
  if (parts.length < 2) return undefined;
  const traceId = normalizeTraceId(parts[0]!);
  const spanId = parts[1]!;
  if (!traceId || !HEX16.test(spanId) || spanId === ZERO16) return undefined;
  const s = parts[2];
  const sampled = s === '1' || s === 'd' ? true : s === '0' ? false : undefined;
  const pid = parts[3];
  return { traceId, spanId, parentSpanId: pid && HEX16.test(pid) ? pid : undefined, sampled, format: 'b3-single' };
}

/** A B3 trace id of 16 or 32 hex digits in the 32-digit shape; undefined when invalid. */
function normalizeTraceId(id: string): string | undefined {
  if (HEX32.test(id)) return id === ZERO32 ? undefined : id;
  if (HEX16.test(id)) return id === ZERO16 ? undefined : ZERO16 + id;
  return undefined;
}

/** The context the next hop sees: this span as its parent. */
export interface ChildContext {
  readonly traceId: string;
  readonly spanId: string;
  /** This span's own parent (B3 x-b3-parentspanid). */
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
  readonly traceState: string | undefined;
}

/**
 * Writes the context for the next hop in the provider's format, as Envoy's tracers do:
 * OpenTelemetry `traceparent` (and `tracestate` when the trace has one), Zipkin B3 multi
 * headers (and the single `b3` header when the request came with one, so no hop reads a stale
 * one first). Headers of the other format pass through untouched. `traceparent`: the W3C
 * header for `c` when it was already made by newTraceparent (a new trace).
 */
export function injectContext(h: HeaderMap, c: ChildContext, format: Propagation, hadB3Single: boolean, traceparent?: string): void {
  if (format === 'w3c') injectW3c(h, c.traceId, c.spanId, c.sampled, c.traceState, traceparent);
  else injectB3(h, c.traceId, c.spanId, c.parentSpanId, c.sampled, hadB3Single);
}

/**
 * The W3C half of injectContext, with the context's fields as arguments (no object per request).
 * `callerMayHaveSent`: false when the request is known to carry no traceparent or tracestate
 * (scanTraceHeaders), so there is nothing of the caller's to drop. `traceparent`: the header
 * already made by newTraceparent (ids.ts), never a caller's text: it is marked trusted.
 */
export function injectW3c(h: HeaderMap, traceId: string, spanId: string, sampled: boolean, traceState: string | undefined, traceparent?: string, callerMayHaveSent = true): void {
  const l = h.list;
  // A caller's values go: its tracestate belongs to its traceparent (kept via `traceState` when continued).
  if (callerMayHaveSent) for (let i = 0; i < l.length; i += 2) {
    const n = l[i];
    if (n === 'traceparent' || n === 'tracestate') { l.splice(i, 2); i -= 2; }
  }
  if (traceparent !== undefined) {
    // Made by ids.ts of hex digits and dashes: the HTTP/1.1 serializer need not scan it again.
    l.push('traceparent', traceparent);
    h.trusted = traceparent;
  } else {
    l.push('traceparent', `00-${traceId}-${spanId}-0${sampled ? '1' : '0'}`);
  }
  if (traceState) l.push('tracestate', traceState);
}

/** The B3 half of injectContext, with the context's fields as arguments. */
export function injectB3(h: HeaderMap, traceId: string, spanId: string, parentSpanId: string | undefined, sampled: boolean, hadB3Single: boolean): void {
  const l = h.list;
  // One pass drops what a caller sent of these headers; then this hop's values go on the end.
  for (let i = 0; i < l.length; i += 2) {
    if (B3_HEADERS.has(l[i]!)) { l.splice(i, 2); i -= 2; }
  }
  const flag = sampled ? '1' : '0';
  const b3Trace = isShortTraceId(traceId) ? traceId.slice(16) : traceId;
  l.push('x-b3-traceid', b3Trace, 'x-b3-spanid', spanId);
  if (parentSpanId) l.push('x-b3-parentspanid', parentSpanId);
  l.push('x-b3-sampled', flag);
  if (hadB3Single) l.push('b3', `${b3Trace}-${spanId}-${flag}${parentSpanId ? `-${parentSpanId}` : ''}`);
}

/** What injectB3 replaces (x-b3-flags goes: the decision is in x-b3-sampled). */
const B3_HEADERS: ReadonlySet<string> = new Set(['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3']);
