import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { AdsTestClient, testNode } from './ads-client.js';
import { TestSource, twoServices, edsCluster, cla } from './fixtures.js';
import { namesOf, startServer, until } from './harness.js';

const clients: { close(): void }[] = [];
const servers: { close(): Promise<void> }[] = [];
after(async () => { for (const c of clients) c.close(); for (const s of servers) await s.close(); });

async function setup() {
  const source = new TestSource(twoServices());
  const { server, port } = await startServer(source);
  servers.push(server);
  const open = () => { const c = AdsTestClient.delta(port); clients.push(c); return c; };
  return { source, server, open };
}

test('Delta: an empty first CDS subscription is a wildcard; each resource carries its own version', async () => {
  const { server, open } = await setup();
  const client = open();
  client.send({ node: testNode('d1'), typeUrl: TYPE_URL.cluster });
  const res = await client.next();
  assert.deepEqual(namesOf(res.resources.map((r) => r.resource)), ['c-a', 'c-b']);
  assert.deepEqual(res.resources.map((r) => r.name), ['c-a', 'c-b']);
  assert.ok(res.resources.every((r) => r.version.length > 0));
  assert.notEqual(res.resources[0]!.version, res.resources[1]!.version);
  assert.deepEqual(res.removedResources, []);
  client.send({ typeUrl: TYPE_URL.cluster, responseNonce: res.nonce });
  await until(() => server.status()[0]?.types[TYPE_URL.cluster]?.state === 'SYNCED', 'SYNCED');
  assert.equal(server.status()[0]!.stream, 'delta');
});

test('Delta: a change sends only the changed resource, a removal goes in removed_resources', async () => {
  const { source, server, open } = await setup();
  const client = open();
  client.send({ node: testNode('d2'), typeUrl: TYPE_URL.cluster, resourceNamesSubscribe: ['*'] });
  const first = await client.next();
  client.send({ typeUrl: TYPE_URL.cluster, responseNonce: first.nonce });
  client.send({ typeUrl: TYPE_URL.endpoint, resourceNamesSubscribe: ['c-a', 'c-b'] });
  const e1 = await client.next();
  assert.deepEqual(e1.resources.map((r) => r.name).sort(), ['c-a', 'c-b']);
  client.send({ typeUrl: TYPE_URL.endpoint, responseNonce: e1.nonce });

  source.resources = { ...source.resources, endpoints: [cla('c-a', [8001, 8003]), cla('c-b', [8002])] };
  server.push('endpoint of a');
  const e2 = await client.next();
  assert.equal(e2.typeUrl, TYPE_URL.endpoint);
  assert.deepEqual(e2.resources.map((r) => r.name), ['c-a']);
  assert.notEqual(e2.resources[0]!.version, e1.resources.find((r) => r.name === 'c-a')!.version);
  assert.deepEqual(e2.removedResources, []);
  client.send({ typeUrl: TYPE_URL.endpoint, responseNonce: e2.nonce });
  await client.none(); // clusters did not change: no CDS response
  const sent = await server.sentResources(server.status()[0]!.id, TYPE_URL.endpoint) as { clusterName: string; endpoints: { lbEndpoints: unknown[] }[] }[];
  assert.deepEqual(sent.map((c) => [c.clusterName, c.endpoints[0]!.lbEndpoints.length]).sort(), [['c-a', 2], ['c-b', 1]]);

  source.resources = { ...source.resources, clusters: [edsCluster('c-a')], endpoints: [cla('c-a', [8001, 8003])] };
  server.push('remove b');
  const c2 = await client.next();
  assert.equal(c2.typeUrl, TYPE_URL.cluster);
  assert.deepEqual(c2.resources, []);
  assert.deepEqual(c2.removedResources, ['c-b']);
  const e3 = await client.next();
  assert.equal(e3.typeUrl, TYPE_URL.endpoint);
  assert.deepEqual(e3.removedResources, ['c-b']);
  assert.deepEqual(e3.resources, []);
});

test('Delta: unsubscribe stops updates for a name; subscribing again sends it; a missing name is reported removed', async () => {
  const { source, server, open } = await setup();
  const client = open();
  client.send({ node: testNode('d3'), typeUrl: TYPE_URL.route, resourceNamesSubscribe: ['r-a', 'r-b'] });
  const r1 = await client.next();
  assert.deepEqual(r1.resources.map((r) => r.name).sort(), ['r-a', 'r-b']);
  client.send({ typeUrl: TYPE_URL.route, responseNonce: r1.nonce, resourceNamesUnsubscribe: ['r-b'] });
  await client.none(); // an unsubscribe needs no answer
  source.resources = { ...source.resources, routes: [source.resources.routes[0]!, { ...source.resources.routes[1]!, name: 'r-b', validateClusters: true }] };
  server.push('r-b changed');
  await client.none(); // r-b is not subscribed any more
  client.send({ typeUrl: TYPE_URL.route, resourceNamesSubscribe: ['r-b', 'r-nope'] });
  const r2 = await client.next();
  assert.deepEqual(r2.resources.map((r) => r.name), ['r-b']);
  assert.deepEqual(r2.removedResources, ['r-nope']);
  assert.equal(server.status()[0]!.types[TYPE_URL.route]!.state, 'STALE');
});

test('Delta: on reconnect, initial_resource_versions are not resent; changed and vanished ones are', async () => {
  const { source, server, open } = await setup();
  const a = open();
  a.send({ node: testNode('d4'), typeUrl: TYPE_URL.endpoint, resourceNamesSubscribe: ['c-a', 'c-b'] });
  const e1 = await a.next();
  const versions = Object.fromEntries(e1.resources.map((r) => [r.name, r.version]));
  a.close();

  const b = open();
  b.send({ node: testNode('d4'), typeUrl: TYPE_URL.endpoint, resourceNamesSubscribe: ['c-a', 'c-b'], initialResourceVersions: versions });
  const same = await b.next();
  assert.deepEqual(same.resources, [], 'nothing the client already has is sent');
  assert.deepEqual(same.removedResources, []);
  b.close();

  source.resources = { ...source.resources, clusters: [edsCluster('c-a')], endpoints: [cla('c-a', [9999])] };
  server.push('endpoints changed while the proxy was away');
  server.flush();
  const c = open();
  c.send({ node: testNode('d4'), typeUrl: TYPE_URL.endpoint, resourceNamesSubscribe: ['c-a', 'c-b'], initialResourceVersions: versions });
  const changed = await c.next();
  assert.deepEqual(changed.resources.map((r) => r.name), ['c-a']);
  assert.deepEqual(changed.removedResources, ['c-b']);
});

test('Delta: a NACK is recorded with its message and later changes are still sent', async () => {
  const { source, server, open } = await setup();
  const client = open();
  client.send({ node: testNode('d5'), typeUrl: TYPE_URL.cluster });
  const c1 = await client.next();
  client.send({ typeUrl: TYPE_URL.cluster, responseNonce: c1.nonce, errorDetail: { code: 3, message: 'c-b: unsupported' } });
  await until(() => server.status()[0]!.types[TYPE_URL.cluster]!.state === 'NACK', 'NACK');
  assert.equal(server.status()[0]!.types[TYPE_URL.cluster]!.lastNack!.message, 'c-b: unsupported');
  source.resources = { ...source.resources, clusters: [edsCluster('c-a'), edsCluster('c-c')] };
  server.push('replace b by c');
  const c2 = await client.next();
  assert.deepEqual(c2.resources.map((r) => r.name), ['c-c']);
  assert.deepEqual(c2.removedResources, ['c-b']);
});
