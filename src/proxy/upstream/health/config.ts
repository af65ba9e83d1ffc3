/**
 * Cluster.health_checks validated and reduced to what the checker needs, with Envoy's defaults
 * (source/extensions/health_checkers/common/health_checker_base_impl.cc) and proto limits.
 */
import type { HealthCheck, HealthCheck_Payload } from '../../../envoy/generated/envoy/config/core/v3/health_check_pb.js';
import { RequestMethod } from '../../../envoy/generated/envoy/config/core/v3/base_pb.js';
import { CodecClientType } from '../../../envoy/generated/envoy/type/v3/http_pb.js';
import type { Int64Range } from '../../../envoy/generated/envoy/type/v3/range_pb.js';
import { durationMs } from '../../../envoy/duration.js';
import { ConfigError } from '../../../envoy/registry.js';
import { compileHeaderMutation, type HeaderMutation } from '../../http/route/header-mutation.js';
import { decodePayload } from './payload.js';

/** Half-open [start, end) status ranges. */
export type StatusRanges = readonly (readonly [number, number])[];

export type ProbeSpec =
  | {
    readonly kind: 'http';
    readonly method: string;
    readonly path: string;
    /** The host header: `host`, else the cluster's name. */
    readonly authority: string;
    readonly http2: boolean;
    readonly headers: HeaderMutation | undefined;
    readonly expectedStatuses: StatusRanges;
    readonly retriableStatuses: StatusRanges;
    /** Body blocks that must appear in order (fuzzy), within the first responseBufferSize bytes. */
    readonly receive: readonly Buffer[];
    readonly responseBufferSize: number;
  }
  | { readonly kind: 'tcp'; readonly send: Buffer | undefined; readonly receive: readonly Buffer[] }
  | { readonly kind: 'grpc'; readonly serviceName: string; readonly authority: string; readonly metadata: readonly (readonly [string, string])[] };

export interface HealthCheckSpec {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly initialJitterMs: number;
  readonly intervalJitterMs: number;
  readonly intervalJitterPercent: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly noTrafficIntervalMs: number;
  readonly noTrafficHealthyIntervalMs: number;
  readonly unhealthyIntervalMs: number;
  readonly unhealthyEdgeIntervalMs: number;
  readonly healthyEdgeIntervalMs: number;
  readonly reuseConnection: boolean;
  /** alt_port: checks go to this port instead of the host's. */
  readonly altPort: number | undefined;
  readonly probe: ProbeSpec;
}

/** Envoy's default: only 200 is healthy. */
const DEFAULT_EXPECTED: StatusRanges = [[200, 201]];

const METHODS: Partial<Record<RequestMethod, string>> = {
  [RequestMethod.METHOD_UNSPECIFIED]: 'GET', [RequestMethod.GET]: 'GET', [RequestMethod.HEAD]: 'HEAD', [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT', [RequestMethod.DELETE]: 'DELETE', [RequestMethod.OPTIONS]: 'OPTIONS', [RequestMethod.TRACE]: 'TRACE',
  [RequestMethod.PATCH]: 'PATCH',
};

/** `path` is the cluster's, `clusterName` the default host / authority. */
export function compileHealthChecks(checks: readonly HealthCheck[], path: string, clusterName: string): HealthCheckSpec | undefined {
  if (checks.length === 0) return undefined;
  if (checks.length > 1) throw new ConfigError(`${path}.health_checks`, `only one health check per cluster is supported, got ${checks.length}`);
  return compileHealthCheck(checks[0]!, `${path}.health_checks[0]`, clusterName);
}

export function compileHealthCheck(hc: HealthCheck, path: string, clusterName: string): HealthCheckSpec {
  const required = (v: number | undefined, field: string): number => {
    if (v === undefined) throw new ConfigError(`${path}.${field}`, 'required');
    if (v <= 0) throw new ConfigError(`${path}.${field}`, 'must be > 0');
    return v;
  };
  const optionalMs = (v: number | undefined, field: string, dflt: number, min = 1): number => {
    if (v === undefined) return dflt;
    if (v < min) throw new ConfigError(`${path}.${field}`, min > 0 ? 'must be > 0' : 'must be >= 0');
    return v;
  };
  const timeoutMs = required(durationMs(hc.timeout), 'timeout');
  const intervalMs = required(durationMs(hc.interval), 'interval');
  if (hc.unhealthyThreshold === undefined) throw new ConfigError(`${path}.unhealthy_threshold`, 'required');
  if (hc.healthyThreshold === undefined) throw new ConfigError(`${path}.healthy_threshold`, 'required');
  const noTrafficIntervalMs = optionalMs(durationMs(hc.noTrafficInterval), 'no_traffic_interval', 60_000);
  const unhealthyIntervalMs = optionalMs(durationMs(hc.unhealthyInterval), 'unhealthy_interval', intervalMs);
  if (hc.altPort !== undefined && (hc.altPort < 1 || hc.altPort > 65535)) throw new ConfigError(`${path}.alt_port`, `expected 1-65535, got ${hc.altPort}`);
  return {
    timeoutMs,
    intervalMs,
    initialJitterMs: optionalMs(durationMs(hc.initialJitter), 'initial_jitter', 0, 0),
    intervalJitterMs: optionalMs(durationMs(hc.intervalJitter), 'interval_jitter', 0, 0),
    intervalJitterPercent: hc.intervalJitterPercent,
    // Envoy treats a threshold of 0 like 1 (the first result already reaches it).
    unhealthyThreshold: Math.max(1, hc.unhealthyThreshold),
    healthyThreshold: Math.max(1, hc.healthyThreshold),
    noTrafficIntervalMs,
    noTrafficHealthyIntervalMs: optionalMs(durationMs(hc.noTrafficHealthyInterval), 'no_traffic_healthy_interval', noTrafficIntervalMs),
    unhealthyIntervalMs,
    unhealthyEdgeIntervalMs: optionalMs(durationMs(hc.unhealthyEdgeInterval), 'unhealthy_edge_interval', unhealthyIntervalMs),
    healthyEdgeIntervalMs: optionalMs(durationMs(hc.healthyEdgeInterval), 'healthy_edge_interval', intervalMs),
    reuseConnection: hc.reuseConnection ?? true,
    altPort: hc.altPort,
    probe: compileProbe(hc, path, clusterName),
  };
}

function compileProbe(hc: HealthCheck, path: string, clusterName: string): ProbeSpec {
  const c = hc.healthChecker;
  switch (c.case) {
    case 'httpHealthCheck': {
      const h = c.value;
      const p = `${path}.http_health_check`;
      if (!h.path) throw new ConfigError(`${p}.path`, 'required');
      if (!h.path.startsWith('/') || /[\0\r\n ]/.test(h.path)) throw new ConfigError(`${p}.path`, `not a valid request path: ${JSON.stringify(h.path)}`);
      if (/[\0\r\n]/.test(h.host)) throw new ConfigError(`${p}.host`, 'must not contain NUL, CR or LF');
      const method = METHODS[h.method];
      if (!method) throw new ConfigError(`${p}.method`, `${RequestMethod[h.method] ?? h.method} is not allowed for health checks`);
      if (h.codecClientType !== CodecClientType.HTTP1 && h.codecClientType !== CodecClientType.HTTP2) {
        throw new ConfigError(`${p}.codec_client_type`, `${CodecClientType[h.codecClientType] ?? h.codecClientType} is not supported (HTTP1, HTTP2)`);
      }
      return {
        kind: 'http',
        method,
        path: h.path,
        authority: h.host || clusterName,
        http2: h.codecClientType === CodecClientType.HTTP2,
        headers: compileHeaderMutation(h.requestHeadersToAdd, h.requestHeadersToRemove, p, 'request'),
        expectedStatuses: h.expectedStatuses.length ? statusRanges(h.expectedStatuses, `${p}.expected_statuses`) : DEFAULT_EXPECTED,
        retriableStatuses: statusRanges(h.retriableStatuses, `${p}.retriable_statuses`),
        receive: h.receive.map((r, i) => payload(r, `${p}.receive[${i}]`)),
        responseBufferSize: Number(h.responseBufferSize ?? 1024n),
      };
    }
    case 'tcpHealthCheck': {
      const t = c.value;
      const p = `${path}.tcp_health_check`;
      const send = t.send ? payload(t.send, `${p}.send`) : undefined;
      return { kind: 'tcp', send: send && send.length > 0 ? send : undefined, receive: t.receive.map((r, i) => payload(r, `${p}.receive[${i}]`)) };
    }
    case 'grpcHealthCheck': {
      const g = c.value;
      const p = `${path}.grpc_health_check`;
      if (/[\0\r\n]/.test(g.authority)) throw new ConfigError(`${p}.authority`, 'must not contain NUL, CR or LF');
      return {
        kind: 'grpc',
        serviceName: g.serviceName,
        authority: g.authority || clusterName,
        metadata: g.initialMetadata.map((o, i) => {
          const q = `${p}.initial_metadata[${i}].header`;
          if (!o.header) throw new ConfigError(q, 'required');
          const name = o.header.key.toLowerCase();
          if (!/^[a-z0-9_.-]+$/.test(name) || name.startsWith('grpc-')) throw new ConfigError(`${q}.key`, `not a valid gRPC metadata key: ${JSON.stringify(o.header.key)}`);
          if (/[\0\r\n]/.test(o.header.value)) throw new ConfigError(`${q}.value`, 'must not contain NUL, CR or LF');
          return [name, o.header.value] as const;
        }),
      };
    }
    default:
      throw new ConfigError(`${path}.health_checker`, 'one of http_health_check, tcp_health_check, grpc_health_check is required');
  }
}

function statusRanges(ranges: readonly Int64Range[], path: string): StatusRanges {
  return ranges.map((r, i) => {
    const start = Number(r.start), end = Number(r.end);
    if (start < 100 || start >= 600) throw new ConfigError(`${path}[${i}].start`, `must be in [100, 600), got ${start}`);
    if (end <= start || end > 600) throw new ConfigError(`${path}[${i}].end`, `must be in (start, 600], got ${end}`);
    return [start, end] as const;
  });
}

function payload(p: HealthCheck_Payload, path: string): Buffer {
  return decodePayload(p, path);
}

/** Whether `status` is in one of the half-open ranges. */
export function inRanges(status: number, ranges: StatusRanges): boolean {
  for (const [start, end] of ranges) if (status >= start && status < end) return true;
  return false;
}
