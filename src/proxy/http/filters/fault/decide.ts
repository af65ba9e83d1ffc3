import { fractionHit, type Fraction } from '../../../../envoy/percent.js';
import type { HeaderMap } from '../../headers.js';
import type { RouteRequest } from '../../route/request.js';
import { FaultHeaders, type FaultSettings } from './config.js';

const UNSIGNED = /^[\t\n\v\f\r ]*\+?([0-9]+)[\t\n\v\f\r ]*$/;
const UINT32_MAX = 0xffff_ffff;

/**
 * An unsigned integer header value as absl::SimpleAtoi reads it (surrounding whitespace and a
 * `+` allowed); undefined when it is not one or exceeds `max`. These headers are untrusted:
 * only their first value is read.
 */
export function parseUnsigned(v: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const m = UNSIGNED.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= max ? n : undefined;
}

/**
 * Envoy's HeaderPercentageProvider: a header-controlled fault's percentage comes from the
 * `...-percentage` header, capped by the configured numerator, over the configured denominator.
 */
export function headerPercentage(configured: Fraction, header: string | undefined): Fraction {
  const n = parseUnsigned(header, UINT32_MAX);
  if (n === undefined) return configured;
  return { numerator: Math.min(n, configured.numerator), denominator: configured.denominator };
}

/**
 * Whether the fault applies to this request at all: upstream_cluster (the route's cluster),
 * downstream_nodes (x-envoy-downstream-service-node) and every `headers` matcher.
 */
export function faultMatches(s: FaultSettings, req: RouteRequest, routeCluster: string | undefined): boolean {
  if (s.upstreamCluster !== '' && routeCluster !== s.upstreamCluster) return false;
  if (s.downstreamNodes.size > 0) {
    const node = req.headers.get(FaultHeaders.downstreamNode);
    if (node === undefined || !s.downstreamNodes.has(node)) return false;
  }
  for (const h of s.headers) if (!h(req)) return false;
  return true;
}

/** The delay to inject in ms, or undefined: percentage drawn with `random`, then a duration > 0. */
export function delayMs(s: FaultSettings, headers: HeaderMap, random: number): number | undefined {
  const d = s.delay;
  if (!d) return undefined;
  const pct = d.fixedMs !== undefined ? d.percentage : headerPercentage(d.percentage, headers.get(FaultHeaders.delayPercentage));
  if (!fractionHit(pct, random)) return undefined;
  const ms = d.fixedMs ?? parseUnsigned(headers.get(FaultHeaders.delay));
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/**
 * The response rate limit for this request in KiB/s, or undefined (Envoy's
 * maybeSetupResponseRateLimit): the rate first (header_limit: a positive
 * x-envoy-fault-throughput-response), then the percentage drawn with `random`.
 */
export function responseRateKbps(s: FaultSettings, headers: HeaderMap, random: number): number | undefined {
  const rl = s.responseRateLimit;
  if (!rl) return undefined;
  const kbps = rl.kbps ?? parseUnsigned(headers.get(FaultHeaders.throughput));
  if (kbps === undefined || kbps === 0) return undefined;
  const pct = rl.kbps !== undefined ? rl.percentage : headerPercentage(rl.percentage, headers.get(FaultHeaders.throughputPercentage));
  return fractionHit(pct, random) ? kbps : undefined;
}

/** An abort to answer with: an HTTP status, or 200 with a gRPC status (Envoy's abortStatus). */
export interface AbortDecision {
  readonly status: number;
  readonly grpcStatus?: number;
}

/**
 * The abort to inject, or undefined. For header_abort an HTTP status from
 * x-envoy-fault-abort-request (200-599) wins over a gRPC status from
 * x-envoy-fault-abort-grpc-request; a gRPC abort answers 200 with grpc-status.
 */
export function abortDecision(s: FaultSettings, headers: HeaderMap, random: number): AbortDecision | undefined {
  const a = s.abort;
  if (!a) return undefined;
  const pct = a.kind !== 'header' ? a.percentage : headerPercentage(a.percentage, headers.get(FaultHeaders.abortPercentage));
  if (!fractionHit(pct, random)) return undefined;
  switch (a.kind) {
    case 'http': return { status: a.status };
    case 'grpc': return { status: 200, grpcStatus: a.grpcStatus };
    case 'header': {
      const status = parseUnsigned(headers.get(FaultHeaders.abort));
      if (status !== undefined && status >= 200 && status < 600) return { status };
      const grpc = parseUnsigned(headers.get(FaultHeaders.abortGrpc), UINT32_MAX);
      return grpc !== undefined ? { status: 200, grpcStatus: grpc } : undefined;
    }
  }
}
