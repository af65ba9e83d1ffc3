import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { freePort } from '../../support/net.js';
import { startProxy, httpBootstrap, repoRoot, type RunningProxy } from '../../support/proxy.js';

// gRPC (HTTP/2 with trailers) through the proxy: a real grpc-js client and server.
interface Msg { text: string; n: number }
type EchoClient = grpc.Client & {
  Say(m: Msg, cb: (e: grpc.ServiceError | null, r?: Msg) => void): void;
  Stream(m: Msg): grpc.ClientReadableStream<Msg>;
  Fail(m: Msg, cb: (e: grpc.ServiceError | null, r?: Msg) => void): void;
};

let proxy: RunningProxy;
let server: grpc.Server;
let client: EchoClient;

before(async () => {
  const def = protoLoader.loadSync(join(repoRoot(), 'test/fixtures/echo.proto'));
  const pkg = grpc.loadPackageDefinition(def) as unknown as { tsmesh: { test: { Echo: grpc.ServiceClientConstructor } } };
  const Echo = pkg.tsmesh.test.Echo;
  server = new grpc.Server();
  server.addService(Echo.service, {
    Say: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(null, { text: `echo ${call.request.text}`, n: call.request.n + 1 }),
    Stream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      for (let i = 0; i < call.request.n; i++) call.write({ text: `${call.request.text}#${i}`, n: i });
      call.end();
    },
    Fail: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      const md = new grpc.Metadata();
      md.set('x-why', 'because');
      cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'too much', metadata: md });
    },
  });
  const upstreamPort = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const port = await freePort();
  proxy = await startProxy(httpBootstrap({
    listenPort: port,
    upstreamPort,
    clusterExtra: `
typed_extension_protocol_options:
  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    explicit_http_config: { http2_protocol_options: {} }`,
  }));
  client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
});

after(async () => {
  client?.close();
  server?.forceShutdown();
  await proxy?.stop();
});

test('unary call', async () => {
  const r = await new Promise<Msg>((resolve, reject) => client.Say({ text: 'hi', n: 41 }, (e, m) => (e ? reject(e) : resolve(m!))));
  assert.deepEqual({ text: r.text, n: r.n }, { text: 'echo hi', n: 42 });
});

test('server streaming with trailers', async () => {
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const s = client.Stream({ text: 'm', n: 5 });
    s.on('data', (m: Msg) => got.push(m.text));
    s.on('error', reject);
    s.on('status', (st: grpc.StatusObject) => (st.code === grpc.status.OK ? resolve() : reject(new Error(st.details))));
  });
  assert.deepEqual(got, ['m#0', 'm#1', 'm#2', 'm#3', 'm#4']);
});

test('a gRPC error status and its metadata arrive in the trailers', async () => {
  const e = await new Promise<grpc.ServiceError>((resolve) => client.Fail({ text: '', n: 0 }, (err) => resolve(err!)));
  assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(e.details, 'too much');
  assert.deepEqual(e.metadata.get('x-why'), ['because']);
});

test('many concurrent calls multiplex over the proxy', async () => {
  const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => new Promise<Msg>((resolve, reject) => client.Say({ text: `c${i}`, n: i }, (e, m) => (e ? reject(e) : resolve(m!))))));
  rs.forEach((r, i) => assert.equal(r.text, `echo c${i}`));
});
