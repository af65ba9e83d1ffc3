import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../../../src/control/config/validate.js';
import { formatIssue } from '../../../src/control/config/issues.js';
import { parseAccessLogExpression } from '../../../src/control/config/access-log-expression.js';

const tel = (spec: unknown) => ({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 't', namespace: 'prod' }, spec });
const mesh = (spec: unknown) => ({ apiVersion: 'tsmesh.io/v1', kind: 'MeshConfig', metadata: { name: 'mesh', namespace: 'istio-system' }, spec });
const messages = (value: unknown): string[] => validateResource({ value, origin: 'input' }).issues.map(formatIssue);

test('valid Telemetry and MeshConfig telemetry settings pass', () => {
  assert.deepEqual(messages(tel({
    selector: { matchLabels: { app: 'reviews' } },
    tracing: [{ match: { mode: 'CLIENT' }, providers: [{ name: 'otel' }], randomSamplingPercentage: 0.5, customTags: { team: { literal: { value: 'x' } }, user: { header: { name: 'x-user', defaultValue: '-' } }, pod: { environment: { name: 'POD' } } } }],
    accessLogging: [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 400 || (response.code < 200 && response.code != 0)' } }, { match: { mode: 'SERVER' }, disabled: true }],
    metrics: [{ providers: [{ name: 'prometheus' }] }],
  })), []);
  assert.deepEqual(messages(mesh({
    accessLogFile: '/dev/stdout', accessLogEncoding: 'JSON', accessLogFormat: '{"code":"%RESPONSE_CODE%"}', enableTracing: true,
    defaultConfig: { tracing: { sampling: 10 } },
    defaultProviders: { tracing: ['otel'], accessLogging: ['envoy'], metrics: ['prometheus'] },
    extensionProviders: [
      { name: 'otel', opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4318, http: { path: '/v1/traces', timeout: '2s', headers: [{ name: 'x-tenant', value: 'a' }] } } },
      { name: 'zipkin', zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411, enable64bitTraceId: true } },
      { name: 'file', envoyFileAccessLog: { path: '/tmp/a.log', logFormat: { labels: { code: '%RESPONSE_CODE%' } } } },
    ],
  })), []);
});

test('bad Telemetry and MeshConfig telemetry settings: resource, field path, reason', () => {
  const cases: [unknown, string[]][] = [
    [tel({ tracing: [{ providers: [{ name: 'a' }, { name: 'b' }], randomSamplingPercentage: 101 }] }), [
      'Telemetry prod/t: spec.tracing[0].providers: at most one tracing provider is supported, got 2',
      'Telemetry prod/t: spec.tracing[0].randomSamplingPercentage: expected a number 0-100, got 101',
    ]],
    [tel({ accessLogging: [{ filter: { expression: 'response.duration > 10' } }] }), [
      'Telemetry prod/t: spec.accessLogging[0].filter.expression: unsupported expression at "response.duration > ": only response.code compared with integers, &&, || and parentheses are supported',
    ]],
    [tel({ accessLogging: [{ filter: { expression: 'response.code >= ' } }] }), ['Telemetry prod/t: spec.accessLogging[0].filter.expression: expected an integer in "response.code >= "']],
    [tel({ targetRefs: [{ kind: 'Service', name: 'x' }], tracing: [{ match: { mode: 'BOTH' } }] }), [
      'Telemetry prod/t: spec.targetRefs: not supported by tsmesh',
      'Telemetry prod/t: spec.tracing[0].match.mode: expected one of CLIENT, SERVER, CLIENT_AND_SERVER, got "BOTH"',
    ]],
    [tel({ tracing: [{ customTags: { a: { literal: { value: 'x' }, header: { name: 'h' } } } }] }), ['Telemetry prod/t: spec.tracing[0].customTags.a: expected exactly one of literal, environment, header, got literal and header']],
    [tel({ metrics: [{ providers: [{ name: 'stackdriver' }] }] }), ['Telemetry prod/t: spec.metrics[0].providers[0].name: only "prometheus" is supported (the proxy\'s own Prometheus endpoint), got "stackdriver"']],
    [mesh({ extensionProviders: [{ name: 'otel', opentelemetry: { service: 'otel', port: 4317 } }] }), ['MeshConfig istio-system/mesh: spec.extensionProviders[0].opentelemetry.http: required: tsmesh exports OTLP over HTTP (protobuf) only, not gRPC']],
    [mesh({ extensionProviders: [{ name: 'x', datadog: { service: 'd', port: 1 } }, { name: 'x', zipkin: { service: 'z', port: 0 } }] }), [
      'MeshConfig istio-system/mesh: spec.extensionProviders[0].datadog: not supported by tsmesh',
      'MeshConfig istio-system/mesh: spec.extensionProviders[1].name: duplicate provider name "x"',
      'MeshConfig istio-system/mesh: spec.extensionProviders[1].zipkin.port: expected an integer 1-65535, got 0',
    ]],
    [mesh({ accessLogEncoding: 'XML', defaultConfig: { tracing: { sampling: -1 } } }), [
      'MeshConfig istio-system/mesh: spec.defaultConfig.tracing.sampling: expected a number 0-100, got -1',
      'MeshConfig istio-system/mesh: spec.accessLogEncoding: expected one of TEXT, JSON, got "XML"',
    ]],
    [mesh({ accessLogEncoding: 'JSON', accessLogFormat: '[%START_TIME%]' }), ['MeshConfig istio-system/mesh: spec.accessLogFormat: with accessLogEncoding JSON, expected a JSON object of format strings']],
  ];
  for (const [value, want] of cases) assert.deepEqual(messages(value), want, JSON.stringify(value));
});

test('access-log expressions become Envoy comparisons (EQ/GE/LE) with and/or', () => {
  const table: [string, unknown][] = [
    ['response.code >= 400', { kind: 'cmp', op: 'GE', value: 400 }],
    ['response.code > 499', { kind: 'cmp', op: 'GE', value: 500 }],
    ['response.code < 200', { kind: 'cmp', op: 'LE', value: 199 }],
    ['400 <= response.code', { kind: 'cmp', op: 'GE', value: 400 }],
    ['response.code != 200', { kind: 'or', parts: [{ kind: 'cmp', op: 'LE', value: 199 }, { kind: 'cmp', op: 'GE', value: 201 }] }],
    ['response.code >= 500 || response.code == 429', { kind: 'or', parts: [{ kind: 'cmp', op: 'GE', value: 500 }, { kind: 'cmp', op: 'EQ', value: 429 }] }],
    ['response.code >= 400 && response.code <= 499 || response.code == 0', { kind: 'or', parts: [{ kind: 'and', parts: [{ kind: 'cmp', op: 'GE', value: 400 }, { kind: 'cmp', op: 'LE', value: 499 }] }, { kind: 'cmp', op: 'EQ', value: 0 }] }],
    ['(response.code == 1 || response.code == 2) && response.code >= 2', { kind: 'and', parts: [{ kind: 'or', parts: [{ kind: 'cmp', op: 'EQ', value: 1 }, { kind: 'cmp', op: 'EQ', value: 2 }] }, { kind: 'cmp', op: 'GE', value: 2 }] }],
  ];
  for (const [src, want] of table) assert.deepEqual(parseAccessLogExpression(src), { expr: want }, src);
  for (const bad of ['', 'response.code', 'response.code >= 400 &&', '(response.code == 1', 'response.code == 1000', 'request.headers["x"] == "y"']) {
    assert.ok('error' in parseAccessLogExpression(bad), bad);
  }
});

test('analysis: Telemetry and defaultProviders name providers MeshConfig defines, of the right kind', async () => {
  const { analyze } = await import('../../../src/control/config/analyze.js');
  const { parseResources } = await import('../../../src/control/config/parse.js');
  const { formatWithSeverity } = await import('../../../src/control/config/issues.js');
  const { resources, issues } = parseResources(`
apiVersion: tsmesh.io/v1
kind: MeshConfig
metadata: { name: mesh, namespace: istio-system }
spec:
  defaultProviders: { tracing: [zipkin], accessLogging: [otel] }
  extensionProviders: [ { name: otel, opentelemetry: { service: otel.o.svc.cluster.local, port: 4318, http: {} } } ]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: t, namespace: prod }
spec:
  tracing: [{ providers: [{ name: otel }] }]
  accessLogging: [{ providers: [{ name: envoy }, { name: file }] }]
`, 'test.yaml');
  assert.deepEqual(issues, []);
  assert.deepEqual(analyze(resources).map(formatWithSeverity), [
    'Error: MeshConfig istio-system/mesh: spec.defaultProviders.tracing[0]: no tracing provider "zipkin" in MeshConfig extensionProviders; it is left out',
    'Error: MeshConfig istio-system/mesh: spec.defaultProviders.accessLogging[0]: no access-logging provider "otel" in MeshConfig extensionProviders; it is left out',
    'Error: Telemetry prod/t: spec.accessLogging[0].providers[1].name: no access-logging provider "file" in MeshConfig extensionProviders; it is left out',
  ]);
});
