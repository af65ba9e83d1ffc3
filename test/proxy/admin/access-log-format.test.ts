import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { create } from '@bufbuild/protobuf';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { ConfigError } from '../../../src/envoy/registry.js';
import { SubstitutionFormatStringSchema } from '../../../src/envoy/generated/envoy/config/core/v3/substitution_format_string_pb.js';
import { DataSourceSchema } from '../../../src/envoy/generated/envoy/config/core/v3/base_pb.js';
import type { AccessLogContext } from '../../../src/proxy/admin/access-log/context.js';
import { DEFAULT_FORMAT, compileJsonFormat, compileSubstitutionFormat, compileTextFormat } from '../../../src/proxy/admin/access-log/format.js';
import { ResponseFlag } from '../../../src/proxy/admin/access-log/response-flags.js';

// The example of Envoy's access log documentation, as a context.
const http: AccessLogContext = {
  startTimeMs: Date.UTC(2016, 3, 15, 20, 17, 0, 310),
  request: {
    method: 'POST',
    path: '/api/v1/locations',
    authority: 'locations',
    scheme: 'http',
    headers: new HeaderMap(['x-forwarded-for', '10.0.35.28', 'user-agent', 'nsq2http', 'x-request-id', 'cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2']),
  },
  responseHeaders: new HeaderMap(['x-envoy-upstream-service-time', '100', 'content-type', 'text/plain']),
  responseTrailers: new HeaderMap(['grpc-status', '0']),
  protocol: 'HTTP/2',
  responseCode: 204,
  responseCodeDetails: 'via_upstream',
  responseFlags: 0,
  bytesReceived: 154,
  bytesSent: 0,
  durationMs: 226.9,
  requestDurationMs: 3.2,
  responseDurationMs: 120.5,
  upstreamHost: { address: '10.0.2.1', port: 80 },
  upstreamCluster: 'outbound|80||locations.default.svc.cluster.local',
  upstreamLocalAddress: { address: '10.0.0.5', port: 40112 },
  downstreamRemoteAddress: { address: '10.0.35.28', port: 51234 },
  downstreamLocalAddress: { address: '::1', port: 15006 },
  routeName: 'default',
  connectionId: 17,
  attemptCount: 1,
};

// A tcp_proxy connection: no HTTP fields.
const tcp: AccessLogContext = {
  startTimeMs: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
  responseFlags: ResponseFlag.UF | ResponseFlag.URX,
  bytesReceived: 0,
  bytesSent: 0,
  durationMs: 5,
  upstreamHost: { address: '10.0.0.1', port: 9000 },
  upstreamCluster: 'db',
  downstreamRemoteAddress: { address: '127.0.0.1', port: 40000 },
  downstreamLocalAddress: { address: '127.0.0.1', port: 15001 },
};

test('default format: golden (Envoy documentation example)', () => {
  const f = compileTextFormat(DEFAULT_FORMAT, 'x');
  assert.equal(f(http), '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "10.0.2.1:80"\n');
  assert.equal(f(tcp), '[2024-01-02T03:04:05.006Z] "- - -" 0 UF,URX 0 0 5 - "-" "-" "-" "-" "10.0.0.1:9000"\n');
});

test('REQ alternatives, truncation, pseudo headers; RESP and TRAILER', () => {
  const withOriginal: AccessLogContext = { ...http, request: { ...http.request!, headers: new HeaderMap(['x-envoy-original-path', '/original']) } };
  const f = compileTextFormat('%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(:PATH):4% %REQ(:SCHEME)% %REQ(USER-AGENT):3% %RESP(:STATUS)% %RESP(content-type)% %TRAILER(GRPC-STATUS)% %REQUEST_HEADER(x-missing)%', 'x');
  assert.equal(f(http), '/api/v1/locations /api http nsq 204 text/plain 0 -');
  assert.equal(f(withOriginal), '/original /api http - 204 text/plain 0 -');
  assert.throws(() => compileTextFormat('%REQ(A?B?C)%', 'x'), /More than 1 alternative header/);
  assert.throws(() => compileTextFormat('%REQ%', 'x'), /REQ requires parameters/);
});

test('every supported operator, HTTP and TCP', () => {
  const ops = [
    'PROTOCOL', 'RESPONSE_CODE', 'RESPONSE_CODE_DETAILS', 'RESPONSE_FLAGS', 'RESPONSE_FLAGS_LONG', 'BYTES_RECEIVED', 'BYTES_SENT',
    'DURATION', 'REQUEST_DURATION', 'RESPONSE_DURATION', 'UPSTREAM_HOST', 'UPSTREAM_CLUSTER', 'UPSTREAM_LOCAL_ADDRESS',
    'UPSTREAM_TRANSPORT_FAILURE_REASON', 'DOWNSTREAM_REMOTE_ADDRESS', 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT',
    'DOWNSTREAM_LOCAL_ADDRESS', 'DOWNSTREAM_LOCAL_PORT', 'ROUTE_NAME', 'REQUESTED_SERVER_NAME', 'CONNECTION_ID',
    'UPSTREAM_REQUEST_ATTEMPT_COUNT', 'HOSTNAME',
  ];
  const f = compileTextFormat(ops.map((o) => `%${o}%`).join('|'), 'x');
  const host = os.hostname();
  assert.equal(f(http), `HTTP/2|204|via_upstream|-|-|154|0|226|3|120|10.0.2.1:80|outbound|80||locations.default.svc.cluster.local|10.0.0.5:40112|-|10.0.35.28:51234|10.0.35.28|[::1]:15006|15006|default|-|17|1|${host}`);
  assert.equal(f(tcp), `-|0|-|UF,URX|UpstreamConnectionFailure,UpstreamRetryLimitExceeded|0|0|5|-|-|10.0.0.1:9000|db|-|-|127.0.0.1:40000|127.0.0.1|127.0.0.1:15001|15001|-|-|0|0|${host}`);
});

test('START_TIME formats', () => {
  const ctx: AccessLogContext = { ...tcp, startTimeMs: Date.UTC(2018, 4, 29, 10, 43, 10, 528) + 0.25 };
  const f = (fmt: string): string => compileTextFormat(`%START_TIME(${fmt})%`, 'x')(ctx);
  assert.equal(f('%s.%3f'), '1527590590.528');
  assert.equal(f('%s.%6f'), '1527590590.528250');
  assert.equal(f('%s.%9f'), '1527590590.528250000');
  assert.equal(f('%Y/%m/%dT%H:%M:%S%z %s'), '2018/05/29T10:43:10+0000 1527590590');
  assert.equal(f('%Y-%m-%dT%H:%M:%E3SZ'), '2018-05-29T10:43:10.528Z');
  assert.equal(f('%a %b %e %j %T %p %Z %%'), 'Tue May 29 149 10:43:10 AM UTC %');
  assert.equal(compileTextFormat('%START_TIME%', 'x')(ctx), '2018-05-29T10:43:10.528Z');
  assert.throws(() => f('%Q'), ConfigError);
});

test('literal percent, omit_empty_values, plain text', () => {
  assert.equal(compileTextFormat('100%% %ROUTE_NAME%', 'x')(tcp), '100% -');
  assert.equal(compileTextFormat('[%ROUTE_NAME%]', 'x', { omitEmptyValues: true })(tcp), '[]');
  assert.equal(compileTextFormat('just text\n', 'x')(tcp), 'just text\n');
});

test('unknown operator and bad syntax are ConfigErrors at compile time, naming the field', () => {
  const err = (fn: () => unknown): ConfigError => {
    try { fn(); } catch (e) { assert.ok(e instanceof ConfigError); return e; }
    assert.fail('expected a ConfigError');
  };
  const e = err(() => compileTextFormat('%START_TIME% %NOPE%', 'listener.access_log[0].format'));
  assert.equal(e.path, 'listener.access_log[0].format');
  assert.equal(e.reason, 'Not supported field in StreamInfo: NOPE');
  assert.equal(e.code, 'TSMESH_BAD_CONFIG');
  assert.match(err(() => compileTextFormat('50% off', 'x')).reason, /Couldn't find valid command at position 2/);
  assert.match(err(() => compileTextFormat('%DURATION(x)%', 'x')).reason, /DURATION does not take any parameters or length/);
  assert.match(err(() => compileTextFormat('%START_TIME:10%', 'x')).reason, /START_TIME does not allow length/);
  assert.match(err(() => compileJsonFormat({ a: { b: '%BOGUS%' } }, 'log.json_format')).path, /^log\.json_format\.a\.b$/);
  assert.match(err(() => compileJsonFormat({ a: true }, 'x')).reason, /Only string values, nested structs, list values and number values/);
});

test('JSON format: typed values, nesting, lists, constants', () => {
  const f = compileJsonFormat({
    start: '%START_TIME%',
    method: '%REQ(:METHOD)%',
    code: '%RESPONSE_CODE%',
    duration: '%DURATION%',
    bytes: { in: '%BYTES_RECEIVED%', out: '%BYTES_SENT%' },
    port: '%DOWNSTREAM_LOCAL_PORT%',
    flags: '%RESPONSE_FLAGS%',
    route: '%ROUTE_NAME%',
    protocol: '%PROTOCOL%',
    mixed: '%DURATION%ms via %UPSTREAM_HOST%',
    list: ['%RESPONSE_CODE%', 'x'],
    version: 2,
  }, 'x');
  const line = f(http);
  assert.ok(line.endsWith('\n'));
  assert.deepEqual(JSON.parse(line), {
    start: '2016-04-15T20:17:00.310Z', method: 'POST', code: 204, duration: 226, bytes: { in: 154, out: 0 }, port: 15006,
    flags: '-', route: 'default', protocol: 'HTTP/2', mixed: '226ms via 10.0.2.1:80', list: [204, 'x'], version: 2,
  });
  assert.deepEqual(JSON.parse(f(tcp)), {
    start: '2024-01-02T03:04:05.006Z', method: null, code: 0, duration: 5, bytes: { in: 0, out: 0 }, port: 15001,
    flags: 'UF,URX', route: null, protocol: '-', mixed: '5ms via 10.0.0.1:9000', list: [0, 'x'], version: 2,
  });
});

test('JSON format: untyped (legacy json_format), omit_empty_values, sort_properties', () => {
  const untyped = compileJsonFormat({ code: '%RESPONSE_CODE%', route: '%ROUTE_NAME%' }, 'x', { typed: false });
  assert.equal(untyped(tcp), '{"code":"0","route":"-"}\n');
  const omit = compileJsonFormat({ route: '%ROUTE_NAME%', code: '%RESPONSE_CODE%', list: ['%ROUTE_NAME%'] }, 'x', { omitEmptyValues: true });
  assert.equal(omit(tcp), '{"code":0,"list":[]}\n');
  const sorted = compileJsonFormat({ b: '%BYTES_SENT%', a: '%BYTES_RECEIVED%' }, 'x', { sortProperties: true });
  assert.equal(sorted(tcp), '{"a":0,"b":0}\n');
});

test('SubstitutionFormatString: text_format, text_format_source, json_format, default', () => {
  const text = create(SubstitutionFormatStringSchema, { format: { case: 'textFormat', value: '%RESPONSE_CODE% %ROUTE_NAME%\n' }, omitEmptyValues: true });
  assert.equal(compileSubstitutionFormat(text, 'x')(tcp), '0 \n');
  const source = create(SubstitutionFormatStringSchema, { format: { case: 'textFormatSource', value: create(DataSourceSchema, { specifier: { case: 'inlineString', value: '%BYTES_SENT%' } }) } });
  assert.equal(compileSubstitutionFormat(source, 'x')(tcp), '0');
  const json = create(SubstitutionFormatStringSchema, { format: { case: 'jsonFormat', value: { d: '%DURATION%', c: '%UPSTREAM_CLUSTER%' } }, jsonFormatOptions: { sortProperties: true } });
  assert.equal(compileSubstitutionFormat(json, 'x')(tcp), '{"c":"db","d":5}\n');
  assert.equal(compileSubstitutionFormat(undefined, 'x')(http), compileTextFormat(DEFAULT_FORMAT, 'x')(http));
  const file = create(SubstitutionFormatStringSchema, { format: { case: 'textFormatSource', value: create(DataSourceSchema, { specifier: { case: 'filename', value: '/etc/fmt' } }) } });
  assert.throws(() => compileSubstitutionFormat(file, 'log_format'), (e: unknown) => e instanceof ConfigError && e.path === 'log_format.text_format_source');
});
