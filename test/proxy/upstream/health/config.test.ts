import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { HealthCheckSchema } from '../../../../src/envoy/generated/envoy/config/core/v3/health_check_pb.js';
import { compileHealthCheck, compileHealthChecks, inRanges } from '../../../../src/proxy/upstream/health/config.js';
import { healthCheckHeaders, judgeResponse } from '../../../../src/proxy/upstream/health/http-probe.js';
import { envoyRegistry } from '../../../../src/envoy/full-registry.js';

const base = { timeout: '1s', interval: '5s', unhealthy_threshold: 2, healthy_threshold: 3 };
const compile = (json: Record<string, JsonValue>) => compileHealthCheck(fromJson(HealthCheckSchema, { ...base, ...json }, { registry: envoyRegistry }), 'hc', 'app');

describe('compileHealthCheck', () => {
  it("Envoy's defaults around the required fields", () => {
    const s = compile({ tcp_health_check: {} });
    assert.equal(s.timeoutMs, 1000);
    assert.equal(s.intervalMs, 5000);
    assert.equal(s.unhealthyThreshold, 2);
    assert.equal(s.healthyThreshold, 3);
    assert.equal(s.noTrafficIntervalMs, 60_000);
    assert.equal(s.noTrafficHealthyIntervalMs, 60_000);
    assert.equal(s.unhealthyIntervalMs, 5000);
    assert.equal(s.unhealthyEdgeIntervalMs, 5000);
    assert.equal(s.healthyEdgeIntervalMs, 5000);
    assert.equal(s.reuseConnection, true);
    assert.equal(s.initialJitterMs, 0);
    assert.deepEqual(s.probe, { kind: 'tcp', send: undefined, receive: [] });
  });

  it('edge intervals default to their interval; no_traffic_healthy_interval to no_traffic_interval', () => {
    const s = compile({ tcp_health_check: {}, unhealthy_interval: '7s', no_traffic_interval: '2s' });
    assert.equal(s.unhealthyEdgeIntervalMs, 7000);
    assert.equal(s.noTrafficHealthyIntervalMs, 2000);
  });

  it('HTTP: GET, only 200 expected, host header from the cluster name, user-agent Envoy/HC', () => {
    const s = compile({ http_health_check: { path: '/healthz' } });
    assert.equal(s.probe.kind, 'http');
    if (s.probe.kind !== 'http') return;
    assert.equal(s.probe.method, 'GET');
    assert.equal(s.probe.authority, 'app');
    assert.equal(s.probe.http2, false);
    assert.deepEqual(s.probe.expectedStatuses, [[200, 201]]);
    assert.equal(judgeResponse(s.probe, 200, Buffer.alloc(0)).ok, true);
    const r = judgeResponse(s.probe, 204, Buffer.alloc(0));
    assert.equal(!r.ok && r.type, 'active');
    assert.deepEqual(healthCheckHeaders(s.probe).list, ['user-agent', 'Envoy/HC']);
  });

  it('HTTP: host, method, HTTP/2, statuses, headers and body matching', () => {
    const s = compile({
      http_health_check: {
        path: '/hc', host: 'svc.local', method: 'HEAD', codec_client_type: 'HTTP2',
        expected_statuses: [{ start: 200, end: 300 }], retriable_statuses: [{ start: 503, end: 504 }],
        request_headers_to_add: [{ header: { key: 'x-hc', value: '1' } }, { header: { key: 'user-agent', value: 'probe' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        receive: [{ text: '6f6b' }], response_buffer_size: 4,
      },
    });
    if (s.probe.kind !== 'http') return assert.fail();
    assert.equal(s.probe.method, 'HEAD');
    assert.equal(s.probe.authority, 'svc.local');
    assert.equal(s.probe.http2, true);
    assert.deepEqual(healthCheckHeaders(s.probe).list, ['user-agent', 'probe', 'x-hc', '1']);
    assert.equal(judgeResponse(s.probe, 204, Buffer.from('ok!')).ok, true);
    assert.equal(judgeResponse(s.probe, 204, Buffer.from('...ok')).ok, false, 'beyond response_buffer_size');
    const retriable = judgeResponse(s.probe, 503, Buffer.from('ok'));
    assert.deepEqual(!retriable.ok && [retriable.type, retriable.retriable], ['active', true]);
    const hard = judgeResponse(s.probe, 500, Buffer.from('ok'));
    assert.deepEqual(!hard.ok && [hard.type, hard.retriable], ['active', false]);
    const excluded = judgeResponse(s.probe, 503, Buffer.from('ok'), true);
    assert.equal(!excluded.ok && excluded.excluded, true, 'x-envoy-immediate-health-check-fail on a failing answer');
    assert.equal(judgeResponse(s.probe, 204, Buffer.from('ok!'), true).ok, true, 'the header on a passing answer changes nothing');
  });

  it('gRPC: authority from the cluster name, service name and metadata', () => {
    const s = compile({ grpc_health_check: { service_name: 'pkg.Svc', initial_metadata: [{ header: { key: 'X-Token', value: 't' } }] } });
    assert.deepEqual(s.probe, { kind: 'grpc', serviceName: 'pkg.Svc', authority: 'app', metadata: [['x-token', 't']] });
  });

  it('TCP: hex payloads', () => {
    const s = compile({ tcp_health_check: { send: { text: '50494e47' }, receive: [{ text: '504f4e47' }] } });
    if (s.probe.kind !== 'tcp') return assert.fail();
    assert.equal(s.probe.send?.toString(), 'PING');
    assert.equal(s.probe.receive[0]?.toString(), 'PONG');
  });

  const bad: [string, Record<string, JsonValue>, RegExp][] = [
    ['no timeout', { timeout: null, tcp_health_check: {} }, /hc\.timeout: required/],
    ['no interval', { interval: null, tcp_health_check: {} }, /hc\.interval: required/],
    ['a zero interval', { interval: '0s', tcp_health_check: {} }, /hc\.interval: must be > 0/],
    ['no unhealthy_threshold', { unhealthy_threshold: null, tcp_health_check: {} }, /hc\.unhealthy_threshold: required/],
    ['no healthy_threshold', { healthy_threshold: null, tcp_health_check: {} }, /hc\.healthy_threshold: required/],
    ['no checker', {}, /hc\.health_checker: one of http_health_check, tcp_health_check, grpc_health_check is required/],
    ['no HTTP path', { http_health_check: {} }, /hc\.http_health_check\.path: required/],
    ['a relative HTTP path', { http_health_check: { path: 'healthz' } }, /hc\.http_health_check\.path: not a valid request path/],
    ['CONNECT', { http_health_check: { path: '/', method: 'CONNECT' } }, /hc\.http_health_check\.method: CONNECT is not allowed/],
    ['HTTP/3', { http_health_check: { path: '/', codec_client_type: 'HTTP3' } }, /hc\.http_health_check\.codec_client_type: HTTP3 is not supported/],
    ['a status range out of [100, 600)', { http_health_check: { path: '/', expected_statuses: [{ start: 99, end: 200 }] } }, /hc\.http_health_check\.expected_statuses\[0\]\.start/],
    ['an empty status range', { http_health_check: { path: '/', expected_statuses: [{ start: 200, end: 200 }] } }, /hc\.http_health_check\.expected_statuses\[0\]\.end/],
    ['a host header on an HTTP check header list', { http_health_check: { path: '/', request_headers_to_add: [{ header: { key: 'host', value: 'x' } }] } }, /hc\.http_health_check\.request_headers_to_add\[0\]\.header\.key/],
    ['bad hex', { tcp_health_check: { send: { text: 'xyz' } } }, /hc\.tcp_health_check\.send\.text: invalid hex string/],
    ['a reserved gRPC metadata key', { grpc_health_check: { initial_metadata: [{ header: { key: 'grpc-timeout', value: '1S' } }] } }, /hc\.grpc_health_check\.initial_metadata\[0\]\.header\.key/],
    ['alt_port out of range', { alt_port: 70000, tcp_health_check: {} }, /hc\.alt_port/],
  ];
  for (const [name, json, want] of bad) it(`refuses ${name}`, () => assert.throws(() => compile(json), want));

  it('one health check per cluster', () => {
    const hc = fromJson(HealthCheckSchema, { ...base, tcp_health_check: {} });
    assert.equal(compileHealthChecks([], 'c', 'app'), undefined);
    assert.throws(() => compileHealthChecks([hc, hc], 'c', 'app'), /c\.health_checks: only one health check per cluster is supported, got 2/);
  });

  it('status ranges are half-open', () => {
    assert.deepEqual([199, 200, 299, 300].map((s) => inRanges(s, [[200, 300]])), [false, true, true, false]);
  });
});
