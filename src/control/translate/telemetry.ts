/**
 * Telemetry resources and MeshConfig's telemetry settings for one proxy, as Istio resolves them
 * (pilot/pkg/model/telemetry.go): the root namespace's Telemetry without a selector, then the
 * proxy namespace's, then one selecting the workload, each level overriding what it sets; per
 * direction (inbound = SERVER, outbound = CLIENT). The result is what every connection manager
 * of that direction carries: access logs (with their filter) and the `tracing` block, plus the
 * collector clusters the tracers name. Pure.
 */
import { create, type JsonObject } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { AccessLogSchema, AccessLogFilterSchema, ComparisonFilter_Op, type AccessLog, type AccessLogFilter } from '../../envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { FileAccessLogSchema } from '../../envoy/generated/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { SubstitutionFormatStringSchema } from '../../envoy/generated/envoy/config/core/v3/substitution_format_string_pb.js';
import { HttpConnectionManager_TracingSchema, type HttpConnectionManager_Tracing } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { Tracing_HttpSchema } from '../../envoy/generated/envoy/config/trace/v3/http_tracer_pb.js';
import { OpenTelemetryConfigSchema } from '../../envoy/generated/envoy/config/trace/v3/opentelemetry_pb.js';
import { ZipkinConfigSchema, ZipkinConfig_CollectorEndpointVersion } from '../../envoy/generated/envoy/config/trace/v3/zipkin_pb.js';
import { CustomTagSchema, type CustomTag } from '../../envoy/generated/envoy/type/tracing/v3/custom_tag_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_DnsLookupFamily, type Cluster } from '../../envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { LocalityLbEndpointsSchema, LbEndpointSchema, EndpointSchema } from '../../envoy/generated/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { AddressSchema, SocketAddressSchema } from '../../envoy/generated/envoy/config/core/v3/address_pb.js';
import { isIP } from 'node:net';
import type { ExtensionProvider, MeshConfigSpec, Telemetry, TelemetryAccessLogging, TelemetryCustomTag, TelemetryTracing, WorkloadMode } from '../config/kinds.js';
import { parseAccessLogExpression, type CodeExpr } from '../config/access-log-expression.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { byCreation, selects } from '../registry/labels.js';
import type { MeshIndex } from './mesh-index.js';
import { duration, seconds } from './duration.js';
import { outboundCluster } from './names.js';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from './access-log-formats.js';

/** Istio's default root namespace: its Telemetry resources without a selector apply mesh-wide. */
export const ROOT_NAMESPACE = 'istio-system';

/** What the connection managers (and tcp_proxies) of one direction carry. */
export interface DirectionTelemetry {
  readonly accessLog: readonly AccessLog[];
  readonly tracing: HttpConnectionManager_Tracing | undefined;
}

export interface ProxyTelemetry {
  readonly inbound: DirectionTelemetry;
  readonly outbound: DirectionTelemetry;
  /** Collector clusters the tracers name that are not service clusters of the registry. */
  readonly clusters: readonly Cluster[];
}

type Direction = 'inbound' | 'outbound';

export function proxyTelemetry(index: MeshIndex, proxy: ProxyIdentity): ProxyTelemetry {
  const mesh = index.mesh.config.mesh;
  const levels = applicable(index.mesh.config.telemetries ?? [], proxy);
  const clusters = new Map<string, Cluster>();
  const direction = (dir: Direction): DirectionTelemetry => ({
    accessLog: accessLogsFor(mesh, levels, dir),
    tracing: tracingFor(mesh, levels, dir, index, clusters),
  });
  const inbound = direction('inbound');
  const outbound = direction('outbound');
  return { inbound, outbound, clusters: [...clusters.values()] };
}

/** Root-namespace, namespace and workload Telemetry, least specific first (the oldest at each level). */
function applicable(all: readonly Telemetry[], proxy: ProxyIdentity): Telemetry[] {
  const sorted = [...all].sort(byCreation);
  const root = sorted.find((t) => t.metadata.namespace === ROOT_NAMESPACE && !t.spec.selector);
  const ns = proxy.namespace === ROOT_NAMESPACE ? undefined : sorted.find((t) => t.metadata.namespace === proxy.namespace && !t.spec.selector);
  const workload = sorted.find((t) => t.metadata.namespace === proxy.namespace && t.spec.selector && selects(t.spec.selector.matchLabels ?? {}, proxy.labels));
  return [root, ns, workload].filter((t): t is Telemetry => t !== undefined);
}

function appliesTo(mode: WorkloadMode | undefined, dir: Direction): boolean {
  return mode === undefined || mode === 'CLIENT_AND_SERVER' || (mode === 'CLIENT') === (dir === 'outbound');
}

// --- tracing ---

function tracingFor(mesh: MeshConfigSpec, levels: readonly Telemetry[], dir: Direction, index: MeshIndex, clusters: Map<string, Cluster>): HttpConnectionManager_Tracing | undefined {
  let providers = mesh.enableTracing === false ? [] : mesh.defaultProviders?.tracing ?? [];
  let sampling = mesh.defaultConfig?.tracing?.sampling ?? 1;
  let disabled = false;
  let tags: Record<string, TelemetryCustomTag> = {};
  for (const t of levels) {
    for (const tr of t.spec.tracing ?? ([] as TelemetryTracing[])) {
      if (!appliesTo(tr.match?.mode, dir)) continue;
      if (tr.providers !== undefined) providers = tr.providers.map((p) => p.name);
      if (tr.randomSamplingPercentage !== undefined) sampling = tr.randomSamplingPercentage;
      if (tr.disableSpanReporting !== undefined) disabled = tr.disableSpanReporting;
      if (tr.customTags) tags = { ...tags, ...tr.customTags };
    }
  }
  // A provider no MeshConfig defines is left out (the analyzer reports it), as Istio does.
  const provider = (mesh.extensionProviders ?? []).find((p) => p.name === providers[0] && (p.opentelemetry || p.zipkin));
  if (disabled || !provider) return undefined;
  const http = create(Tracing_HttpSchema, { name: provider.opentelemetry ? 'envoy.tracers.opentelemetry' : 'envoy.tracers.zipkin', configType: { case: 'typedConfig', value: tracerConfig(provider, index, clusters) } });
  return create(HttpConnectionManager_TracingSchema, {
    clientSampling: { value: 100 },
    randomSampling: { value: sampling },
    overallSampling: { value: 100 },
    customTags: Object.keys(tags).sort().map((k) => customTag(k, tags[k]!)),
    provider: http,
    ...(provider.zipkin?.maxTagLength ? { maxPathTagLength: provider.zipkin.maxTagLength } : {}),
  });
}

/** The provider's config; service_name stays empty so each proxy reports under its node cluster (`app.namespace`). */
function tracerConfig(p: ExtensionProvider, index: MeshIndex, clusters: Map<string, Cluster>) {
  const o = p.opentelemetry;
  if (o) {
    const cluster = collectorCluster(o.service, o.port, index, clusters);
    const path = o.http?.path || '/v1/traces';
    return anyPack(OpenTelemetryConfigSchema, create(OpenTelemetryConfigSchema, {
      httpService: {
        httpUri: { uri: `http://${o.service}:${o.port}${path}`, httpUpstreamType: { case: 'cluster', value: cluster }, timeout: o.http?.timeout ? duration(o.http.timeout) : seconds(5) },
        requestHeadersToAdd: (o.http?.headers ?? []).map((h) => ({ header: { key: h.name, value: h.value } })),
      },
    }));
  }
  const z = p.zipkin!;
  return anyPack(ZipkinConfigSchema, create(ZipkinConfigSchema, {
    collectorCluster: collectorCluster(z.service, z.port, index, clusters),
    collectorEndpoint: z.path || '/api/v2/spans',
    collectorEndpointVersion: ZipkinConfig_CollectorEndpointVersion.HTTP_JSON,
    traceId128bit: !z.enable64bitTraceId,
    // Istio turns shared span contexts off: client and server side of a hop are two spans.
    sharedSpanContext: false,
  }));
}

function customTag(tag: string, t: TelemetryCustomTag): CustomTag {
  if (t.literal) return create(CustomTagSchema, { tag, type: { case: 'literal', value: { value: t.literal.value } } });
  if (t.environment) return create(CustomTagSchema, { tag, type: { case: 'environment', value: { name: t.environment.name, defaultValue: t.environment.defaultValue ?? '' } } });
  return create(CustomTagSchema, { tag, type: { case: 'requestHeader', value: { name: t.header!.name, defaultValue: t.header!.defaultValue ?? '' } } });
}

/**
 * The cluster a collector is reached through: the service's own outbound cluster when the
 * registry has it on that port, else one made for it (DNS, or STATIC for an IP).
 */
function collectorCluster(host: string, port: number, index: MeshIndex, clusters: Map<string, Cluster>): string {
  const name = outboundCluster(port, '', host);
  if (index.service(host)?.ports.some((p) => p.number === port)) return name;
  if (!clusters.has(name)) {
    const ip = isIP(host) !== 0;
    clusters.set(name, create(ClusterSchema, {
      name,
      connectTimeout: seconds(10),
      clusterDiscoveryType: { case: 'type', value: ip ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
      ...(ip ? {} : { dnsLookupFamily: Cluster_DnsLookupFamily.V4_ONLY }),
      loadAssignment: create(ClusterLoadAssignmentSchema, {
        clusterName: name,
        endpoints: [create(LocalityLbEndpointsSchema, { lbEndpoints: [create(LbEndpointSchema, { hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { address: create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address: host, portSpecifier: { case: 'portValue', value: port } }) } }) }) } })] })],
      }),
    }));
  }
  return name;
}

// --- access logs ---

function accessLogsFor(mesh: MeshConfigSpec, levels: readonly Telemetry[], dir: Direction): AccessLog[] {
  const defaults = mesh.defaultProviders?.accessLogging ?? (mesh.accessLogFile ? ['envoy'] : []);
  let providers = defaults;
  let disabled = false;
  let filter: string | undefined;
  for (const t of levels) {
    for (const a of t.spec.accessLogging ?? ([] as TelemetryAccessLogging[])) {
      if (!appliesTo(a.match?.mode, dir)) continue;
      if (a.providers !== undefined) providers = a.providers.map((p) => p.name);
      else if (providers.length === 0) providers = ['envoy']; // Istio: with no provider anywhere, the built-in one
      if (a.disabled !== undefined) disabled = a.disabled;
      if (a.filter) filter = a.filter.expression;
    }
  }
  if (disabled) return [];
  const f = filter !== undefined ? envoyFilter(filter) : undefined;
  const out: AccessLog[] = [];
  for (const name of providers) {
    const file = fileLogger(name, mesh);
    if (file) out.push(create(AccessLogSchema, { name: 'envoy.access_loggers.file', ...(f ? { filter: f } : {}), configType: { case: 'typedConfig', value: file } }));
  }
  return out;
}

/** `envoy` (built in: MeshConfig accessLogFile / Encoding / Format) or an envoyFileAccessLog provider. */
function fileLogger(name: string, mesh: MeshConfigSpec) {
  if (name === 'envoy') {
    const path = mesh.accessLogFile || '/dev/stdout';
    if (mesh.accessLogEncoding === 'JSON') return fileAccessLog(path, undefined, mesh.accessLogFormat ? (JSON.parse(mesh.accessLogFormat) as Record<string, string>) : ISTIO_JSON_FORMAT);
    return fileAccessLog(path, mesh.accessLogFormat ? withNewline(mesh.accessLogFormat) : ISTIO_TEXT_FORMAT, undefined);
  }
  const p = (mesh.extensionProviders ?? []).find((x) => x.name === name)?.envoyFileAccessLog;
  if (!p) return undefined;
  if (p.logFormat?.labels) return fileAccessLog(p.path, undefined, p.logFormat.labels);
  return fileAccessLog(p.path, p.logFormat?.text ? withNewline(p.logFormat.text) : ISTIO_TEXT_FORMAT, undefined);
}

function fileAccessLog(path: string, text: string | undefined, json: Readonly<Record<string, string>> | undefined) {
  const logFormat = json
    ? create(SubstitutionFormatStringSchema, { format: { case: 'jsonFormat', value: { ...json } as JsonObject } })
    : create(SubstitutionFormatStringSchema, { format: { case: 'textFormatSource', value: { specifier: { case: 'inlineString', value: text! } } } });
  return anyPack(FileAccessLogSchema, create(FileAccessLogSchema, { path, accessLogFormat: { case: 'logFormat', value: logFormat } }));
}

function withNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** A validated expression as Envoy's status_code / and / or filters. */
function envoyFilter(expression: string): AccessLogFilter {
  const r = parseAccessLogExpression(expression);
  if ('error' in r) throw new Error(r.error);
  return toFilter(r.expr);
}

function toFilter(e: CodeExpr): AccessLogFilter {
  switch (e.kind) {
    case 'cmp': {
      const op = e.op === 'EQ' ? ComparisonFilter_Op.EQ : e.op === 'GE' ? ComparisonFilter_Op.GE : ComparisonFilter_Op.LE;
      return create(AccessLogFilterSchema, { filterSpecifier: { case: 'statusCodeFilter', value: { comparison: { op, value: { defaultValue: e.value, runtimeKey: 'access_log.status_code' } } } } });
    }
    // `response.code < 0`: never true; said as a code above any real one.
    case 'const': return toFilter(e.value ? { kind: 'cmp', op: 'GE', value: 0 } : { kind: 'cmp', op: 'GE', value: 1000 });
    case 'and': return create(AccessLogFilterSchema, { filterSpecifier: { case: 'andFilter', value: { filters: e.parts.map(toFilter) } } });
    case 'or': return create(AccessLogFilterSchema, { filterSpecifier: { case: 'orFilter', value: { filters: e.parts.map(toFilter) } } });
  }
}
