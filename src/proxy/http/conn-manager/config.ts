import { HttpConnectionManager_CodecType, HttpConnectionManager_ForwardClientCertDetails, type HttpConnectionManager } from '../../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { durationMs } from '../../../envoy/duration.js';
import { ConfigError } from '../../../envoy/registry.js';
import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { compileRouteConfig } from '../route/compile.js';
import type { RouteTable } from '../route/route-table.js';
import { compileHttpFilters, type HttpFilterConfig } from '../filters/registry.js';
import { compileAccessLogs, type AccessLogger } from '../../access-log.js';
import { compileTracing, type TracingConfig } from '../../tracing/config.js';
import type { ClientCertDetails, ForwardClientCert } from './xfcc.js';

/** An HttpConnectionManager, validated and compiled once; shared read-only by its connections. */
export interface HcmConfig {
  readonly statPrefix: string;
  readonly codec: 'AUTO' | 'HTTP1' | 'HTTP2';
  /** The inline route_config; with RDS an empty table (the runtime's RouteSource has the live one). */
  readonly routes: RouteTable;
  /** `rds.route_config_name` when routes come from RDS (over ADS). */
  readonly rds: string | undefined;
  readonly filters: readonly HttpFilterConfig[];
  readonly serverName: string;
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  readonly skipXffAppend: boolean;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly alwaysSetRequestIdInResponse: boolean;
  readonly maxRequestHeadersBytes: number;
  readonly maxHeadersCount: number;
  /** Connection idle timeout (no active streams), Envoy default 1 h. 0 = none. */
  readonly idleTimeoutMs: number;
  /** Time allowed for the whole request head to arrive; 0 = none (Envoy default). */
  readonly requestHeadersTimeoutMs: number;
  /** Whole-request timeout from the first byte to the end of the body; 0 = none. */
  readonly requestTimeoutMs: number;
  /** Per-stream idle timeout, Envoy default 5 min. */
  readonly streamIdleTimeoutMs: number;
  /** The shortest idle timeout a stream can have (routes may set their own): the codecs' timer tick. */
  readonly idleTickMs: number;
  /** common_http_protocol_options.max_stream_duration; 0 = none. */
  readonly maxStreamDurationMs: number;
  readonly upgrades: ReadonlySet<string>;
  readonly accessLogs: readonly AccessLogger[];
  readonly via: string;
  /**
   * `strip_matching_host_port` / `strip_any_host_port`: drop the port from the authority
   * (when it is the connection's local port / always) before filters and routing see it.
   */
  readonly stripPort: 'none' | 'matching' | 'any';
  /** `tracing` with a provider; undefined: no spans, no trace headers. */
  readonly tracing: TracingConfig | undefined;
  /** forward_client_cert_details (x-forwarded-client-cert), default SANITIZE. */
  readonly forwardClientCert: ForwardClientCert;
  /** set_current_client_cert_details, for APPEND_FORWARD and SANITIZE_SET. */
  readonly clientCertDetails: ClientCertDetails;
}

/** `operation`: the listener's traffic_direction as Envoy's tracing sees it (OUTBOUND = egress). */
export function compileHcm(h: HttpConnectionManager, path: string, operation: 'ingress' | 'egress' = 'ingress'): HcmConfig {
  if (!h.statPrefix) throw new ConfigError(`${path}.stat_prefix`, 'required');
  const codec = h.codecType === HttpConnectionManager_CodecType.AUTO ? 'AUTO' : h.codecType === HttpConnectionManager_CodecType.HTTP1 ? 'HTTP1' : h.codecType === HttpConnectionManager_CodecType.HTTP2 ? 'HTTP2' : undefined;
  if (!codec) throw new ConfigError(`${path}.codec_type`, 'HTTP3 is not supported');
  let rds: string | undefined;
  let routes: RouteTable;
  if (h.routeSpecifier.case === 'rds') {
    const r = h.routeSpecifier.value;
    if (r.configSource?.configSourceSpecifier.case !== 'ads') throw new ConfigError(`${path}.rds.config_source`, 'config_source: { ads: {} } is required (only ADS is supported)');
    if (!r.routeConfigName) throw new ConfigError(`${path}.rds.route_config_name`, 'required');
    rds = r.routeConfigName;
    routes = compileRouteConfig(create(RouteConfigurationSchema, { name: rds }));
  } else if (h.routeSpecifier.case === 'routeConfig') {
    routes = compileRouteConfig(h.routeSpecifier.value, `${path}.route_config`);
  } else {
    throw new ConfigError(`${path}.route_specifier`, h.routeSpecifier.case ? `${h.routeSpecifier.case} is not supported: use route_config or rds` : 'route_config or rds is required');
  }
  const kb = h.maxRequestHeadersKb ?? 60;
  if (kb < 1 || kb > 8192) throw new ConfigError(`${path}.max_request_headers_kb`, `expected 1-8192, got ${kb}`);
  const upgrades = new Set<string>();
  h.upgradeConfigs.forEach((u, i) => {
    if (u.filters.length) throw new ConfigError(`${path}.upgrade_configs[${i}].filters`, 'per-upgrade filter chains are not supported');
    if (u.enabled?.valueOf() !== false) upgrades.add(u.upgradeType.toLowerCase());
  });
  if (h.stripMatchingHostPort && h.stripPortMode.case === 'stripAnyHostPort' && h.stripPortMode.value) {
    throw new ConfigError(`${path}.strip_any_host_port`, 'strip_matching_host_port and strip_any_host_port are mutually exclusive');
  }
  const idleTimeoutMs = durationMs(h.commonHttpProtocolOptions?.idleTimeout) ?? 3600_000;
  // The protocol-options messages are shared with clusters, which implement these; downstream does not yet.
  if (h.commonHttpProtocolOptions?.maxRequestsPerConnection !== undefined) throw new ConfigError(`${path}.common_http_protocol_options.max_requests_per_connection`, 'not supported by tsmesh on the downstream side');
  if (h.commonHttpProtocolOptions?.maxConnectionDuration) throw new ConfigError(`${path}.common_http_protocol_options.max_connection_duration`, 'not supported by tsmesh on the downstream side');
  if (h.http2ProtocolOptions?.maxConcurrentStreams !== undefined) throw new ConfigError(`${path}.http2_protocol_options.max_concurrent_streams`, 'not supported by tsmesh on the downstream side');
  const streamIdleTimeoutMs = durationMs(h.streamIdleTimeout) ?? 300_000;
  const forwardClientCert = HttpConnectionManager_ForwardClientCertDetails[h.forwardClientCertDetails] as ForwardClientCert | undefined;
  if (!forwardClientCert) throw new ConfigError(`${path}.forward_client_cert_details`, `unknown value ${h.forwardClientCertDetails}`);
  const d = h.setCurrentClientCertDetails;
  return {
    statPrefix: h.statPrefix,
    codec,
    routes,
    rds,
    filters: compileHttpFilters(h.httpFilters, `${path}.http_filters`),
    serverName: h.serverName || 'envoy',
    useRemoteAddress: h.useRemoteAddress ?? false,
    xffNumTrustedHops: h.xffNumTrustedHops,
    skipXffAppend: h.skipXffAppend,
    generateRequestId: h.generateRequestId ?? true,
    preserveExternalRequestId: h.preserveExternalRequestId,
    alwaysSetRequestIdInResponse: h.alwaysSetRequestIdInResponse,
    maxRequestHeadersBytes: kb * 1024,
    maxHeadersCount: h.commonHttpProtocolOptions?.maxHeadersCount ?? 100,
    idleTimeoutMs,
    requestHeadersTimeoutMs: durationMs(h.requestHeadersTimeout) ?? 0,
    requestTimeoutMs: durationMs(h.requestTimeout) ?? 0,
    streamIdleTimeoutMs,
    // RDS tables change at run time: their route idle_timeouts are honoured to the second.
    idleTickMs: Math.min(idleTimeoutMs || Infinity, streamIdleTimeoutMs || Infinity, ...(rds ? [1000] : routeIdleTimeouts(routes))),
    maxStreamDurationMs: durationMs(h.commonHttpProtocolOptions?.maxStreamDuration) ?? 0,
    upgrades,
    accessLogs: compileAccessLogs(h.accessLog, `${path}.access_log`),
    via: h.via,
    forwardClientCert,
    clientCertDetails: { subject: d?.subject ?? false, cert: d?.cert ?? false, chain: d?.chain ?? false, dns: d?.dns ?? false, uri: d?.uri ?? false },
    stripPort: h.stripPortMode.case === 'stripAnyHostPort' && h.stripPortMode.value ? 'any' : h.stripMatchingHostPort ? 'matching' : 'none',
    tracing: h.tracing ? compileTracing(h.tracing, `${path}.tracing`, operation) : undefined,
  };
}

/** Every route-level idle_timeout that is set and not 0. */
function routeIdleTimeouts(t: RouteTable): number[] {
  const out: number[] = [];
  for (const vh of t.virtualHosts) {
    for (const r of vh.routes) if (r.action.kind === 'forward' && r.action.idleTimeoutMs) out.push(r.action.idleTimeoutMs);
  }
  return out;
}
