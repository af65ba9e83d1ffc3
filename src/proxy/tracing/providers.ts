/**
 * The two tracing providers' configs (envoy.tracers.opentelemetry: OpenTelemetryConfig over
 * http_service; envoy.tracers.zipkin: ZipkinConfig with HTTP_JSON), compiled. Loaded with the
 * rest of the tracing code when a config names one (load.ts). Pure.
 */
import type { Any } from '@bufbuild/protobuf/wkt';
import { OpenTelemetryConfigSchema } from '../../envoy/generated/envoy/config/trace/v3/opentelemetry_pb.js';
import { ZipkinConfigSchema, ZipkinConfig_CollectorEndpointVersion } from '../../envoy/generated/envoy/config/trace/v3/zipkin_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../envoy/registry.js';
import { durationMs } from '../../envoy/duration.js';
import type { TracingProvider } from './config.js';

/** `any`: the provider's typed_config, at `cp`. */
export function compileProvider(any: Any, cp: string): TracingProvider {
  if (any.typeUrl === typeUrlOf(OpenTelemetryConfigSchema)) {
    const c = unpackAs(any, OpenTelemetryConfigSchema, cp);
    if (c.grpcService) throw new ConfigError(`${cp}.grpc_service`, 'OTLP over gRPC is not supported: use http_service (OTLP/HTTP protobuf)');
    if (c.resourceDetectors.length > 0) throw new ConfigError(`${cp}.resource_detectors`, 'not supported');
    if (c.sampler) throw new ConfigError(`${cp}.sampler`, 'not supported: sampling follows the connection manager\'s tracing percentages');
    const hs = c.httpService;
    if (!hs?.httpUri) throw new ConfigError(`${cp}.http_service.http_uri`, 'required');
    const u = hs.httpUri;
    if (u.httpUpstreamType.case !== 'cluster' || !u.httpUpstreamType.value) throw new ConfigError(`${cp}.http_service.http_uri.cluster`, 'required');
    const { authority, path: uriPath } = splitUri(u.uri, `${cp}.http_service.http_uri.uri`);
    const headers = hs.requestHeadersToAdd.map((h, i) => {
      if (!h.header?.key) throw new ConfigError(`${cp}.http_service.request_headers_to_add[${i}].header.key`, 'required');
      return [h.header.key.toLowerCase(), h.header.value] as const;
    });
    return { kind: 'opentelemetry', cluster: u.httpUpstreamType.value, path: uriPath, authority, headers, timeoutMs: durationMs(u.timeout) ?? 5000, serviceName: c.serviceName };
  }
  if (any.typeUrl === typeUrlOf(ZipkinConfigSchema)) {
    const c = unpackAs(any, ZipkinConfigSchema, cp);
    if (!c.collectorCluster) throw new ConfigError(`${cp}.collector_cluster`, 'required');
    if (!c.collectorEndpoint) throw new ConfigError(`${cp}.collector_endpoint`, 'required');
    if (c.collectorEndpointVersion !== ZipkinConfig_CollectorEndpointVersion.HTTP_JSON) {
      throw new ConfigError(`${cp}.collector_endpoint_version`, `only HTTP_JSON is supported, got ${ZipkinConfig_CollectorEndpointVersion[c.collectorEndpointVersion] ?? c.collectorEndpointVersion}`);
    }
    if (c.splitSpansForRequest) throw new ConfigError(`${cp}.split_spans_for_request`, 'not supported');
    return {
      kind: 'zipkin', cluster: c.collectorCluster, path: c.collectorEndpoint, authority: c.collectorHostname || c.collectorCluster,
      traceId128: c.traceId128bit, sharedSpanContext: c.sharedSpanContext?.valueOf() ?? true, timeoutMs: 5000, serviceName: '',
    };
  }
  throw new ConfigError(cp, `unsupported tracer ${any.typeUrl || '(no @type)'}`);
}

function splitUri(uri: string, path: string): { authority: string; path: string } {
  let u: URL;
  try { u = new URL(uri); } catch { throw new ConfigError(path, `not a URI: ${JSON.stringify(uri)}`); }
  if (u.protocol !== 'http:') throw new ConfigError(path, `only http:// collectors are supported, got ${u.protocol}`);
  return { authority: u.host, path: (u.pathname || '/v1/traces') + u.search };
}
