import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { HttpConnectionManager_TracingSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { Tracing_HttpSchema } from '../../../src/envoy/generated/envoy/config/trace/v3/http_tracer_pb.js';
import { OpenTelemetryConfigSchema } from '../../../src/envoy/generated/envoy/config/trace/v3/opentelemetry_pb.js';
import { ZipkinConfigSchema, ZipkinConfig_CollectorEndpointVersion } from '../../../src/envoy/generated/envoy/config/trace/v3/zipkin_pb.js';
import { RouterSchema } from '../../../src/envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import { compileTracing } from '../../../src/proxy/tracing/config.js';
import { loadTracing, OPENTELEMETRY_CONFIG, ZIPKIN_CONFIG } from '../../../src/proxy/tracing/load.js';
import { ConfigError } from '../../../src/envoy/registry.js';
import { runCli, writeTemp } from '../../support/proxy.js';

// The proxy loads the tracing code when a config first names a provider type (registryFor).
before(() => loadTracing([OPENTELEMETRY_CONFIG, ZIPKIN_CONFIG]));

const otel = (o: Parameters<typeof create<typeof OpenTelemetryConfigSchema>>[1]) => anyPack(OpenTelemetryConfigSchema, create(OpenTelemetryConfigSchema, o));
const zipkin = (o: Parameters<typeof create<typeof ZipkinConfigSchema>>[1]) => anyPack(ZipkinConfigSchema, create(ZipkinConfigSchema, o));
const tracing = (typedConfig: ReturnType<typeof otel>, extra: Parameters<typeof create<typeof HttpConnectionManager_TracingSchema>>[1] = {}) =>
  create(HttpConnectionManager_TracingSchema, { ...extra, provider: create(Tracing_HttpSchema, { name: 'p', configType: { case: 'typedConfig', value: typedConfig } }) });

test('tracing configs compile to providers with Envoy defaults', () => {
  const t = compileTracing(tracing(otel({ httpService: { httpUri: { uri: 'http://otel:4318/v1/traces', httpUpstreamType: { case: 'cluster', value: 'otel' } } } }), { randomSampling: { value: 1 } }), 'tracing', 'egress')!;
  assert.equal(t.operation, 'egress');
  assert.deepEqual(t.randomSampling, { numerator: 10_000, denominator: 1_000_000 });
  assert.deepEqual(t.clientSampling, { numerator: 1_000_000, denominator: 1_000_000 }, 'unset is 100%');
  assert.equal(t.maxPathTagLength, 256);
  assert.deepEqual(t.provider, { kind: 'opentelemetry', cluster: 'otel', path: '/v1/traces', authority: 'otel:4318', headers: [], timeoutMs: 5000, serviceName: '' });
  const z = compileTracing(tracing(zipkin({ collectorCluster: 'zipkin', collectorEndpoint: '/api/v2/spans', collectorEndpointVersion: ZipkinConfig_CollectorEndpointVersion.HTTP_JSON })), 't', 'ingress')!;
  assert.equal(z.provider.kind === 'zipkin' && z.provider.sharedSpanContext, true, 'shared_span_context defaults to true');
  assert.equal(compileTracing(create(HttpConnectionManager_TracingSchema, {}), 't', 'ingress'), undefined, 'no provider, no tracing');
});

test('bad tracing configs name the field', () => {
  const cases: [ReturnType<typeof tracing>, string][] = [
    [tracing(otel({ grpcService: {} })), 'tracing.provider.typed_config.grpc_service'],
    [tracing(otel({ httpService: { httpUri: { uri: 'http://x/v1/traces' } } })), 'tracing.provider.typed_config.http_service.http_uri.cluster'],
    [tracing(otel({ httpService: { httpUri: { uri: 'https://x/v1/traces', httpUpstreamType: { case: 'cluster', value: 'c' } } } })), 'tracing.provider.typed_config.http_service.http_uri.uri'],
    [tracing(zipkin({ collectorCluster: 'z', collectorEndpoint: '/api/v2/spans', collectorEndpointVersion: ZipkinConfig_CollectorEndpointVersion.GRPC })), 'tracing.provider.typed_config.collector_endpoint_version'],
    [tracing(zipkin({ collectorEndpoint: '/x', collectorEndpointVersion: ZipkinConfig_CollectorEndpointVersion.HTTP_JSON })), 'tracing.provider.typed_config.collector_cluster'],
    [tracing(anyPack(RouterSchema, create(RouterSchema, {}))), 'tracing.provider.typed_config'],
    [tracing(otel({ httpService: { httpUri: { uri: 'http://x/', httpUpstreamType: { case: 'cluster', value: 'c' } } } }), { randomSampling: { value: 101 } }), 'tracing.random_sampling.value'],
    [tracing(otel({ httpService: { httpUri: { uri: 'http://x/', httpUpstreamType: { case: 'cluster', value: 'c' } } } }), { customTags: [{ tag: 'm', type: { case: 'metadata', value: {} } }] }), 'tracing.custom_tags[0].metadata'],
  ];
  for (const [t, path] of cases) {
    assert.throws(() => compileTracing(t, 'tracing', 'ingress'), (e: unknown) => e instanceof ConfigError && e.path === path, path);
  }
});

test('the proxy refuses a tracing field it does not implement at start-up, naming it', async () => {
  const f = writeTemp('b.yaml', `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: x
          tracing:
            verbose: true
            provider: { name: z, typed_config: { "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: c, collector_endpoint: /api/v2/spans, collector_endpoint_version: HTTP_JSON } }
          route_config: {}
          http_filters: [ { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ]
`);
  const r = await runCli(['proxy', '-c', f]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /tracing\.verbose/);
});
