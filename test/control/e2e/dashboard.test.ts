import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { REVIEWS_SERVICE_ENTRY, REVIEWS_URL, startMesh, until, viaProxy, keepAliveAgent } from '../../support/running-mesh.js';

/*
 * The dashboard in a real browser: headless Chromium (Debian's, driven by playwright-core) opens
 * `tsmesh control`'s /dashboard while a client sidecar calls reviews v1 and v2 through the mesh.
 * The graph shows the edges with their numbers, the numbers move as traffic flows, and a call to
 * a service with no instance shows up as a failure with its response flag in words.
 * DASHBOARD_SCREENSHOT=FILE saves a picture of the page (the one in docs/ comes from here).
 */
const GHOST = `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ghost }
spec:
  hosts: [ghost.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
`;

function chromiumPath(): string {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    try { return execFileSync('which', [c], { encoding: 'utf8' }).trim(); } catch { /* next */ }
  }
  throw new Error('no chromium on PATH: scripts/ensure-system-deps.sh installs Debian\'s chromium');
}

test('the dashboard shows the live service graph, its numbers moving with the traffic, and failures explained', { timeout: 180_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const mesh = await startMesh({
    configFiles: { 'services.yaml': REVIEWS_SERVICE_ENTRY + GHOST },
    workloads: [
      { name: 'productpage-v1', labels: { app: 'productpage', version: 'v1' }, noApp: true },
      { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } },
      { name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } },
    ],
  });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  t.after(async () => { await browser.close(); await mesh.close(); });
  await mesh.waitSynced(['productpage-v1', 'reviews-v1', 'reviews-v2']);
  const client = mesh.workloads.get('productpage-v1')!;
  const agent = keepAliveAgent();
  const send = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) assert.equal((await viaProxy(client.outboundPort, REVIEWS_URL, { agent })).status, 200);
  };
  await send(40);
  for (let i = 0; i < 5; i++) assert.equal((await viaProxy(client.outboundPort, 'http://ghost.default.svc.cluster.local:9080/', { agent })).status, 503);

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${mesh.url}/dashboard`);
  const edge = (version: string): string => `g.edge[data-source-app="productpage"][data-target-app="reviews"][data-target-version="${version}"]`;
  for (const v of ['v1', 'v2']) await page.waitForSelector(edge(v), { timeout: 60_000 });
  const read = async (v: string): Promise<{ total: number; rate: number; label: string }> => page.$eval(edge(v), (g) => ({
    total: Number(g.getAttribute('data-total')), rate: Number(g.getAttribute('data-rate')), label: g.querySelector('text')?.textContent ?? '',
  }));
  const before = { v1: await read('v1'), v2: await read('v2') };
  assert.equal(before.v1.total + before.v2.total, 40, `both versions' edges count the 40 requests: ${JSON.stringify(before)}`);
  assert.match(before.v1.label, /rps/);
  assert.equal(await page.locator('svg g.node').count() >= 3, true);

  // The ghost service has no endpoint: the caller's sidecar answers 503 with flag UH.
  await page.waitForFunction(() => [...document.querySelectorAll('#failures td')].some((td) => td.textContent?.includes('no healthy upstream host')), undefined, { timeout: 30_000 });
  const failureRow = await page.locator('#failures tbody tr', { hasText: 'UH' }).first().innerText();
  assert.match(failureRow, /503/);

  await send(60);
  const after = await until(async () => {
    const a = { v1: await read('v1'), v2: await read('v2') };
    return a.v1.total + a.v2.total === 100 ? a : undefined;
  }, 30_000, () => 'the page did not show the 60 new requests');
  assert.notEqual(after.v1.label + after.v2.label, before.v1.label + before.v2.label, 'the edge labels changed as traffic flowed');
  const syncText = await page.locator('#sync').innerText();
  for (const n of ['productpage-v1', 'reviews-v1', 'reviews-v2']) assert.match(syncText, new RegExp(n));
  assert.match(syncText, /SYNCED/);
  await page.locator('#services details[data-host="reviews.default.svc.cluster.local"] summary').click();
  assert.match(await page.locator('#services details[data-host="reviews.default.svc.cluster.local"]').innerText(), /ServiceEntry default\/reviews/);
  const shot = process.env['DASHBOARD_SCREENSHOT'];
  if (shot) await page.screenshot({ path: shot, fullPage: true });
});
