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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The trace reason of a request id; undefined when it is no UUID (then nothing is traced by it). */
export function reasonOf(requestId: string): TraceReason | undefined {
  if (requestId.length !== 36 || !UUID.test(requestId)) return undefined;
  const c = requestId.charCodeAt(14) | 0x20;
  return c === TraceReason.Sampling || c === TraceReason.ServiceForced || c === TraceReason.ClientForced ? c : TraceReason.NotTraceable;
}

function withReason(requestId: string, r: TraceReason): string {
  return requestId.slice(0, 14) + String.fromCharCode(r) + requestId.slice(15);
}

/**
 * Decides and records the reason on the request's x-request-id; returns it. `random` is a
 * uniform [0, 1) draw for client sampling; random and overall sampling use the request id's
 * own value (so one request gets one answer on every proxy it passes).
 */
export function decideReason(h: HeaderMap, cfg: SamplingConfig, random: number): TraceReason {
  const rid = h.get('x-request-id');
  if (rid === undefined) return TraceReason.NotTraceable;
  let reason = reasonOf(rid);
  if (reason === undefined) return TraceReason.NotTraceable;
  // The request id's low bits as a uniform number: Envoy's `getInteger() % 10000`.
  const u = parseInt(rid.slice(28, 36), 16) / 0x1_0000_0000;
  if (h.has('x-client-trace-id') && fractionHit(cfg.clientSampling, random)) reason = TraceReason.ClientForced;
  else if (h.has('x-envoy-force-trace')) reason = TraceReason.ServiceForced;
  else if (reason === TraceReason.NotTraceable && fractionHit(cfg.randomSampling, u)) reason = TraceReason.Sampling;
  if (reason !== TraceReason.NotTraceable && !fractionHit(cfg.overallSampling, u)) reason = TraceReason.NotTraceable;
  const updated = withReason(rid, reason);
  if (updated !== rid) h.set('x-request-id', updated);
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
