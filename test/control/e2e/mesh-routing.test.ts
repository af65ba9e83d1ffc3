import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { REVIEWS_SERVICE_ENTRY, startMesh, startTestApp, tally, until, viaProxy, type Mesh, type TestApp } from '../../support/running-mesh.js';
import { tsmesh } from '../../support/control.js';

/*
 * Routing through sidecars programmed by `tsmesh control`: two client sidecars (one State of the
 * World, one Delta) call reviews (v1 behind a SotW sidecar, v2 behind a Delta one) and ratings
 * (two inline ServiceEntry endpoints, one of them broken) by name, as HTTP_PROXY clients do.
 * What a user sees: which version answers, redirects, direct responses, injected faults,
 * retries hiding the broken endpoint; and proxy-status / proxy-config showing it all.
 */
const REVIEWS = 'http://reviews.default.svc.cluster.local:9080';
const RATINGS = 'http://ratings.default.svc.cluster.local:9080';
const CLIENTS = ['client-sotw', 'client-delta'] as const;

const services = (good: number, bad: number): string => `${REVIEWS_SERVICE_ENTRY}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ratings }
spec:
  hosts: [ratings.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints:
  - { address: 127.0.0.1, ports: { http: ${good} }, labels: { instance: good } }
  - { address: 127.0.0.1, ports: { http: ${bad} }, labels: { instance: bad } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;

const REVIEWS_VS = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - match: [{ uri: { prefix: /old } }]
    redirect: { uri: /new, redirectCode: 301 }
  - match: [{ uri: { exact: /maintenance } }]
    directResponse: { status: 503, body: { string: "down for maintenance" } }
  - match: [{ headers: { x-chaos: { exact: "on" } } }]
    fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }
    route: [{ destination: { host: reviews, subset: v1 } }]
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 70 }
    - { destination: { host: reviews, subset: v2 }, weight: 30 }
`;

const ratingsVs = (retries: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - route: [{ destination: { host: ratings } }]
    retries: ${retries}
`;

let mesh: Mesh;
let good: TestApp, bad: TestApp;
before(async () => {
  [good, bad] = [await startTestApp('ratings-good', { app: 'ratings' }), await startTestApp('ratings-bad', { app: 'ratings' })];
  bad.mode = 'fail';
  mesh = await startMesh({
    configFiles: { 'services.yaml': services(good.port, bad.port) },
    workloads: [
      { name: 'client-sotw', labels: { app: 'client' }, xdsApi: 'sotw', noApp: true },
      { name: 'client-delta', labels: { app: 'client' }, xdsApi: 'delta', noApp: true },
      { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, xdsApi: 'sotw' },
      { name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' }, xdsApi: 'delta' },
    ],
  });
});
after(async () => { await mesh?.close(); await good?.close(); await bad?.close(); });

const out = (name: string): number => mesh.workloads.get(name)!.outboundPort;

test('VirtualService and DestinationRule subsets route calls by name through SotW and Delta sidecars', async () => {
  await mesh.apply(REVIEWS_VS);
  for (const client of CLIENTS) {
    // Before the VirtualService, reviews is one cluster of both versions: wait for a route only it has.
    await until(async () => (await viaProxy(out(client), `${REVIEWS}/maintenance`)).body === 'down for maintenance' || undefined, 20_000, () => `${client}: the VirtualService never arrived`);
    const jason = await tally(out(client), `${REVIEWS}/r`, 10, { headers: { 'end-user': 'jason' } });
    assert.deepEqual(jason, { 'reviews-v2': 10 }, `${client}: header match`);

    // 70/30: both subsets answer, v1 more often (P(v2 ≥ v1 in 80) < 1e-3).
    const canary = await tally(out(client), `${REVIEWS}/r`, 80);
    assert.deepEqual(Object.keys(canary).sort(), ['reviews-v1', 'reviews-v2'], `${client}: ${JSON.stringify(canary)}`);
    assert.ok(canary['reviews-v1']! > canary['reviews-v2']!, `${client}: weights 70/30 gave ${JSON.stringify(canary)}`);

    const moved = await viaProxy(out(client), `${REVIEWS}/old/page`);
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, 'http://reviews.default.svc.cluster.local:9080/new');

    const down = await viaProxy(out(client), `${REVIEWS}/maintenance`);
    assert.deepEqual([down.status, down.body], [503, 'down for maintenance']);

    const chaos = await viaProxy(out(client), `${REVIEWS}/r`, { headers: { 'x-chaos': 'on' } });
    assert.deepEqual([chaos.status, chaos.body, chaos.headers['x-served-by']], [418, 'fault filter abort', undefined]);

    const app = await viaProxy(out(client), `${REVIEWS}/some/path?q=1`, { headers: { 'end-user': 'jason' } });
    assert.deepEqual([app.json?.path, app.json?.host], ['/some/path?q=1', 'reviews.default.svc.cluster.local:9080'], 'the app sees the request as sent');
  }
});

test('retries hide a failing endpoint of a ServiceEntry', async () => {
  await mesh.apply(ratingsVs('{ attempts: 0 }'));
  await until(async () => (await tally(out('client-sotw'), `${RATINGS}/`, 20))['HTTP 503'] || undefined, 20_000, () => 'the broken endpoint never showed without retries');
  await mesh.apply(ratingsVs('{ attempts: 3, retryOn: 5xx }'));
  for (const client of CLIENTS) {
    await until(async () => { const t = await tally(out(client), `${RATINGS}/`, 15); return t['ratings-good'] === 15 || undefined; }, 20_000, () => `${client}: retries never took effect`);
    const badBefore = bad.served;
    assert.deepEqual(await tally(out(client), `${RATINGS}/`, 30), { 'ratings-good': 30 }, `${client}: every call answered by the good instance`);
    assert.ok(bad.served > badBefore, 'the broken instance was still tried: the retries hid it');
  }
});

test('proxy-status lists every sidecar SYNCED; proxy-config prints Istio-named resources', async () => {
  const names = ['client-sotw', 'client-delta', 'reviews-v1', 'reviews-v2'];
  await mesh.waitSynced(names);
  const status = await tsmesh(['proxy-status', '--control', mesh.url]);
  assert.equal(status.code, 0, status.stderr);
  const lines = status.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NAME\s+XDS\s+CDS\s+LDS\s+EDS\s+RDS\s+LAST PUSH\s+NODE ID$/);
  for (const [name, api] of [['client-sotw', 'SOTW'], ['client-delta', 'DELTA'], ['reviews-v1', 'SOTW'], ['reviews-v2', 'DELTA']]) {
    assert.ok(lines.some((l) => new RegExp(`^${name}\\.default\\s+${api}\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+`).test(l)), `${name}:\n${status.stdout}`);
  }
  assert.equal(lines.length, 1 + names.length, status.stdout);

  const cfg = async (kind: string, proxy: string): Promise<string> => {
    const r = await tsmesh(['proxy-config', kind, proxy, '--control', mesh.url]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const [clusters, inboundClusters, listeners, routes, endpoints, unknown] = await Promise.all([
    cfg('clusters', 'client-delta'), cfg('clusters', 'reviews-v1'), cfg('listeners', 'reviews-v2'), cfg('routes', 'client-sotw'), cfg('endpoints', 'client-sotw'),
    tsmesh(['proxy-config', 'clusters', 'nobody', '--control', mesh.url]),
  ]);
  // outbound|<port>|<subset>|<host> as SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE.
  for (const subset of ['-', 'v1', 'v2']) assert.match(clusters, new RegExp(`^reviews\\.default\\.svc\\.cluster\\.local\\s+9080\\s+${subset}\\s+outbound\\s+EDS\\s*$`, 'm'), clusters);
  assert.match(clusters, /^ratings\.default\.svc\.cluster\.local\s+9080\s+-\s+outbound\s+EDS\s*$/m);
  assert.match(clusters, /^PassthroughCluster\s/m);
  assert.match(inboundClusters, new RegExp(`^-\\s+${mesh.workloads.get('reviews-v1')!.app!.port}\\s+-\\s+inbound\\s+STATIC\\s*$`, 'm'), inboundClusters);

  assert.match(listeners, new RegExp(`^virtualOutbound\\s+127\\.0\\.0\\.1\\s+${out('reviews-v2')}\\s+yes\\s+Route: http_proxy`, 'm'), listeners);
  // Without traffic capture nothing reaches per-port listeners: the app calls through http_proxy.
  assert.doesNotMatch(listeners, /^0\.0\.0\.0_9080\s/m, listeners);
  assert.match(listeners, new RegExp(`^virtualInbound\\s+\\S+\\s+${mesh.workloads.get('reviews-v2')!.inboundPort}\\s+yes\\s+`, 'm'));
  assert.match(routes, /^http_proxy\s+reviews\.default\.svc\.cluster\.local:9080\s+/m, routes);

  const [v1, v2] = [mesh.workloads.get('reviews-v1')!, mesh.workloads.get('reviews-v2')!];
  assert.match(endpoints, new RegExp(`^127\\.0\\.0\\.1:${v1.inboundPort}\\s+HEALTHY\\s+1\\s+outbound\\|9080\\|v1\\|reviews\\.default\\.svc\\.cluster\\.local$`, 'm'), 'a sidecar is registered at its inbound port');
  assert.match(endpoints, new RegExp(`^127\\.0\\.0\\.1:${v2.inboundPort}\\s+HEALTHY\\s+1\\s+outbound\\|9080\\|v2\\|reviews\\.default\\.svc\\.cluster\\.local$`, 'm'));
  assert.match(endpoints, new RegExp(`^127\\.0\\.0\\.1:${bad.port}\\s+HEALTHY\\s+1\\s+outbound\\|9080\\|\\|ratings\\.default\\.svc\\.cluster\\.local$`, 'm'));

  assert.deepEqual([unknown.code, unknown.stderr], [1, 'no connected proxy "nobody" (see tsmesh proxy-status)\n']);
});
