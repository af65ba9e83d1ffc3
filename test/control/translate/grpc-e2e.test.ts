import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { DiscoveryRequestSchema, DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse } from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { ListenerSchema } from '../../../src/envoy/generated/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/envoy/generated/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/envoy/generated/envoy/config/endpoint/v3/endpoint_pb.js';
import { buildMesh } from '../../../src/control/registry/mesh.js';
import { generate, TYPE_URL, type ProxyResources } from '../../../src/control/translate/index.js';
import { repoRoot } from '../../support/proxy.js';
import { configOf, identity } from '../mesh-fixtures.js';

/*
 * Proxyless gRPC end to end: a real @grpc/grpc-js-xds client, programmed with what generate()
 * returns for generator "grpc", calls two real gRPC servers. The xDS server here is a minimal
 * State-of-the-World ADS over real gRPC (loopback) that serves exactly the requested names of
 * one fixed snapshot; the control plane's own ADS server is tested in src/control/xds's tests.
 */
const MESH = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo }
spec:
  hosts: [echo.default.svc.cluster.local]
  ports: [{ number: 7070, name: grpc, protocol: GRPC }]
  resolution: STATIC
  location: MESH_INTERNAL
  workloadSelector: { labels: { app: echo } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo }
spec:
  host: echo
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
  - match: [{ headers: { x-user: { exact: canary } } }]
    route: [{ destination: { host: echo, subset: v2 } }]
  - match: [{ headers: { x-fail: { exact: "yes" } } }]
    fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 100 } } }
    route: [{ destination: { host: echo, subset: v1 } }]
  - route:
    - { destination: { host: echo, subset: v1 }, weight: 50 }
    - { destination: { host: echo, subset: v2 }, weight: 50 }
`;

interface Msg { text: string; n: number }
type EchoClient = grpc.Client & { Say(m: Msg, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Msg) => void): void };
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(join(repoRoot(), 'test/fixtures/echo.proto'))) as unknown as { tsmesh: { test: { Echo: grpc.ServiceClientConstructor } } };
const Echo = pkg.tsmesh.test.Echo;

const servers: grpc.Server[] = [];
const clients: grpc.Client[] = [];
after(() => {
  for (const c of clients) c.close();
  for (const s of servers) s.forceShutdown();
});

async function listen(server: grpc.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
}

async function backend(version: string): Promise<number> {
  const s = new grpc.Server();
  s.addService(Echo.service, { Say: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(null, { text: version, n: call.request.n }) });
  return listen(s);
}

const SCHEMAS: Record<string, DescMessage> = {
  [TYPE_URL.listener]: ListenerSchema, [TYPE_URL.route]: RouteConfigurationSchema, [TYPE_URL.cluster]: ClusterSchema, [TYPE_URL.endpoint]: ClusterLoadAssignmentSchema,
};

/** SotW ADS serving `res`: each request for a type gets the resources it names; ACKs get nothing. NACKs are recorded. */
async function adsServer(res: ProxyResources, nacks: string[]): Promise<number> {
  const byType = new Map<string, Map<string, MessageShape<DescMessage>>>([
    [TYPE_URL.listener, new Map(res.listeners.map((m) => [m.name, m]))],
    [TYPE_URL.route, new Map(res.routes.map((m) => [m.name, m]))],
    [TYPE_URL.cluster, new Map(res.clusters.map((m) => [m.name, m]))],
    [TYPE_URL.endpoint, new Map(res.endpoints.map((m) => [m.clusterName, m]))],
  ]);
  const ser = <D extends DescMessage>(d: D) => (m: MessageShape<D>) => Buffer.from(toBinary(d, m));
  const des = <D extends DescMessage>(d: D) => (b: Buffer) => fromBinary(d, b);
  const service: grpc.ServiceDefinition = {
    StreamAggregatedResources: {
      path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      requestStream: true, responseStream: true,
      requestSerialize: ser(DiscoveryRequestSchema), requestDeserialize: des(DiscoveryRequestSchema),
      responseSerialize: ser(DiscoveryResponseSchema), responseDeserialize: des(DiscoveryResponseSchema),
    },
  };
  const s = new grpc.Server();
  s.addService(service, {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
      const sent = new Map<string, string>();
      let nonce = 0;
      call.on('data', (req: DiscoveryRequest) => {
        if (req.errorDetail) nacks.push(`${req.typeUrl}: ${req.errorDetail.message}`);
        const names = [...req.resourceNames].sort().join(',');
        if (sent.get(req.typeUrl) === names) return; // an ACK (or NACK) of what was sent
        sent.set(req.typeUrl, names);
        const schema = SCHEMAS[req.typeUrl];
        const all = byType.get(req.typeUrl);
        if (!schema || !all) return;
        const resources = req.resourceNames.flatMap((n) => { const m = all.get(n); return m ? [anyPack(schema, m)] : []; });
        call.write(create(DiscoveryResponseSchema, { versionInfo: '1', typeUrl: req.typeUrl, nonce: String(++nonce), resources }));
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  });
  return listen(s);
}

test('a grpc-js-xds client is routed by the generated proxyless config', async () => {
  const [v1, v2] = await Promise.all([backend('v1'), backend('v2')]);
  const workloads = [
    identity({ name: 'echo-v1', labels: { app: 'echo', version: 'v1' }, ips: ['127.0.0.1'], generator: 'grpc', appPorts: [v1] }),
    identity({ name: 'echo-v2', labels: { app: 'echo', version: 'v2' }, ips: ['127.0.0.1'], generator: 'grpc', appPorts: [v2] }),
  ];
  const me = identity({ name: 'echo-client', labels: { app: 'echo-client' }, ips: ['127.0.0.1'], generator: 'grpc' });
  const nacks: string[] = [];
  const adsPort = await adsServer(generate(buildMesh(configOf(MESH), [me, ...workloads]), me), nacks);

  process.env['GRPC_XDS_BOOTSTRAP_CONFIG'] = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: me.id, locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
  });
  const require = createRequire(import.meta.url);
  (require('@grpc/grpc-js-xds') as { register(): void }).register();

  const say = (client: grpc.Client, headers: Record<string, string> = {}): Promise<string> => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    return new Promise((resolve, reject) => (client as EchoClient).Say({ text: 'hi', n: 1 }, md, { deadline: Date.now() + 20_000 }, (e, r) => (e ? reject(e) : resolve(r!.text))));
  };
  const fqdn = new Echo('xds:///echo.default.svc.cluster.local:7070', grpc.credentials.createInsecure());
  const short = new Echo('xds:///echo:7070', grpc.credentials.createInsecure());
  clients.push(fqdn, short);

  for (let i = 0; i < 10; i++) assert.equal(await say(fqdn, { 'x-user': 'canary' }), 'v2');
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) seen.add(await say(fqdn)); // both halves of 50/50 (all one: 2^-59)
  assert.deepEqual([...seen].sort(), ['v1', 'v2']);
  await assert.rejects(say(fqdn, { 'x-fail': 'yes' }), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
  assert.equal(await say(short, { 'x-user': 'canary' }), 'v2', 'the short name a client may dial works too');
  assert.deepEqual(nacks, []);
});
