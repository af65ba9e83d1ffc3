import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, request } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { healthServer, type HealthServer } from '../../support/health-server.js';
import { eventually, healthFlags, meshBootstrap, staticCluster, statValue } from '../../support/mesh.js';

// x-envoy-immediate-health-check-fail on an upstream response: the host fails its active health
// check at once, in every worker (two here), and is excluded from the panic computation.

const FAIL_HEADER = { 'x-envoy-immediate-health-check-fail': 'true' };
/** Checks so rare that only the header can change a host's health during a test. */
const rareHc = 'health_checks: [ { timeout: 1s, interval: 60s, no_traffic_interval: 60s, unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: { path: "/healthz" } } ]';
const fastHc = 'health_checks: [ { timeout: 1s, interval: 0.1s, no_traffic_interval: 0.1s, unhealthy_threshold: 2, healthy_threshold: 3, http_health_check: { path: "/healthz" } } ]';

let proxy: RunningProxy;
let port: number;
let x: HealthServer, y: HealthServer, z: HealthServer, w: HealthServer, n1: HealthServer, n2: HealthServer, d: HealthServer;

before(async () => {
  [x, y, z, w, n1, n2, d] = await Promise.all(['x', 'y', 'z', 'w', 'n1', 'n2', 'd'].map((n) => healthServer(n)));
  y.health = 'fail';
  port = await freePort();
  proxy = await startProxy(meshBootstrap({
    listenPort: port,
    routes: [['/imm', 'imm'], ['/back', 'back'], ['/nohc', 'nohc'], ['/draining', 'draining']],
    clusters: [
      staticCluster('imm', [x.port, y.port, z.port], rareHc),
      staticCluster('back', [w.port], fastHc),
      staticCluster('nohc', [n1.port, n2.port]),
      staticCluster('draining', [d.port], fastHc),
    ],
  }), { concurrency: 2 });
});

after(async () => {
  await proxy?.stop();
  await Promise.all([x, y, z, w, n1, n2, d].map((s) => s?.close()));
});

const clusters = async (): Promise<string> => (await proxy.admin('/clusters')).body;
const stats = async (): Promise<string> => (await proxy.admin('/stats')).body;

/** Requests `path` until `s` served one (round robin over the healthy hosts reaches it soon). */
async function untilServedBy(path: string, s: HealthServer): Promise<void> {
  const before = s.traffic;
  await eventually(`${s.name} to serve ${path}`, async () => {
    await request(port, { path });
    return s.traffic > before ? true : undefined;
  }, 15_000, 0);
}

test('the header fails the host at once: /clusters flags, JSON, passive_failure, and no more traffic to it', async () => {
  assert.equal(healthFlags(await clusters(), 'imm', y.port), '/failed_active_hc');
  x.nextHeaders = FAIL_HEADER;
  await untilServedBy('/imm', x);
  // Whichever worker got the answer, the shared flags say it for the whole proxy at once.
  assert.equal(healthFlags(await clusters(), 'imm', x.port), '/failed_active_hc/excluded_via_immediate_hc_fail');
  const json = JSON.parse((await proxy.admin('/clusters?format=json')).body) as { cluster_statuses: { name: string; host_statuses: { address: { socket_address: { port_value: number } }; health_status: Record<string, unknown> }[] }[] };
  const hx = json.cluster_statuses.find((c) => c.name === 'imm')!.host_statuses.find((h) => h.address.socket_address.port_value === x.port)!;
  assert.equal(hx.health_status.excluded_via_immediate_hc_fail, true);
  assert.equal(hx.health_status.failed_active_health_check, true);
  const s = await stats();
  assert.equal(statValue(s, 'cluster.imm.health_check.passive_failure'), 1);
  assert.equal(statValue(s, 'cluster.imm.health_check.healthy'), 1);
  assert.equal(statValue(s, 'cluster.imm.membership_healthy'), 1);
  assert.equal(statValue(s, 'cluster.imm.membership_excluded'), 1);
  // One healthy host of three would be panic (33% < 50%), but the excluded host does not count:
  // one of two is 50%, so only z serves.
  const xBefore = x.traffic;
  const served = new Set<string>();
  for (let i = 0; i < 8; i++) served.add((await request(port, { path: '/imm' })).headers['x-upstream'] as string);
  assert.deepEqual([...served], ['z']);
  assert.equal(x.traffic, xBefore);
  assert.equal(statValue(await stats(), 'cluster.imm.lb_healthy_panic'), 0);
});

test('the excluded host returns once its active checks pass again (healthy_threshold of them)', async () => {
  const checksBefore = w.checks.length;
  w.nextHeaders = FAIL_HEADER;
  assert.equal((await request(port, { path: '/back' })).status, 200);
  await eventually('w healthy again', async () => (healthFlags(await clusters(), 'back', w.port) === 'healthy' ? true : undefined));
  // healthy_threshold is 3: a check in flight when the answer came, then at least two more.
  assert.ok(w.checks.length - checksBefore >= 2, `${w.checks.length - checksBefore} checks after the failure`);
  assert.equal(statValue(await stats(), 'cluster.back.health_check.passive_failure'), 1);
});

test('without active health checking the header changes nothing', async () => {
  n1.nextHeaders = FAIL_HEADER;
  await untilServedBy('/nohc', n1);
  assert.equal(healthFlags(await clusters(), 'nohc', n1.port), 'healthy');
  const before = n1.traffic;
  for (let i = 0; i < 6; i++) await request(port, { path: '/nohc' });
  assert.ok(n1.traffic > before, 'n1 still gets traffic');
});

test('a failing health check answer with the header (an Envoy draining) also excludes the host', async () => {
  assert.equal(healthFlags(await clusters(), 'draining', d.port), 'healthy');
  d.checkHeaders = FAIL_HEADER;
  d.health = 'fail';
  await eventually('d excluded', async () => (healthFlags(await clusters(), 'draining', d.port) === '/failed_active_hc/excluded_via_immediate_hc_fail' ? true : undefined));
  d.checkHeaders = undefined;
  d.health = 'ok';
  await eventually('d healthy again', async () => (healthFlags(await clusters(), 'draining', d.port) === 'healthy' ? true : undefined));
});
