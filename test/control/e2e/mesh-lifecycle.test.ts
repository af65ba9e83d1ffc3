import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REVIEWS_SERVICE_ENTRY, REVIEWS_URL, startMesh, tally, until, viaProxy, type Mesh } from '../../support/running-mesh.js';
import { tsmesh } from '../../support/control.js';

/*
 * The mesh over time, with `--registry-grace-s 1`: bad config refused (API) or skipped (watched
 * directory) while routing keeps the last good version; a workload's sidecar registering it
 * on connect and its endpoint leaving after the grace period; the control plane going away and
 * coming back on the same ports and data dir.
 */
const API_HOST = 'http://api.internal';


const reviewsVs = (subset: string, weight = '100'): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route: [{ destination: { host: reviews, subset: ${subset} }, weight: ${weight} }]
`;

// A VirtualService for a host that is no service: a virtual host on port 80 in front of reviews.
const apiVs = (subset: string, extra = ''): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: api }
spec:
  hosts: [api.internal]
  http:
  - route: [{ destination: { host: reviews.default.svc.cluster.local, subset: ${subset}, port: { number: 9080 } } }]${extra}
`;

let mesh: Mesh;
let client: number;
before(async () => {
  mesh = await startMesh({
    graceS: 1,
    configFiles: { 'services.yaml': REVIEWS_SERVICE_ENTRY },
    workloads: [
      { name: 'client', labels: { app: 'client' }, noApp: true },
      { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, xdsApi: 'delta' },
      { name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } },
    ],
  });
  client = mesh.workloads.get('client')!.outboundPort;
  await mesh.apply(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---${reviewsVs('v1')}`);
  await until(async () => (await tally(client, `${REVIEWS_URL}/`, 10))['reviews-v1'] === 10 || undefined, 20_000, () => 'all-v1 never took effect');
});
after(async () => { await mesh?.close(); });

const errors = async (): Promise<string[]> => ((await (await fetch(`${mesh.url}/api/v1/config-errors`)).json()) as { details: string[] }).details;

test('bad config: tsmesh apply refuses it with resource, path and reason; a broken watched file is reported; routing keeps the last good version', async () => {
  const refused = await tsmesh(['apply', '-f', '-', '--control', mesh.url], reviewsVs('v2', '"abc"'));
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'invalid configuration, nothing was applied:\nVirtualService default/reviews: spec.http[0].route[0].weight: expected an integer 0-100, got "abc"\n');
  assert.deepEqual(await tally(client, `${REVIEWS_URL}/`, 20), { 'reviews-v1': 20 }, 'routing unchanged');
  const stored = JSON.parse((await tsmesh(['get', 'vs', 'reviews', '-o', 'json', '--control', mesh.url])).stdout) as { spec: unknown };
  assert.deepEqual(stored.spec, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }] }] });

  const file = join(mesh.configDir, 'api.yaml');
  writeFileSync(file, apiVs('v2'));
  await until(async () => (await viaProxy(client, `${API_HOST}/`)).json?.name === 'reviews-v2' || undefined, 20_000, () => 'the watched file never took effect');
  writeFileSync(file, apiVs('v1', '\n    timeout: soon'));
  await until(async () => (await errors()).length > 0 || undefined, 20_000, () => 'the broken file was never reported');
  assert.deepEqual(await errors(), ['api.yaml: VirtualService default/api: spec.http[0].timeout: expected a duration such as "1s", "100ms" or "1m30s", got "soon"']);
  assert.deepEqual(await tally(client, `${API_HOST}/`, 20), { 'reviews-v2': 20 }, 'the last good version of the file keeps routing');
  writeFileSync(file, apiVs('v1'));
  await until(async () => (await tally(client, `${API_HOST}/`, 5))['reviews-v1'] === 5 || undefined, 20_000, () => 'the fixed file never took effect');
  assert.deepEqual(await errors(), []);
  unlinkSync(file);
});

test('auto-registration: a connecting sidecar becomes an endpoint; after the grace period it is gone', async () => {
  const endpoints = async (): Promise<string> => {
    const r = await tsmesh(['proxy-config', 'endpoints', 'client', '--control', mesh.url]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const clientDump = async (): Promise<string> => {
    const id = (await mesh.syncz()).find((e) => e.identity.name === 'client')!.id;
    return JSON.stringify(await (await fetch(`${mesh.url}/debug/config_dump?proxy=${encodeURIComponent(id)}`)).json());
  };
  const extra = await mesh.addWorkload({ name: 'reviews-extra', labels: { app: 'reviews', version: 'v1' } });
  const line = new RegExp(`^127\\.0\\.0\\.1:${extra.inboundPort}\\s+HEALTHY\\s+1\\s+outbound\\|9080\\|v1\\|reviews\\.default\\.svc\\.cluster\\.local$`, 'm');
  await until(async () => (await clientDump()).includes(`"portValue":${extra.inboundPort}`) || undefined, 20_000, () => 'the new workload never reached the client');
  assert.match(await endpoints(), line);
  // It has the v1 label: traffic routed to subset v1 reaches it, through its own sidecar.
  await until(async () => (await tally(client, `${REVIEWS_URL}/`, 20))['reviews-extra'] || undefined, 20_000, () => 'traffic never reached the new workload');

  await extra.stop('SIGKILL');
  await until(async () => (!(await clientDump()).includes(`"portValue":${extra.inboundPort}`)) || undefined, 20_000, () => 'the endpoint stayed after the grace period');
  assert.doesNotMatch(await endpoints(), line);
  assert.match(mesh.controlOutput(), /reviews-extra\.default disconnected; its endpoints stay for 1000 ms/);
  assert.match(mesh.controlOutput(), /registry: reviews-extra\.default removed after its grace period/);
  assert.deepEqual(await tally(client, `${REVIEWS_URL}/`, 10), { 'reviews-v1': 10 });
});

test('control plane away: sidecars keep serving; restarted on the same ports and data dir it restores its state and reprograms them', async () => {
  await mesh.stopControl();
  assert.deepEqual(await tally(client, `${REVIEWS_URL}/`, 20), { 'reviews-v1': 20 }, 'the sidecars keep what they have');
  const down = await tsmesh(['proxy-status', '--control', mesh.url]);
  assert.equal(down.code, 1);

  // Requests keep going while it comes back and the sidecars reconnect.
  const failures: string[] = [];
  let stop = false;
  let sent = 0;
  const load = (async () => {
    while (!stop) {
      sent++;
      const r = await viaProxy(client, `${REVIEWS_URL}/`).catch((e: Error) => ({ status: 0, body: e.message, json: undefined }));
      if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  try {
    await mesh.startControl();
    const stored = await tsmesh(['get', 'vs', 'reviews', '-o', 'json', '--control', mesh.url]);
    assert.equal(stored.code, 0, 'applied config survives the restart');
    await mesh.waitSynced(['client', 'reviews-v1', 'reviews-v2']);
    const status = await tsmesh(['proxy-status', '--control', mesh.url]);
    assert.equal(status.stdout.split('\n').filter((l) => /\s+SYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s+/.test(l)).length, 3, status.stdout);
    await new Promise((res) => setTimeout(res, 1500)); // past the registry grace period
  } finally {
    stop = true;
    await load;
  }
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed while the control plane came back`);
  assert.deepEqual(await tally(client, `${REVIEWS_URL}/`, 10), { 'reviews-v1': 10 });

  await mesh.apply(reviewsVs('v2'));
  await until(async () => (await tally(client, `${REVIEWS_URL}/`, 10))['reviews-v2'] === 10 || undefined, 20_000, () => 'the change after the restart never reached the client');
});
