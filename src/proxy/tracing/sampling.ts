/**
 * Envoy's tracing decision (ConnectionManagerUtility::mutateTracingRequestHeader and the UUID
 * request-id extension): the reason is kept in the version nibble of x-request-id (character 14)
 * so every hop of the request agrees, and an inherited sampled flag of the caller's trace context
 * decides unless the trace is forced. Pure.
 */
import type { HeaderMap } from '../http/headers.js';
import { fractionHit, type Fraction } from '../../envoy/percent.js';

/** Tracing::Reason as the UUID extension stores it. */
export const enum TraceReason {
  NotTraceable = 0x34, // '4': the UUID's own version digit
  Sampling = 0x39, // '9'
  ServiceForced = 0x61, // 'a': x-envoy-force-trace
  ClientForced = 0x62, // 'b': x-client-trace-id
}

export interface SamplingConfig {
  readonly clientSampling: Fraction;
  readonly randomSampling: Fraction;
  readonly overallSampling: Fraction;
}

/**
 * The trace reason of a request id; undefined when it is not UUID-shaped (then nothing is traced
 * by it). Envoy checks the length only; the dashes are checked too, as cheaply.
 */
export function reasonOf(requestId: string): TraceReason | undefined {
  if (requestId.length !== 36 || requestId.charCodeAt(8) !== 45 || requestId.charCodeAt(13) !== 45 || requestId.charCodeAt(18) !== 45 || requestId.charCodeAt(23) !== 45) return undefined;
  const c = requestId.charCodeAt(14) | 0x20;
  return c === TraceReason.Sampling || c === TraceReason.ServiceForced || c === TraceReason.ClientForced ? c : TraceReason.NotTraceable;
}

/** Request headers that bear on tracing, as bits: what scanTraceHeaders found. */
export const enum TraceHeader {
  ClientTraceId = 1, // x-client-trace-id
  ForceTrace = 2, // x-envoy-force-trace
  /** A caller's trace context may be there: traceparent, b3 or x-b3-traceid. */
  Context = 4,
  TraceState = 8, // tracestate
}

/**
 * Which of the tracing headers a request has, in one pass over its names (the decision and the
 * context extraction would otherwise look for each name in turn, and most requests have none).
 * Names are compared only where their length matches.
 */
export function scanTraceHeaders(h: HeaderMap): number {
  const l = h.list;
  let seen = 0;
  for (let i = 0; i < l.length; i += 2) {
    const n = l[i]!;
    switch (n.length) {
      case 17: if (n === 'x-client-trace-id') seen |= TraceHeader.ClientTraceId; break;
      case 19: if (n === 'x-envoy-force-trace') seen |= TraceHeader.ForceTrace; break;
      case 11: if (n === 'traceparent') seen |= TraceHeader.Context; break;
      case 10: if (n === 'tracestate') seen |= TraceHeader.TraceState; break;
      case 12: if (n === 'x-b3-traceid') seen |= TraceHeader.Context; break;
      case 2: if (n === 'b3') seen |= TraceHeader.Context; break;
    }
  }
  return seen;
}

/** The last 8 hex digits of a UUID as a number (a non-hex digit counts as 0). */
function lowBits(rid: string): number {
  // 32 bits in int32 arithmetic (no doubles in the loop); unsigned at the end.
  let v = 0;
  for (let i = 28; i < 36; i++) {
    const c = rid.charCodeAt(i) | 0x20;
    v = (v << 4) | (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : 0);
  }
  return v >>> 0;
}

function withReason(requestId: string, r: TraceReason): string {
  return requestId.slice(0, 14) + String.fromCharCode(r) + requestId.slice(15);
}

/**
 * Decides and records the reason on the request's x-request-id; returns it. `random` is a
 * uniform [0, 1) draw for client sampling; random and overall sampling use the request id's
 * own value (so one request gets one answer on every proxy it passes). `seen`: scanTraceHeaders(h),
 * when the caller has it already.
 */
export function decideReason(h: HeaderMap, cfg: SamplingConfig, random: number, seen: number = scanTraceHeaders(h)): TraceReason {
  const rid = h.get('x-request-id');
  if (rid === undefined) return TraceReason.NotTraceable;
  let reason = reasonOf(rid);
  if (reason === undefined) return TraceReason.NotTraceable;
  // The request id's low bits as a uniform number: Envoy's `getInteger() % 10000`.
  const u = lowBits(rid) / 0x1_0000_0000;
  if ((seen & TraceHeader.ClientTraceId) !== 0 && fractionHit(cfg.clientSampling, random)) reason = TraceReason.ClientForced;
  else if ((seen & TraceHeader.ForceTrace) !== 0) reason = TraceReason.ServiceForced;
  else if (reason === TraceReason.NotTraceable && fractionHit(cfg.randomSampling, u)) reason = TraceReason.Sampling;
  if (reason !== TraceReason.NotTraceable && !fractionHit(cfg.overallSampling, u)) reason = TraceReason.NotTraceable;
  if (rid.charCodeAt(14) !== reason) h.set('x-request-id', withReason(rid, reason));
  return reason;
}

/**
 * Whether the span is sampled: a forced trace always is; otherwise the caller's flag when it
 * sent one (W3C sampled bit, x-b3-sampled), else the request id's reason.
 */
export function isSampled(reason: TraceReason, inherited: boolean | undefined): boolean {
  if (reason === TraceReason.ClientForced || reason === TraceReason.ServiceForced) return true;
  if (inherited !== undefined) return inherited;
  return reason === TraceReason.Sampling;
}
