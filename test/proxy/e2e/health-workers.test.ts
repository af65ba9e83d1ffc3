import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, request } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { eventually, healthFlags, meshBootstrap, staticCluster, statValue } from '../../support/mesh.js';

// With two worker threads, host health is the instance's: one consecutive-failure count, one
// ejection, one set of flags every worker obeys, health checks sent once, stats counted once.
let proxy: RunningProxy;
let port: number;
let odA: FaultyUpstream, odB: FaultyUpstream, hcA: FaultyUpstream, hcB: FaultyUpstream;

before(async () => {
  odA = await faultyUpstream({ name: 'odA' });
  odB = await faultyUpstream({ name: 'odB' });
  hcA = await faultyUpstream({ name: 'hcA' });
  hcB = await faultyUpstream({ name: 'hcB' });
  port = await freePort();
  proxy = await startProxy(meshBootstrap({
    listenPort: port,
    routes: [['/od', 'od'], ['/hc', 'hc']],
    clusters: [
      staticCluster('od', [odA.port, odB.port], 'outlier_detection: { consecutive_5xx: 6, base_ejection_time: 600s, max_ejection_percent: 50 }'),
      staticCluster('hc', [hcA.port, hcB.port], 'health_checks: [ { timeout: 3s, interval: 0.1s, no_traffic_interval: 0.1s, unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: "/healthz" } } ]'),
    ],
  }), { concurrency: 2 });
});

after(async () => {
  await proxy.stop();
  await Promise.all([odA, odB, hcA, hcB].map((u) => u.close()));
});

/** One request on a fresh connection: the kernel spreads those over both workers' sockets. */
const fresh = async (path: string) => request(port, { path });

test('consecutive 5xx seen by either worker add up to one count and one ejection', async () => {
  odA.setDefault({ kind: 'status', status: 503 });
  await eventually('6 requests at the failing host', async () => {
    await fresh('/od');
    return odA.seen.length >= 6 ? true : undefined;
  });
  // The 6th 503 ejected it, whichever worker saw it: no worker sends it a 7th request.
  assert.equal(odA.seen.length, 6);
  assert.equal(healthFlags((await proxy.admin('/clusters')).body, 'od', odA.port), '/failed_outlier_check');
  for (let i = 0; i < 40; i++) assert.equal((await fresh('/od')).headers['x-upstream'], 'odB');
  assert.equal(odA.seen.length, 6);
  const s = (await proxy.admin('/stats?filter=cluster\\.od\\.')).body;
  assert.equal(statValue(s, 'cluster.od.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
  assert.equal(statValue(s, 'cluster.od.outlier_detection.ejections_active'), 1);
  assert.equal(statValue(s, 'cluster.od.membership_healthy'), 1);
});

test('health checks run once per instance, and every worker obeys their verdict', async () => {
  const checks = () => [hcA, hcB].reduce((n, u) => n + u.seen.filter((r) => r.url === '/healthz').length, 0);
  await eventually('some checks', () => (checks() >= 10 ? true : undefined));
  // One checker (not one per thread): each host has seen one connection, the checker's, kept
  // open between checks (no traffic was sent to this cluster yet).
  assert.equal(hcA.connections, 1);
  assert.equal(hcB.connections, 1);
  // ...and as many checks arrived as were counted, give or take one in flight per host.
  const seenBefore = checks();
  const attempts = statValue((await proxy.admin('/stats')).body, 'cluster.hc.health_check.attempt')!;
  const seenAfter = checks();
  assert.ok(seenBefore <= attempts && attempts <= seenAfter + 2, `attempts ${attempts}, checks seen ${seenBefore}..${seenAfter}`);
  hcA.setDefault({ kind: 'status', status: 503 });
  await eventually('hcA to fail its check', async () => (healthFlags((await proxy.admin('/clusters')).body, 'hc', hcA.port) === '/failed_active_hc' ? true : undefined));
  const before = hcA.seen.filter((r) => r.url !== '/healthz').length;
  for (let i = 0; i < 30; i++) assert.equal((await fresh('/hc')).headers['x-upstream'], 'hcB');
  assert.equal(hcA.seen.filter((r) => r.url !== '/healthz').length, before);
  assert.equal(statValue((await proxy.admin('/stats')).body, 'cluster.hc.health_check.healthy'), 1);
  hcA.setDefault({ kind: 'ok' });
});
