import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URL } from '../../../src/control/translate/types.js';
import { AdsTestClient, testNode } from './ads-client.js';
import { TestSource, twoServices, edsCluster, cla, route } from './fixtures.js';
import { namesOf, startServer, until } from './harness.js';

const clients: { close(): void }[] = [];
const servers: { close(): Promise<void> }[] = [];
after(async () => { for (const c of clients) c.close(); for (const s of servers) await s.close(); });

async function setup() {
  const source = new TestSource(twoServices());
  const { server, port } = await startServer(source);
  servers.push(server);
  const client = AdsTestClient.sotw(port);
  clients.push(client);
  return { source, server, client };
}

test('SotW: first CDS request (empty names = wildcard) gets every cluster with a version and a nonce; ACK makes it SYNCED', async () => {
  const { server, client } = await setup();
  client.send({ node: testNode('app1'), typeUrl: TYPE_URL.cluster });
  const res = await client.next();
  assert.equal(res.typeUrl, TYPE_URL.cluster);
  assert.deepEqual(namesOf(res.resources), ['c-a', 'c-b']);
  assert.ok(res.versionInfo.length > 0 && res.nonce.length > 0);
  const [st] = server.status();
  assert.equal(st!.identity.name, 'app1');
  assert.equal(st!.stream, 'sotw');
  assert.equal(st!.types[TYPE_URL.cluster]!.state, 'STALE');
  const acks: [string, string, string][] = [];
  server.onAck((id, typeUrl, version) => acks.push([id, typeUrl, version]));
  client.send({ typeUrl: TYPE_URL.cluster, versionInfo: res.versionInfo, responseNonce: res.nonce });
  await until(() => server.status()[0]!.types[TYPE_URL.cluster]!.state === 'SYNCED', 'SYNCED');
  assert.deepEqual(acks, [[st!.id, TYPE_URL.cluster, res.versionInfo]]);
  assert.equal(server.status()[0]!.types[TYPE_URL.cluster]!.ackedVersion, res.versionInfo);
  assert.equal(server.counters.acks, 1);
  await client.none(); // an ACK is not answered
});

test('SotW: a NACK is kept with its message, the acked version stays, and later pushes still go out', async () => {
  const { source, server, client } = await setup();
  client.send({ node: testNode('app2'), typeUrl: TYPE_URL.cluster });
  const v1 = await client.next();
  client.send({ typeUrl: TYPE_URL.cluster, versionInfo: v1.versionInfo, responseNonce: v1.nonce });
  source.resources = { ...source.resources, clusters: [edsCluster('c-a'), edsCluster('c-b'), edsCluster('c-c')] };
  server.push('add c-c');
  const v2 = await client.next();
  assert.deepEqual(namesOf(v2.resources), ['c-a', 'c-b', 'c-c']);
  assert.notEqual(v2.versionInfo, v1.versionInfo);
  client.send({ typeUrl: TYPE_URL.cluster, versionInfo: v1.versionInfo, responseNonce: v2.nonce, errorDetail: { code: 3, message: 'cluster c-c: bad lb policy' } });
  await until(() => server.status()[0]!.types[TYPE_URL.cluster]!.state === 'NACK', 'NACK');
  const st = server.status()[0]!.types[TYPE_URL.cluster]!;
  assert.equal(st.lastNack!.message, 'cluster c-c: bad lb policy');
  assert.equal(st.ackedVersion, v1.versionInfo);
  assert.equal(st.sentVersion, v2.versionInfo);
  assert.equal(server.counters.nacks, 1);
  await client.none(); // a NACK is not answered by resending the same thing
  source.resources = { ...source.resources, clusters: [edsCluster('c-a'), edsCluster('c-b')] };
  server.push('fix c-c');
  const v3 = await client.next();
  assert.deepEqual(namesOf(v3.resources), ['c-a', 'c-b']);
  client.send({ typeUrl: TYPE_URL.cluster, versionInfo: v3.versionInfo, responseNonce: v3.nonce });
  await until(() => server.status()[0]!.types[TYPE_URL.cluster]!.state === 'SYNCED', 'SYNCED after fix');
  assert.equal(server.status()[0]!.types[TYPE_URL.cluster]!.lastNack!.message, 'cluster c-c: bad lb policy', 'the last NACK stays visible');
});

test('SotW: RDS and EDS send only the requested names; a changed subscription is answered', async () => {
  const { client } = await setup();
  client.send({ node: testNode('app3'), typeUrl: TYPE_URL.endpoint, resourceNames: ['c-b'] });
  const e1 = await client.next();
  assert.deepEqual(namesOf(e1.resources), ['c-b']);
  client.send({ node: testNode('app3'), typeUrl: TYPE_URL.route, resourceNames: ['r-a'] });
  const r1 = await client.next();
  assert.equal(r1.typeUrl, TYPE_URL.route);
  assert.deepEqual(namesOf(r1.resources), ['r-a']);
  client.send({ typeUrl: TYPE_URL.endpoint, versionInfo: e1.versionInfo, responseNonce: e1.nonce, resourceNames: ['c-a', 'c-b', 'c-missing'] });
  const e2 = await client.next();
  assert.deepEqual(namesOf(e2.resources).sort(), ['c-a', 'c-b']);
  assert.notEqual(e2.versionInfo, e1.versionInfo);
});

test('SotW: LDS/CDS removal is by omission; RDS/EDS of unchanged names are not resent', async () => {
  const { source, server, client } = await setup();
  client.send({ node: testNode('app4'), typeUrl: TYPE_URL.cluster });
  const c1 = await client.next();
  client.send({ typeUrl: TYPE_URL.cluster, versionInfo: c1.versionInfo, responseNonce: c1.nonce });
  client.send({ typeUrl: TYPE_URL.endpoint, resourceNames: ['c-a'] });
  const e1 = await client.next();
  client.send({ typeUrl: TYPE_URL.endpoint, versionInfo: e1.versionInfo, responseNonce: e1.nonce, resourceNames: ['c-a'] });
  source.resources = { ...source.resources, clusters: [edsCluster('c-a')], endpoints: [cla('c-a', [8001])] };
  server.push('remove b');
  const c2 = await client.next();
  assert.equal(c2.typeUrl, TYPE_URL.cluster);
  assert.deepEqual(namesOf(c2.resources), ['c-a']);
  await client.none(); // c-a's endpoints did not change: no EDS response
});

test('SotW: a push sends only the RDS/EDS resources that changed since the ACKed version; a NACKed one is resent', async () => {
  const { source, server, client } = await setup();
  client.send({ node: testNode('app6'), typeUrl: TYPE_URL.endpoint, resourceNames: ['c-a', 'c-b'] });
  const e1 = await client.next();
  assert.deepEqual(namesOf(e1.resources).sort(), ['c-a', 'c-b']);
  client.send({ typeUrl: TYPE_URL.endpoint, versionInfo: e1.versionInfo, responseNonce: e1.nonce, resourceNames: ['c-a', 'c-b'] });
  await until(() => server.status()[0]!.types[TYPE_URL.endpoint]!.state === 'SYNCED', 'SYNCED');
  source.resources = { ...source.resources, endpoints: [cla('c-a', [8001]), cla('c-b', [9999])] };
  server.push('move c-b');
  const e2 = await client.next();
  assert.deepEqual(namesOf(e2.resources), ['c-b'], 'c-a did not change');
  assert.notEqual(e2.versionInfo, e1.versionInfo);
  // The client rejects e2: the next push must carry c-b again (it still has the old one), with c-a.
  client.send({ typeUrl: TYPE_URL.endpoint, versionInfo: e1.versionInfo, responseNonce: e2.nonce, resourceNames: ['c-a', 'c-b'], errorDetail: { code: 3, message: 'no' } });
  await until(() => server.status()[0]!.types[TYPE_URL.endpoint]!.state === 'NACK', 'NACK');
  source.resources = { ...source.resources, endpoints: [cla('c-a', [7777]), cla('c-b', [9999])] };
  server.push('move c-a');
  const e3 = await client.next();
  assert.deepEqual(namesOf(e3.resources).sort(), ['c-a', 'c-b']);
  client.send({ typeUrl: TYPE_URL.endpoint, versionInfo: e3.versionInfo, responseNonce: e3.nonce, resourceNames: ['c-a', 'c-b'] });
  await until(() => server.status()[0]!.types[TYPE_URL.endpoint]!.state === 'SYNCED', 'SYNCED again');
  assert.equal((await server.sentResources(server.status()[0]!.id, TYPE_URL.endpoint))!.length, 2, 'the proxy has both');
});

test('SotW: a request with a stale nonce is ignored; an unknown type URL is ignored and the stream lives on', async () => {
  const { source, server, client } = await setup();
  client.send({ node: testNode('app5'), typeUrl: TYPE_URL.route, resourceNames: ['r-a'] });
  const r1 = await client.next();
  client.send({ typeUrl: 'type.googleapis.com/envoy.config.core.v3.Nonsense', resourceNames: ['x'] });
  source.resources = { ...source.resources, routes: [route('r-a', 'c-b'), route('r-b', 'c-a')] };
  server.push('route change');
  const r2 = await client.next();
  // The client answers r1 late (it had not seen r2): a new subscription under an old nonce.
  client.send({ typeUrl: TYPE_URL.route, versionInfo: r1.versionInfo, responseNonce: r1.nonce, resourceNames: ['r-a', 'r-b'] });
  await until(() => server.counters.staleNonces === 1, 'stale nonce counted');
  await client.none();
  assert.equal(server.status()[0]!.types[TYPE_URL.route]!.state, 'STALE');
  assert.equal(server.counters.unknownTypeRequests, 1);
  client.send({ typeUrl: TYPE_URL.route, versionInfo: r2.versionInfo, responseNonce: r2.nonce, resourceNames: ['r-a', 'r-b'] });
  const r3 = await client.next();
  assert.deepEqual(namesOf(r3.resources).sort(), ['r-a', 'r-b']);
});
