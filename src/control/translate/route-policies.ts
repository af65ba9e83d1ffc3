import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import {
  RetryPolicySchema, RetryPolicy_RetryHostPredicateSchema, RouteAction_HashPolicySchema, RouteAction_HashPolicy_HeaderSchema,
  RouteAction_HashPolicy_CookieSchema, RouteAction_HashPolicy_ConnectionPropertiesSchema, RouteAction_HashPolicy_QueryParameterSchema,
  RouteAction_RequestMirrorPolicySchema, type RetryPolicy, type RouteAction_HashPolicy, type RouteAction_RequestMirrorPolicy,
} from '../../envoy/generated/envoy/config/route/v3/route_components_pb.js';
import { PreviousHostsPredicateSchema } from '../../envoy/generated/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';
import { HTTPFaultSchema, FaultAbortSchema } from '../../envoy/generated/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { FaultDelaySchema } from '../../envoy/generated/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import { CorsPolicySchema } from '../../envoy/generated/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HeaderValueOptionSchema, HeaderValueSchema, HeaderValueOption_HeaderAppendAction, RuntimeFractionalPercentSchema, type HeaderValueOption } from '../../envoy/generated/envoy/config/core/v3/base_pb.js';
import type { ConsistentHashLB, CorsPolicy, HeaderOperations, HTTPFaultInjection, HTTPRetry, Percent } from '../config/kinds.js';
import { duration, fractionOfPercent, hundredPercent, wholeSeconds } from './duration.js';
import { stringMatcher } from './route-match.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const CORS_FILTER = 'envoy.filters.http.cors';

/*
 * Output messages are immutable once returned (the xDS server only serializes them), so a
 * constant sub-message is built once and shared: a sidecar's routes hold thousands of these.
 */
const PREVIOUS_HOSTS = create(RetryPolicy_RetryHostPredicateSchema, {
  name: 'envoy.retry_host_predicates.previous_hosts',
  configType: { case: 'typedConfig', value: anyPack(PreviousHostsPredicateSchema, create(PreviousHostsPredicateSchema)) },
});

const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/**
 * Istio's retry.ConvertPolicy. No `retries`: Istio's default (2 retries on connect failure,
 * refused stream, gRPC unavailable/cancelled and 503, other hosts preferred). attempts 0 (or
 * less): no retries. retryOn replaces the conditions; HTTP status codes in it become
 * retriable_status_codes. With consistent hashing the previous-hosts predicate is left out, as
 * retrying on another host would defeat the hash.
 */
export function retryPolicy(r: HTTPRetry | undefined, hashing: boolean): RetryPolicy | undefined {
  if (r && (r.attempts ?? 0) <= 0) return undefined;
  const p = create(RetryPolicySchema, {
    retryOn: DEFAULT_RETRY_ON,
    numRetries: r?.attempts ?? 2,
    retriableStatusCodes: [503],
    hostSelectionRetryMaxAttempts: 5n,
  });
  if (!hashing) p.retryHostPredicate = [PREVIOUS_HOSTS];
  if (r?.retryOn) {
    const conds: string[] = [];
    const codes: number[] = [];
    for (const part of r.retryOn.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (/^\d+$/.test(part)) codes.push(Number(part)); else conds.push(part);
    }
    if (codes.length > 0 && !conds.includes('retriable-status-codes')) conds.push('retriable-status-codes');
    p.retryOn = conds.join(',');
    p.retriableStatusCodes = codes;
  }
  if (r?.perTryTimeout) p.perTryTimeout = duration(r.perTryTimeout);
  return p;
}

/** A DestinationRule's consistentHash as the route's hash policy (header, cookie, source IP, query). */
export function hashPolicy(ch: ConsistentHashLB | undefined): RouteAction_HashPolicy | undefined {
  if (!ch) return undefined;
  if (ch.httpHeaderName) return create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'header', value: create(RouteAction_HashPolicy_HeaderSchema, { headerName: ch.httpHeaderName.toLowerCase() }) } });
  if (ch.httpCookie) {
    const c = create(RouteAction_HashPolicy_CookieSchema, { name: ch.httpCookie.name, path: ch.httpCookie.path ?? '' });
    if (ch.httpCookie.ttl) c.ttl = duration(ch.httpCookie.ttl);
    return create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'cookie', value: c } });
  }
  if (ch.useSourceIp) return create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'connectionProperties', value: create(RouteAction_HashPolicy_ConnectionPropertiesSchema, { sourceIp: true }) } });
  if (ch.httpQueryParameterName) return create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'queryParameter', value: create(RouteAction_HashPolicy_QueryParameterSchema, { name: ch.httpQueryParameterName }) } });
  return undefined;
}

/**
 * Istio's TranslateFault: percentages in millionths. A delay or abort without `percentage` has
 * none in Envoy either, which Envoy reads as 0%: nothing is injected until one is given.
 */
export function faultConfig(f: HTTPFaultInjection): Any {
  const fault = create(HTTPFaultSchema);
  if (f.delay) {
    fault.delay = create(FaultDelaySchema, { faultDelaySecifier: { case: 'fixedDelay', value: duration(f.delay.fixedDelay) } });
    if (f.delay.percentage) fault.delay.percentage = fractionOfPercent(f.delay.percentage.value);
  }
  if (f.abort) {
    const a = create(FaultAbortSchema);
    if (f.abort.grpcStatus !== undefined) a.errorType = { case: 'grpcStatus', value: grpcCode(f.abort.grpcStatus) };
    else a.errorType = { case: 'httpStatus', value: f.abort.httpStatus ?? 500 };
    if (f.abort.percentage) a.percentage = fractionOfPercent(f.abort.percentage.value);
    fault.abort = a;
  }
  return anyPack(HTTPFaultSchema, fault);
}

const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

function grpcCode(status: string): number {
  if (/^\d+$/.test(status)) return Number(status);
  const i = GRPC_CODES.indexOf(status.toUpperCase());
  return i >= 0 ? i : 2; // UNKNOWN; validation refuses unknown names before this
}

/** Istio's translateCORSPolicy, as the cors filter's per-route CorsPolicy. */
export function corsConfig(c: CorsPolicy): Any {
  const p = create(CorsPolicySchema, {
    allowOriginStringMatch: (c.allowOrigins ?? []).map((o) => stringMatcher(o)).filter((m) => m !== undefined),
    allowMethods: (c.allowMethods ?? []).join(','),
    allowHeaders: (c.allowHeaders ?? []).join(','),
    exposeHeaders: (c.exposeHeaders ?? []).join(','),
    filterEnabled: create(RuntimeFractionalPercentSchema, { defaultValue: hundredPercent() }),
  });
  if (c.maxAge) p.maxAge = String(wholeSeconds(c.maxAge));
  if (c.allowCredentials !== undefined) p.allowCredentials = c.allowCredentials;
  return anyPack(CorsPolicySchema, p);
}

/** Istio's mirror: all requests unless mirrorPercentage says otherwise. */
export function mirrorPolicy(cluster: string, pct: Percent | undefined): RouteAction_RequestMirrorPolicy {
  return create(RouteAction_RequestMirrorPolicySchema, {
    cluster,
    runtimeFraction: create(RuntimeFractionalPercentSchema, { defaultValue: pct ? fractionOfPercent(pct.value) : hundredPercent() }),
  });
}

/** Header operations: `set` overwrites, `add` appends (Istio's translateAppendHeaders), sorted by name. */
export function headersToAdd(ops: HeaderOperations | undefined): HeaderValueOption[] {
  const out: HeaderValueOption[] = [];
  const push = (rec: Record<string, string> | undefined, action: HeaderValueOption_HeaderAppendAction): void => {
    for (const key of Object.keys(rec ?? {}).sort()) {
      out.push(create(HeaderValueOptionSchema, { header: create(HeaderValueSchema, { key: key.toLowerCase(), value: rec![key]! }), appendAction: action }));
    }
  };
  push(ops?.set, HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
  push(ops?.add, HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD);
  return out;
}

export function headersToRemove(ops: HeaderOperations | undefined): string[] {
  return (ops?.remove ?? []).map((h) => h.toLowerCase());
}
