import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { HttpFilterSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TypedStructSchema } from '../../../src/envoy/generated/xds/type/v3/typed_struct_pb.js';
import { compileHttpFilters, loadHttpFilters } from '../../../src/proxy/http/filters/registry.js';
import { RouterSchema } from '../../../src/envoy/generated/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { StatsStore } from '../../../src/proxy/admin/stats.js';
import { scopesFor } from '../../../src/proxy/admin/scopes.js';
import { SharedSlots } from '../../../src/proxy/shared/slots.js';
import { renderPrometheus } from '../../../src/proxy/admin/render-prometheus.js';
import { localNodeOf } from '../../../src/proxy/istio-stats/local-node.js';
import { encodePeerMetadata } from '../../../src/proxy/istio-stats/peer.js';
import { ResponseFlag } from '../../../src/proxy/admin/access-log/response-flags.js';
import type { TrafficDirectionName } from '../../../src/proxy/http/filters/types.js';
import { FakeCallbacks, request } from '../http/filters/harness.js';
import { parsePrometheus, total } from '../../support/prometheus-text.js';

// The proxy loads a filter's module when a config first names its type (registryFor).
before(() => loadHttpFilters(['xds.type.v3.TypedStruct']));

const SERVER = { NAME: 'reviews-v1', NAMESPACE: 'default', SERVICE_ACCOUNT: 'reviews', LABELS: { app: 'reviews', version: 'v1' } };
const CLIENT = { NAME: 'productpage-v1', NAMESPACE: 'default', SERVICE_ACCOUNT: 'pp', LABELS: { app: 'productpage', version: 'v1' } };

function factory(direction: TrafficDirectionName, md: typeof SERVER) {
  const store = StatsStore.create({ histograms: 64 });
  const scopes = scopesFor(store);
  const filters = compileHttpFilters([
    create(HttpFilterSchema, { name: 'istio.stats', configType: { case: 'typedConfig', value: anyPack(TypedStructSchema, create(TypedStructSchema, { typeUrl: 'type.googleapis.com/stats.PluginConfig', value: {} })) } }),
    create(HttpFilterSchema, { name: 'router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) } }),
  ], 'http_filters');
  const f = filters[0]!.instantiate!({ httpScope: scopes.http('x'), statPrefix: 'x', scopes, shared: { slots: SharedSlots.create({ entries: 4, ints: 16, nameBytes: 256 }), supervisor: true, sharedScopes: scopes }, direction, node: localNodeOf({ id: `sidecar~1~${md.NAME}.default~default.svc.cluster.local`, metadata: md }) });
  return { f, store };
}

test('server side: takes the client metadata off the request, answers with its own, counts the edge', () => {
  const { f, store } = factory('INBOUND', SERVER);
  const outcomes: [number, number][] = [[200, 0], [200, 0], [503, ResponseFlag.UF], [200, 0]];
  for (const [status, flags] of outcomes) {
    const cb = new FakeCallbacks(undefined, 'istio.stats');
    const s = f.create(cb);
    const req = request('/r', { 'x-envoy-peer-metadata': encodePeerMetadata(CLIENT), 'x-envoy-peer-metadata-id': 'sidecar~2~productpage-v1.default~x' }, 'reviews.default.svc.cluster.local:9080');
    assert.equal(s.decodeHeaders(req, true), 'continue');
    assert.equal(req.headers.get('x-envoy-peer-metadata'), undefined, 'the app never sees the exchange');
    assert.equal(req.headers.get('x-envoy-peer-metadata-id'), undefined);
    const res = new HeaderMap();
    s.encodeHeaders!(status, res);
    assert.equal(res.get('x-envoy-peer-metadata'), encodePeerMetadata(SERVER));
    Object.assign(cb.stream, { status, flags, bytesReceived: 3, bytesSent: 7, elapsedMs: () => 12 });
    s.onDestroy!();
  }
  const m = parsePrometheus(renderPrometheus(store));
  const edge = { reporter: 'destination', source_workload: 'productpage-v1', source_app: 'productpage', destination_workload: 'reviews-v1', destination_app: 'reviews', destination_service: 'reviews.default.svc.cluster.local', connection_security_policy: 'none' };
  assert.equal(total(m, 'istio_requests_total', { ...edge, response_code: '200', response_flags: '-' }), 3);
  assert.equal(total(m, 'istio_requests_total', { ...edge, response_code: '503', response_flags: 'UF' }), 1);
  assert.equal(total(m, 'istio_request_bytes_sum', edge), 12);
  assert.equal(total(m, 'istio_response_bytes_sum', edge), 28);
  assert.equal(total(m, 'istio_request_duration_milliseconds_bucket', { ...edge, response_code: '200', le: '25' }), 3);
  assert.equal(total(m, 'istio_request_duration_milliseconds_bucket', { ...edge, response_code: '200', le: '10' }), 0);
  // Two outcomes, two series each of four metrics: nothing registered per request.
  assert.equal(store.list().filter((i) => i.name.startsWith('istio.')).length, 8);
});

test('client side: sends its metadata, reads the server\'s off the response; gRPC status from the trailers', () => {
  const { f, store } = factory('OUTBOUND', CLIENT);
  const cb = new FakeCallbacks(undefined, 'istio.stats');
  const s = f.create(cb);
  const req = request('/svc/M', { 'content-type': 'application/grpc', 'x-envoy-peer-metadata': 'spoofed' }, 'reviews:9080');
  s.decodeHeaders(req, false);
  assert.equal(req.headers.get('x-envoy-peer-metadata'), encodePeerMetadata(CLIENT), 'its own, not what the app sent');
  assert.equal(req.headers.get('x-envoy-peer-metadata-id'), 'sidecar~1~productpage-v1.default~default.svc.cluster.local');
  const res = new HeaderMap(['x-envoy-peer-metadata', encodePeerMetadata(SERVER), 'x-envoy-peer-metadata-id', 'id']);
  s.encodeHeaders!(200, res);
  assert.equal(res.size, 0, 'the client app never sees the exchange');
  Object.assign(cb.stream, { status: 200, isGrpc: true, responseTrailers: new HeaderMap(['grpc-status', '14']), upstreamCluster: { name: 'outbound|9080||reviews.default.svc.cluster.local' } });
  s.onDestroy!();
  const m = parsePrometheus(renderPrometheus(store));
  assert.equal(total(m, 'istio_requests_total', {
    reporter: 'source', source_workload: 'productpage-v1', destination_workload: 'reviews-v1', destination_version: 'v1',
    destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', request_protocol: 'grpc', grpc_response_status: '14', connection_security_policy: 'unknown',
  }), 1);
});

test('a server that sent no metadata (no sidecar) is unknown; a request from outside the mesh gets nothing back', () => {
  const client = factory('OUTBOUND', CLIENT);
  const cb = new FakeCallbacks(undefined, 'istio.stats');
  const s = client.f.create(cb);
  s.decodeHeaders(request('/', {}, 'ext.example.com'), true);
  s.encodeHeaders!(200, new HeaderMap());
  Object.assign(cb.stream, { status: 200 });
  s.onDestroy!();
  assert.equal(total(parsePrometheus(renderPrometheus(client.store)), 'istio_requests_total', { destination_workload: 'unknown', destination_service: 'ext.example.com', destination_service_namespace: 'unknown' }), 1);

  const server = factory('INBOUND', SERVER);
  const cb2 = new FakeCallbacks(undefined, 'istio.stats');
  const s2 = server.f.create(cb2);
  s2.decodeHeaders(request('/', {}, 'reviews'), true);
  const res = new HeaderMap();
  s2.encodeHeaders!(200, res);
  assert.equal(res.get('x-envoy-peer-metadata'), undefined);
});
