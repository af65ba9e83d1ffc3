import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { SOTW_PATH } from '../../../src/control/xds/grpc-service.js';
import type { DiscoveryRequest, DiscoveryResponse } from '../../../src/envoy/generated/envoy/service/discovery/v3/discovery_pb.js';
import { AdsTestClient, testNode } from './ads-client.js';
import { TestSource, twoServices, edsCluster, cla, listener, route } from './fixtures.js';
import { namesOf, startServer, until } from './harness.js';
import type { AdsServerOptions } from '../../../src/control/xds/server.js';
import type { ProxyIdentity } from '../../../src/envoy/node-metadata.js';

const clients: { close(): void }[] = [];
const servers: { close(): Promise<void> }[] = [];
after(async () => { for (const c of clients) c.close(); for (const s of servers) await s.close(); });

async function setup(opts: AdsServerOptions = {}, key?: (p: ProxyIdentity) => string) {
  const source = new TestSource(twoServices(), key);
  const { server, port } = await startServer(source, opts);
  servers.push(server);
  const open = () => { const c = AdsTestClient.sotw(port); clients.push(c); return c; };
  return { source, server, port, open };
}

/** Subscribes to all four types the way Envoy does (CDS, EDS for the clusters, LDS, RDS), ACKing each. */
async function fullySubscribed(client: AdsTestClient<DiscoveryRequest, DiscoveryResponse>, name: string): Promise<void> {
  const steps: [string, string[]][] = [[TYPE_URL.cluster, []], [TYPE_URL.endpoint, ['c-a', 'c-b']], [TYPE_URL.listener, []], [TYPE_URL.route, ['r-a', 'r-b']]];
  for (const [typeUrl, resourceNames] of steps) {
    client.send({ node: testNode(name), typeUrl, resourceNames });
    const res = await client.next();
    assert.equal(res.typeUrl, typeUrl);
    client.send({ typeUrl, resourceNames, versionInfo: res.versionInfo, responseNonce: res.nonce });
  }
}

function everythingChanged() {
  return {
    listeners: [listener('l-a', 'r-a', 16001), listener('l-b', 'r-b', 16002)],
    routes: [route('r-a', 'c-b'), route('r-b', 'c-a')],
    clusters: [{ ...edsCluster('c-a'), connectTimeout: { $typeName: 'google.protobuf.Duration' as const, seconds: 2n, nanos: 0 } }, edsCluster('c-b')],
    endpoints: [cla('c-a', [9001]), cla('c-b', [9002])],
  };
}

test('a full push goes out in warming order: CDS, EDS, LDS, RDS', async () => {
  const { source, server, open } = await setup();
  const client = open();
  await fullySubscribed(client, 'w1');
  source.resources = everythingChanged();
  server.push('everything');
  const order: string[] = [];
  for (let i = 0; i < 4; i++) order.push((await client.next()).typeUrl);
  assert.deepEqual(order, [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route]);
  assert.ok(server.status()[0]!.lastPushAt instanceof Date);
});

test('with a push concurrency of 1, every proxy still gets the push, each in warming order', async () => {
  const { source, server, open } = await setup({ pushConcurrency: 1 });
  const clients = [open(), open(), open()];
  for (const [i, c] of clients.entries()) await fullySubscribed(c, `t${i}`);
  source.resources = everythingChanged();
  server.push('everything');
  for (const c of clients) {
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await c.next()).typeUrl);
    assert.deepEqual(order, [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route]);
  }
});

test('a burst of 20 push() calls becomes one push: one response per type', async () => {
  const { source, server, open } = await setup({ debounce: { quietMs: 100, maxDelayMs: 1000 } });
  const client = open();
  await fullySubscribed(client, 'b1');
  await until(() => Object.values(server.status()[0]!.types).every((t) => t.state === 'SYNCED'), 'all SYNCED');
  const pushesBefore = server.counters.pushes;
  const generatesBefore = source.generateCalls;
  source.resources = everythingChanged();
  for (let i = 0; i < 20; i++) server.push(`change ${i}`);
  for (let i = 0; i < 4; i++) await client.next();
  await client.none(600);
  assert.equal(server.counters.pushes - pushesBefore, 1);
  assert.equal(server.counters.pushRequests, 20);
  assert.equal(source.generateCalls - generatesBefore, 1);
});

test('a steady trickle of changes still pushes before it stops (max delay)', async () => {
  const { server } = await setup({ debounce: { quietMs: 200, maxDelayMs: 300 } });
  for (let i = 0; i < 20; i++) { server.push(`tick ${i}`); await new Promise((r) => setTimeout(r, 50)); }
  await until(() => server.counters.pushes >= 2, 'pushes during the trickle');
  assert.ok(server.counters.pushes < 20, `pushes ${server.counters.pushes}`);
});

test('proxies of one shape share one generate() per push; different shapes each get their own', async () => {
  const same = await setup();
  const a = same.open(); const b = same.open();
  await fullySubscribed(a, 'shape-a'); await fullySubscribed(b, 'shape-b');
  same.source.generateCalls = 0;
  same.source.resources = everythingChanged();
  same.server.push('x');
  for (let i = 0; i < 4; i++) { await a.next(); await b.next(); }
  assert.equal(same.source.generateCalls, 1);

  const per = await setup({}, (p) => p.name);
  const c = per.open(); const d = per.open();
  await fullySubscribed(c, 'shape-c'); await fullySubscribed(d, 'shape-d');
  per.source.generateCalls = 0;
  per.source.resources = everythingChanged();
  per.server.push('x');
  for (let i = 0; i < 4; i++) { await c.next(); await d.next(); }
  assert.equal(per.source.generateCalls, 2);
  assert.deepEqual(per.source.generatedFor.slice(-2).sort(), ['shape-c', 'shape-d']);
});

test('connect/disconnect events, status and sentResources as proto3 JSON', async () => {
  const { source, server, open } = await setup();
  const connected: string[] = []; const gone: string[] = [];
  server.onConnect((identity) => connected.push(identity.name));
  server.onDisconnect((identity) => gone.push(identity.name));
  const client = open();
  client.send({ node: testNode('ev1', { ips: ['10.1.2.3'] }), typeUrl: TYPE_URL.cluster });
  const c1 = await client.next();
  assert.deepEqual(connected, ['ev1']);
  assert.equal(server.connectedClients, 1);
  const [st] = server.status();
  assert.equal(st!.id, 'sidecar~10.1.2.3~ev1.default~default.svc.cluster.local');
  assert.deepEqual(st!.identity.ips, ['10.1.2.3']);
  const json = await server.sentResources(st!.id, TYPE_URL.cluster) as { name: string; type: string }[];
  assert.deepEqual(json.map((c) => c.name), ['c-a', 'c-b']);
  assert.equal(json[0]!.type, 'EDS');
  client.send({ typeUrl: TYPE_URL.cluster, versionInfo: c1.versionInfo, responseNonce: c1.nonce });
  source.resources = { ...source.resources, clusters: [edsCluster('c-b')] };
  server.push('drop a');
  await client.next();
  assert.deepEqual((await server.sentResources(st!.id, TYPE_URL.cluster) as { name: string }[]).map((c) => c.name), ['c-b']);
  assert.equal(await server.sentResources('nobody', TYPE_URL.cluster), undefined);
  client.close();
  await until(() => gone.length === 1, 'disconnect event');
  assert.deepEqual(gone, ['ev1']);
  assert.equal(server.connectedClients, 0);
});

test('a generate() that throws keeps the last good resources and is reported', async () => {
  const { source, server, open } = await setup();
  const client = open();
  client.send({ node: testNode('g1'), typeUrl: TYPE_URL.cluster });
  const c1 = await client.next();
  source.failWith = new Error('VirtualService reviews: bad');
  server.push('bad config');
  await until(() => server.counters.generateErrors === 1, 'generate error');
  assert.match(server.lastPushError!.message, /VirtualService reviews: bad/);
  await client.none();
  const late = open(); // a proxy of the same shape that connects now gets the last good config
  late.send({ node: testNode('g2'), typeUrl: TYPE_URL.cluster });
  assert.equal((await late.next()).versionInfo, c1.versionInfo);
  source.failWith = undefined;
  source.resources = { ...source.resources, clusters: [edsCluster('c-z')] };
  server.push('fixed');
  assert.deepEqual(namesOf((await client.next()).resources), ['c-z']);
});

test('garbage on the stream ends that stream only; the server keeps serving', async () => {
  const { server, port, open } = await setup();
  const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(raw);
  const call = raw.makeBidiStreamRequest(SOTW_PATH, (b: Buffer) => b, (b: Buffer) => b);
  const failed = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
  call.on('data', () => {});
  call.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
  const err = await failed;
  assert.notEqual(err.code, grpc.status.OK);
  const client = open();
  client.send({ node: testNode('after-garbage'), typeUrl: TYPE_URL.cluster });
  assert.deepEqual(namesOf((await client.next()).resources), ['c-a', 'c-b']);
  assert.equal(server.connectedClients, 1);
});

test('a routing-only push (a VirtualService change) regenerates listeners and routes only; clusters and endpoints stay the last push\'s', async () => {
  const { source, server, open } = await setup();
  const client = open();
  await fullySubscribed(client, 'vs1');
  const clustersBefore = await server.sentResources(server.status()[0]!.id, TYPE_URL.cluster);
  source.resources = everythingChanged(); // clusters too: a routing push must not look at them
  server.push('VirtualService', 'routing');
  const first = await client.next();
  assert.equal(first.typeUrl, TYPE_URL.listener);
  client.send({ typeUrl: TYPE_URL.listener, versionInfo: first.versionInfo, responseNonce: first.nonce });
  const second = await client.next();
  assert.equal(second.typeUrl, TYPE_URL.route);
  client.send({ typeUrl: TYPE_URL.route, resourceNames: ['r-a', 'r-b'], versionInfo: second.versionInfo, responseNonce: second.nonce });
  await client.none(300);
  assert.equal(source.scopes.at(-1), 'routing');
  assert.deepEqual(await server.sentResources(server.status()[0]!.id, TYPE_URL.cluster), clustersBefore);
  // The next full push brings the clusters and endpoints that changed meanwhile.
  server.push('ServiceEntry');
  const order: string[] = [];
  for (let i = 0; i < 2; i++) order.push((await client.next()).typeUrl);
  assert.deepEqual(order, [TYPE_URL.cluster, TYPE_URL.endpoint]);
  assert.equal(source.scopes.at(-1), 'all');
});

test('an endpoints-only push (a ServiceEntry\'s endpoints changed) regenerates clusters and endpoints only; listeners and routes stay the last push\'s', async () => {
  const { source, server, open } = await setup();
  const client = open();
  await fullySubscribed(client, 'ep1');
  const id = server.status()[0]!.id;
  const listenersBefore = await server.sentResources(id, TYPE_URL.listener);
  const routesBefore = await server.sentResources(id, TYPE_URL.route);
  source.resources = everythingChanged(); // listeners too: an endpoints push must not look at them
  server.push('ServiceEntry endpoints', 'endpoints');
  const cds = await client.next();
  assert.equal(cds.typeUrl, TYPE_URL.cluster);
  client.send({ typeUrl: TYPE_URL.cluster, versionInfo: cds.versionInfo, responseNonce: cds.nonce });
  const eds = await client.next();
  assert.equal(eds.typeUrl, TYPE_URL.endpoint);
  assert.deepEqual(namesOf(eds.resources).sort(), ['c-a', 'c-b']);
  client.send({ typeUrl: TYPE_URL.endpoint, resourceNames: ['c-a', 'c-b'], versionInfo: eds.versionInfo, responseNonce: eds.nonce });
  await client.none(300);
  assert.equal(source.scopes.at(-1), 'endpoints');
  assert.deepEqual(await server.sentResources(id, TYPE_URL.listener), listenersBefore);
  assert.deepEqual(await server.sentResources(id, TYPE_URL.route), routesBefore);
  // The next full push brings the listeners and routes that changed meanwhile.
  server.push('DestinationRule');
  const order: string[] = [];
  for (let i = 0; i < 2; i++) order.push((await client.next()).typeUrl);
  assert.deepEqual(order, [TYPE_URL.listener, TYPE_URL.route]);
  assert.equal(source.scopes.at(-1), 'all');
});

test('a routing-only and an endpoints-only push() debounced together are a full push', async () => {
  const { source, server, open } = await setup({ debounce: { quietMs: 100, maxDelayMs: 1000 } });
  const client = open();
  await fullySubscribed(client, 'ep2');
  source.resources = everythingChanged();
  server.push('VirtualService', 'routing');
  server.push('ServiceEntry endpoints', 'endpoints');
  const order: string[] = [];
  for (let i = 0; i < 4; i++) order.push((await client.next()).typeUrl);
  assert.deepEqual(order, [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route]);
  assert.equal(source.scopes.at(-1), 'all');
});

test('a routing-only push() debounced with any other is a full push', async () => {
  const { source, server, open } = await setup({ debounce: { quietMs: 100, maxDelayMs: 1000 } });
  const client = open();
  await fullySubscribed(client, 'vs2');
  source.resources = everythingChanged();
  server.push('VirtualService', 'routing');
  server.push('DestinationRule');
  server.push('VirtualService', 'routing');
  const order: string[] = [];
  for (let i = 0; i < 4; i++) order.push((await client.next()).typeUrl);
  assert.deepEqual(order, [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route]);
  assert.equal(source.scopes.at(-1), 'all');
});

test('after a failed generate(), the next routing-only push regenerates everything (the kept clusters may be stale)', async () => {
  const { source, server, open } = await setup();
  const client = open();
  await fullySubscribed(client, 'vs3');
  source.failWith = new Error('VirtualService reviews: bad');
  source.resources = everythingChanged(); // e.g. a DestinationRule change in the same failed push
  server.push('DestinationRule + bad VirtualService');
  await until(() => server.counters.generateErrors === 1, 'generate error');
  source.failWith = undefined;
  server.push('VirtualService fixed', 'routing');
  const order: string[] = [];
  for (let i = 0; i < 4; i++) order.push((await client.next()).typeUrl);
  assert.deepEqual(order, [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route]);
  assert.equal(source.scopes.at(-1), 'all');
});
