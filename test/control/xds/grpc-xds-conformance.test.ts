import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ProxyResources } from '../../../src/control/translate/types.js';
import { edsCluster, hcm, TestSource } from './fixtures.js';
import { logs, startServer, until } from './harness.js';

/*
 * What @grpc/grpc-js-xds 1.14 needs (checked against its validators; the translation generates this):
 * - LDS by name: the listener is named exactly like the target of `xds:///<name>` (host:port),
 *   and has an `api_listener` holding an HttpConnectionManager (type URL
 *   envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager) whose
 *   `rds.config_source` is `ads` (or `self`) and whose LAST http filter is the router, with a
 *   typed_config of envoy.extensions.filters.http.router.v3.Router.
 * - RDS: a virtual host whose domains match the target host (or "*"); route action `cluster` or
 *   `weighted_clusters`.
 * - CDS: type EDS with `eds_cluster_config.eds_config.ads`, lb_policy ROUND_ROBIN (default).
 * - EDS: every LocalityLbEndpoints needs `locality` set (may be empty) and a
 *   `load_balancing_weight` > 0, or the locality is silently dropped; endpoint addresses must be
 *   IP literals.
 * - Its bootstrap (GRPC_XDS_BOOTSTRAP) needs `node.locality` present (may be `{}`), or it refuses
 *   to start; `server_features: ["xds_v3"]`, `channel_creds: [{"type": "insecure"}]`.
 */

const proto = grpc.loadPackageDefinition(protoLoader.loadSync(path.resolve('test/fixtures/echo.proto'))) as unknown as { tsmesh: { test: { Echo: grpc.ServiceClientConstructor } } };
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function echoServer(label: string): Promise<{ port: number; calls: number }> {
  const state = { port: 0, calls: 0 };
  const server = new grpc.Server();
  server.addService(proto.tsmesh.test.Echo.service, {
    Say: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<{ text: string }>) => { state.calls++; cb(null, { text: `${label}:${call.request.text}` }); },
    Stream: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    Fail: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.INTERNAL, details: 'fail' }),
  });
  state.port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => e ? reject(e) : resolve(p)));
  cleanups.push(() => { server.forceShutdown(); });
  return state;
}

function claFor(cluster: string, port: number) {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: cluster,
    endpoints: [{
      locality: {}, loadBalancingWeight: 1,
      lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: port } } } } } } }],
    }],
  });
}

function grpcResources(listenerName: string, action: 'a' | 'b' | 'split', ports: { a: number; b: number }): ProxyResources {
  const ca = 'outbound|7070||echo-a.default.svc.cluster.local';
  const cb = 'outbound|7070||echo-b.default.svc.cluster.local';
  const routeAction = action !== 'split'
    ? { clusterSpecifier: { case: 'cluster' as const, value: action === 'a' ? ca : cb } }
    : { clusterSpecifier: { case: 'weightedClusters' as const, value: { clusters: [{ name: ca, weight: 50 }, { name: cb, weight: 50 }] } } };
  return {
    listeners: [create(ListenerSchema, { name: listenerName, apiListener: { apiListener: anyPack(HttpConnectionManagerSchema, hcm('echo-route')) } })],
    routes: [create(RouteConfigurationSchema, {
      name: 'echo-route',
      virtualHosts: [{ name: 'echo', domains: ['*'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: '' } }, action: { case: 'route', value: routeAction } }] }],
    })],
    clusters: [edsCluster(ca), edsCluster(cb)],
    endpoints: [claFor(ca, ports.a), claFor(cb, ports.b)],
  };
}

function runClient(adsPort: number, target: string, calls: number, until?: string): Promise<{ answers?: string[]; error?: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsmesh-xds-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bootstrap = path.join(dir, 'bootstrap.json');
  writeFileSync(bootstrap, JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'sidecar~127.0.0.1~echo-client.default~default.svc.cluster.local', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default', NAME: 'echo-client' } },
  }));
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xds-echo-client.js');
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [script, target, String(calls), '30000', ...(until ? [until] : [])], { env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrap }, timeout: 60_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try { resolve(JSON.parse(line) as { answers?: string[]; error?: string }); } catch { reject(new Error(`client failed: ${err?.message ?? ''}\n${stdout}\n${stderr}`)); }
    });
    cleanups.push(() => { child.kill(); });
  });
}

test('@grpc/grpc-js-xds resolves xds:///echo... through the ADS server and reaches the service', async () => {
  const a = await echoServer('A'); const b = await echoServer('B');
  const target = 'echo.default.svc.cluster.local:7070';
  const source = new TestSource(grpcResources(target, 'a', { a: a.port, b: b.port }));
  const { server, port } = await startServer(source);
  cleanups.push(() => server.close());
  const result = await runClient(port, target, 10);
  assert.equal(result.error, undefined);
  assert.deepEqual(result.answers, Array(10).fill('A:hi'));
  assert.equal(b.calls, 0);
  // The client ACKed every type (a NACK would show in the log with grpc-js-xds's reason).
  assert.equal(server.counters.nacks, 0, logs.join('\n'));
  assert.ok(server.counters.acks >= 4, `acks ${server.counters.acks}`);
});

test('@grpc/grpc-js-xds follows a pushed route change without reconnecting', async () => {
  const a = await echoServer('A'); const b = await echoServer('B');
  const target = 'echo-move.default.svc.cluster.local:7070';
  const source = new TestSource(grpcResources(target, 'a', { a: a.port, b: b.port }));
  const { server, port } = await startServer(source);
  cleanups.push(() => server.close());
  const running = runClient(port, target, 2000, 'B:hi');
  await until(() => a.calls > 0, 'calls reaching A', 30_000);
  const connects = server.counters.connects;
  source.resources = grpcResources(target, 'b', { a: a.port, b: b.port });
  server.push('route to B');
  const result = await running;
  assert.equal(result.error, undefined);
  assert.equal(result.answers!.at(-1), 'B:hi');
  assert.equal(result.answers![0], 'A:hi');
  assert.equal(server.counters.connects, connects, 'the update came over the same stream');
});

test('@grpc/grpc-js-xds follows a weighted route: both clusters get calls', async () => {
  const a = await echoServer('A'); const b = await echoServer('B');
  const target = 'echo-split.default.svc.cluster.local:7070';
  const source = new TestSource(grpcResources(target, 'split', { a: a.port, b: b.port }));
  const { server, port } = await startServer(source);
  cleanups.push(() => server.close());
  const result = await runClient(port, target, 60);
  assert.equal(result.error, undefined);
  const fromA = result.answers!.filter((x) => x === 'A:hi').length;
  const fromB = result.answers!.filter((x) => x === 'B:hi').length;
  assert.equal(fromA + fromB, 60);
  assert.ok(fromA > 0 && fromB > 0, `A ${fromA}, B ${fromB}`);
  assert.equal(a.calls, fromA);
});
