import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { eventually, healthFlags, meshBootstrap, staticCluster, statValue } from '../../support/mesh.js';

// Outlier detection of gRPC upstreams: real grpc-js servers and a real grpc-js client through the
// proxy. gRPC answers HTTP 200 whatever happened; the grpc-status of the answer is what counts.

const identity = (b: Buffer): Buffer => b;
const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({ path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity });
/** Two services, routed to two clusters. */
const SVC = '/pkg.Svc/Call', OTHER = '/pkg.Other/Call';

/** A grpc-js server whose pkg.Svc/Call answers `code` (OK: its name as the reply). */
interface GrpcUpstream { readonly name: string; readonly port: number; code: grpc.status; calls: number; close(): Promise<void> }

async function grpcUpstream(name: string): Promise<GrpcUpstream> {
  const server = new grpc.Server();
  const u = { name, port: 0, code: grpc.status.OK, calls: 0, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
  const handler = (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void => {
    u.calls++;
    if (u.code === grpc.status.OK) cb(null, Buffer.from(name));
    else cb({ code: u.code, details: `${name} failed` });
  };
  server.addService({ Svc: method(SVC), Other: method(OTHER) }, { Svc: handler, Other: handler });
  u.port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return u;
}

const H2_UPSTREAM = 'typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: { http2_protocol_options: {} } } }';
const OUTLIER = 'outlier_detection: { consecutive_5xx: 3, base_ejection_time: 600s, max_ejection_percent: 50 }';

let proxy: RunningProxy;
let port: number;
let client: grpc.Client;
let bad: GrpcUpstream, good: GrpcUpstream, missing: GrpcUpstream, good2: GrpcUpstream;

before(async () => {
  [bad, good, missing, good2] = await Promise.all(['bad', 'good', 'missing', 'good2'].map((n) => grpcUpstream(n)));
  port = await freePort();
  proxy = await startProxy(meshBootstrap({
    listenPort: port,
    routes: [['/pkg.Other/', 'other'], ['/', 'svc']],
    clusters: [
      staticCluster('svc', [bad.port, good.port], `${H2_UPSTREAM}\n${OUTLIER}`),
      staticCluster('other', [missing.port, good2.port], `${H2_UPSTREAM}\n${OUTLIER}`),
    ],
  }));
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  await proxy?.stop();
  await Promise.all([bad, good, missing, good2].map((u) => u?.close()));
});

/** One unary call; resolves with the reply (the upstream's name) or the status code. */
function call(path = SVC): Promise<string | grpc.status> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, Buffer.alloc(0), (err, reply) => resolve(err ? err.code : reply!.toString()));
  });
}

const stat = async (name: string): Promise<number | undefined> => statValue((await proxy.admin('/stats')).body, name);
const flags = async (cluster: string, p: number): Promise<string | undefined> => healthFlags((await proxy.admin('/clusters')).body, cluster, p);

test('a gRPC upstream answering UNAVAILABLE and INTERNAL (HTTP 200) is ejected by consecutive_5xx', async () => {
  bad.code = grpc.status.UNAVAILABLE;
  // Round robin alternates; the third failure in a row (503, 503, then INTERNAL's 500) ejects.
  await eventually('two failures', async () => { await call(); return bad.calls >= 2 ? true : undefined; }, 15_000, 0);
  bad.code = grpc.status.INTERNAL;
  await eventually('a third failure', async () => { await call(); return bad.calls >= 3 ? true : undefined; }, 15_000, 0);
  assert.equal(await flags('svc', bad.port), '/failed_outlier_check');
  assert.equal(await stat('cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
  const calls = bad.calls;
  const replies = [];
  for (let i = 0; i < 6; i++) replies.push(await call());
  assert.deepEqual(new Set(replies), new Set(['good']), 'an ejected host gets no calls');
  assert.equal(bad.calls, calls);
});

test('grpc-status that maps to 4xx (NOT_FOUND: 404) does not count as a 5xx', async () => {
  missing.code = grpc.status.NOT_FOUND;
  await eventually('five NOT_FOUND answers', async () => { await call(OTHER); return missing.calls >= 5 ? true : undefined; }, 15_000, 0);
  assert.equal(await flags('other', missing.port), 'healthy');
  assert.equal(await stat('cluster.other.outlier_detection.ejections_detected_consecutive_5xx'), 0);
});
