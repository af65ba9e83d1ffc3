import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import {
  HttpConnectionManagerSchema, HttpFilterSchema, RdsSchema, type HttpConnectionManager, type HttpFilter,
} from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema, TcpProxy_WeightedClusterSchema, TcpProxy_WeightedCluster_ClusterWeightSchema } from '../../envoy/generated/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { FilterSchema, type Filter } from '../../envoy/generated/envoy/config/listener/v3/listener_components_pb.js';
import { ConfigSourceSchema, AggregatedConfigSourceSchema, ApiVersion } from '../../envoy/generated/envoy/config/core/v3/config_source_pb.js';
import { RouterSchema } from '../../envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HTTPFaultSchema } from '../../envoy/generated/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsSchema } from '../../envoy/generated/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import type { RouteConfiguration } from '../../envoy/generated/envoy/config/route/v3/route_pb.js';
import { AccessLogSchema, type AccessLog } from '../../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { FileAccessLogSchema } from '../../envoy/generated/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { CORS_FILTER, FAULT_FILTER } from './route-policies.js';
import type { DirectionTelemetry } from './telemetry.js';

export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY_FILTER = 'envoy.filters.network.tcp_proxy';
export const ROUTER_FILTER = 'envoy.filters.http.router';

function httpFilter(name: string, config: Any): HttpFilter {
  return create(HttpFilterSchema, { name, configType: { case: 'typedConfig', value: config } });
}

/** Istio's outbound HTTP filters: fault and cors (configured per route), then the router. */
export function outboundHttpFilters(): HttpFilter[] {
  return [
    httpFilter(FAULT_FILTER, anyPack(HTTPFaultSchema, create(HTTPFaultSchema))),
    httpFilter(CORS_FILTER, anyPack(CorsSchema, create(CorsSchema))),
    httpFilter(ROUTER_FILTER, anyPack(RouterSchema, create(RouterSchema))),
  ];
}

/** What proxyless gRPC accepts: fault (client-side fault injection), then the router. */
export function grpcHttpFilters(): HttpFilter[] {
  return [
    httpFilter(FAULT_FILTER, anyPack(HTTPFaultSchema, create(HTTPFaultSchema))),
    httpFilter(ROUTER_FILTER, anyPack(RouterSchema, create(RouterSchema))),
  ];
}

export function routerOnly(): HttpFilter[] {
  return [httpFilter(ROUTER_FILTER, anyPack(RouterSchema, create(RouterSchema)))];
}

/** A plain file access log in Envoy's default format (for tools; the mesh's come from telemetry.ts). */
export function accessLogs(file: string | undefined): AccessLog[] {
  if (!file) return [];
  return [create(AccessLogSchema, { name: 'envoy.access_loggers.file', configType: { case: 'typedConfig', value: anyPack(FileAccessLogSchema, create(FileAccessLogSchema, { path: file })) } })];
}

/** An HCM whose routes come over ADS under `routeConfigName`; `telemetry`: its access logs and tracing (telemetry.ts). */
export function rdsHcm(statPrefix: string, routeConfigName: string, httpFilters: HttpFilter[], telemetry?: DirectionTelemetry): HttpConnectionManager {
  return create(HttpConnectionManagerSchema, {
    statPrefix,
    accessLog: [...(telemetry?.accessLog ?? [])],
    ...(telemetry?.tracing ? { tracing: telemetry.tracing } : {}),
    routeSpecifier: {
      case: 'rds',
      value: create(RdsSchema, {
        routeConfigName,
        configSource: create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema) }, resourceApiVersion: ApiVersion.V3 }),
      }),
    },
    httpFilters,
  });
}

export function inlineHcm(statPrefix: string, routeConfig: RouteConfiguration, httpFilters: HttpFilter[], telemetry?: DirectionTelemetry): HttpConnectionManager {
  return create(HttpConnectionManagerSchema, {
    statPrefix, routeSpecifier: { case: 'routeConfig', value: routeConfig }, httpFilters, accessLog: [...(telemetry?.accessLog ?? [])],
    ...(telemetry?.tracing ? { tracing: telemetry.tracing } : {}),
  });
}

export function hcmFilter(hcm: HttpConnectionManager): Filter {
  return create(FilterSchema, { name: HCM_FILTER, configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } });
}

/** tcp_proxy to one cluster, or split by weight. */
export function tcpProxyFilter(statPrefix: string, clusters: readonly { name: string; weight: number }[], telemetry?: DirectionTelemetry): Filter {
  const tp = create(TcpProxySchema, { statPrefix, accessLog: [...(telemetry?.accessLog ?? [])] });
  if (clusters.length === 1) tp.clusterSpecifier = { case: 'cluster', value: clusters[0]!.name };
  else {
    tp.clusterSpecifier = {
      case: 'weightedClusters',
      value: create(TcpProxy_WeightedClusterSchema, { clusters: clusters.map((c) => create(TcpProxy_WeightedCluster_ClusterWeightSchema, { name: c.name, weight: c.weight })) }),
    };
  }
  return create(FilterSchema, { name: TCP_PROXY_FILTER, configType: { case: 'typedConfig', value: anyPack(TcpProxySchema, tp) } });
}
