import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, request } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { faultyUpstream, type FaultyUpstream } from '../../support/faulty-upstream.js';
import { eventually, healthFlags, meshBootstrap, staticCluster, statValue } from '../../support/mesh.js';

// Outlier detection end to end: real upstreams that fail on command, one proxy, its admin.
let proxy: RunningProxy;
let port: number;
const ups: FaultyUpstream[] = [];
const up = async (name: string): Promise<FaultyUpstream> => { const u = await faultyUpstream({ name }); ups.push(u); return u; };
let c5a: FaultyUpstream, c5b: FaultyUpstream;
let capped: FaultyUpstream[];
let gwA: FaultyUpstream, gwB: FaultyUpstream, gwOffA: FaultyUpstream, gwOffB: FaultyUpstream;
let splitB: FaultyUpstream, mappedB: FaultyUpstream, hangA: FaultyUpstream, hangB: FaultyUpstream;
let refusedSplit: number, refusedMapped: number;
let sr: FaultyUpstream[], fp: FaultyUpstream[];

before(async () => {
  c5a = await up('c5a'); c5b = await up('c5b');
  capped = [await up('cap1'), await up('cap2'), await up('cap3')];
  gwA = await up('gwA'); gwB = await up('gwB'); gwOffA = await up('gwOffA'); gwOffB = await up('gwOffB');
  splitB = await up('splitB'); mappedB = await up('mappedB'); hangA = await up('hangA'); hangB = await up('hangB');
  sr = [await up('sr1'), await up('sr2'), await up('sr3'), await up('sr4'), await up('sr5')];
  fp = [await up('fp1'), await up('fp2')];
  refusedSplit = await freePort();
  refusedMapped = await freePort();
  port = await freePort();
  const ports = (us: FaultyUpstream[]) => us.map((u) => u.port);
  proxy = await startProxy(meshBootstrap({
    listenPort: port,
    routes: [['/c5', 'c5'], ['/cap', 'capped'], ['/gwoff', 'gwoff'], ['/gw', 'gw'], ['/split', 'split'], ['/mapped', 'mapped'], ['/hang', 'hang', 'timeout: 0.2s'], ['/sr', 'sr'], ['/fp', 'fp']],
    clusters: [
      // interval 1 s, base 1 s: a host returns 1-2 s after its first ejection.
      staticCluster('c5', [c5a.port, c5b.port], 'outlier_detection: { consecutive_5xx: 5, interval: 1s, base_ejection_time: 1s, max_ejection_percent: 50 }'),
      staticCluster('capped', ports(capped), 'outlier_detection: { consecutive_5xx: 1, max_ejection_percent: 34 }'),
      staticCluster('gw', [gwA.port, gwB.port], 'outlier_detection: { consecutive_5xx: 100, consecutive_gateway_failure: 3, enforcing_consecutive_gateway_failure: 100, max_ejection_percent: 50 }'),
      staticCluster('gwoff', [gwOffA.port, gwOffB.port], 'outlier_detection: { consecutive_5xx: 100, consecutive_gateway_failure: 3, max_ejection_percent: 50 }'),
      staticCluster('split', [refusedSplit, splitB.port], 'outlier_detection: { split_external_local_origin_errors: true, consecutive_local_origin_failure: 2, consecutive_5xx: 100, max_ejection_percent: 50 }'),
      staticCluster('mapped', [refusedMapped, mappedB.port], 'outlier_detection: { consecutive_5xx: 2, max_ejection_percent: 50 }'),
      staticCluster('hang', [hangA.port, hangB.port], 'outlier_detection: { consecutive_5xx: 2, max_ejection_percent: 50 }'),
      staticCluster('sr', ports(sr), 'outlier_detection: { interval: 1s, success_rate_request_volume: 10, consecutive_5xx: 100000, max_ejection_percent: 20, base_ejection_time: 300s }'),
      staticCluster('fp', ports(fp), 'outlier_detection: { interval: 1s, failure_percentage_request_volume: 10, failure_percentage_minimum_hosts: 2, failure_percentage_threshold: 50, enforcing_failure_percentage: 100, consecutive_5xx: 100000, max_ejection_percent: 50, base_ejection_time: 300s }'),
    ],
  }));
});

after(async () => {
  await proxy.stop();
  await Promise.all(ups.map((u) => u.close()));
});

const stat = async (name: string): Promise<number | undefined> => statValue((await proxy.admin('/stats')).body, name);
const flags = async (cluster: string, p: number): Promise<string | undefined> => healthFlags((await proxy.admin('/clusters')).body, cluster, p);

/** Sends `n` requests one after the other; returns which upstream answered each. */
async function send(path: string, n: number): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push((await request(port, { path })).headers['x-upstream'] as string | undefined);
  return out;
}

test('5 consecutive 5xx eject a host; it returns after base_ejection_time, then for twice as long', async () => {
  c5a.setDefault({ kind: 'status', status: 503 });
  // Round robin alternates: the failing host has had its 5 consecutive 503s within 10 requests.
  await send('/c5', 10);
  assert.equal(c5a.seen.length, 5);
  assert.equal(await flags('c5', c5a.port), '/failed_outlier_check');
  assert.equal(await flags('c5', c5b.port), 'healthy');
  assert.deepEqual(new Set(await send('/c5', 10)), new Set(['c5b']), 'an ejected host gets no requests');
  assert.equal(c5a.seen.length, 5);
  const stats = (await proxy.admin('/stats?filter=cluster\\.c5\\.')).body;
  assert.equal(statValue(stats, 'cluster.c5.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
  assert.equal(statValue(stats, 'cluster.c5.outlier_detection.ejections_detected_consecutive_5xx'), 1);
  assert.equal(statValue(stats, 'cluster.c5.outlier_detection.ejections_enforced_total'), 1);
  assert.equal(statValue(stats, 'cluster.c5.outlier_detection.ejections_active'), 1);
  assert.equal(statValue(stats, 'cluster.c5.membership_healthy'), 1);
  // Keep traffic flowing: the host comes back after its time and is ejected again at once,
  // before an interval passes (which would lower its multiplier): the second ejection lasts 2 s.
  let mark = 0;
  let ejectedAgainBefore = 0;
  await eventually('the host to return twice', async () => {
    const before = Date.now();
    await send('/c5', 1);
    if (c5a.seen.length === 10 && ejectedAgainBefore === 0) ejectedAgainBefore = before;
    if (c5a.seen.length > 5 && mark === 0) mark = Date.now();
    return c5a.seen.length > 10 ? true : undefined;
  }, 20_000, 0);
  assert.ok(mark > 0 && ejectedAgainBefore > 0);
  // A lower bound holds whatever the load on the machine: the proxy cannot return it sooner.
  const secondEjectionMs = Date.now() - ejectedAgainBefore;
  assert.ok(secondEjectionMs >= 2000, `second ejection lasted ${secondEjectionMs} ms, expected >= 2000`);
  assert.equal(await stat('cluster.c5.outlier_detection.ejections_enforced_consecutive_5xx'), 2);
  c5a.setDefault({ kind: 'ok' });
});

test('max_ejection_percent caps ejections; the rest overflow', async () => {
  for (const u of capped) u.setDefault({ kind: 'status', status: 500 });
  await send('/cap', 6);
  const text = (await proxy.admin('/clusters')).body;
  const ejected = capped.filter((u) => healthFlags(text, 'capped', u.port) === '/failed_outlier_check');
  assert.equal(ejected.length, 1, '34% of 3 hosts is one host');
  assert.ok((await stat('cluster.capped.outlier_detection.ejections_overflow'))! >= 2);
  assert.equal(await stat('cluster.capped.outlier_detection.ejections_active'), 1);
});

test('consecutive gateway failures (502/503/504) eject when enforced; a 500 is not one', async () => {
  gwA.setDefault({ kind: 'status', status: 502 });
  gwB.setDefault({ kind: 'status', status: 500 });
  await send('/gw', 8);
  assert.equal(await flags('gw', gwA.port), '/failed_outlier_check');
  assert.equal(await flags('gw', gwB.port), 'healthy');
  assert.equal(await stat('cluster.gw.outlier_detection.ejections_enforced_consecutive_gateway_failure'), 1);
  assert.equal(await stat('cluster.gw.outlier_detection.ejections_detected_consecutive_5xx'), 0);
});

test('gateway-failure ejection is detected but not enforced by default', async () => {
  gwOffA.setDefault({ kind: 'status', status: 503 });
  await send('/gwoff', 8);
  assert.equal(await flags('gwoff', gwOffA.port), 'healthy');
  assert.equal(await stat('cluster.gwoff.outlier_detection.ejections_detected_consecutive_gateway_failure'), 1);
  assert.equal(await stat('cluster.gwoff.outlier_detection.ejections_enforced_consecutive_gateway_failure'), 0);
  assert.equal(await stat('cluster.gwoff.outlier_detection.ejections_enforced_total'), 0);
});

test('split_external_local_origin_errors: refused connections count as local-origin failures', async () => {
  const answers = await send('/split', 6);
  assert.ok(answers.includes(undefined), 'some requests met the refusing host (503 UF)');
  assert.equal(await flags('split', refusedSplit), '/failed_outlier_check');
  assert.equal(await stat('cluster.split.outlier_detection.ejections_enforced_consecutive_local_origin_failure'), 1);
  assert.equal(await stat('cluster.split.outlier_detection.ejections_detected_consecutive_5xx'), 0);
  assert.deepEqual(new Set(await send('/split', 6)), new Set(['splitB']));
});

test('without the split, refused connections count as 503s for consecutive_5xx', async () => {
  await send('/mapped', 6);
  assert.equal(await flags('mapped', refusedMapped), '/failed_outlier_check');
  assert.equal(await stat('cluster.mapped.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
});

test('route timeouts count as 504s', async () => {
  hangA.setDefault({ kind: 'hang' });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await request(port, { path: '/hang' })).status);
  assert.ok(statuses.includes(504));
  assert.equal(await flags('hang', hangA.port), '/failed_outlier_check');
  assert.equal(hangA.seen.length, 2);
});

test('success rate: a host far below the others is ejected at the interval', async () => {
  sr[4]!.setDefault({ kind: 'status', status: 500 });
  // Enough traffic for every host to have 10 requests in a whole interval, until the sweep acts.
  await eventually('a success-rate ejection', async () => {
    await send('/sr', 10);
    return (await stat('cluster.sr.outlier_detection.ejections_enforced_success_rate')) === 1 ? true : undefined;
  }, 20_000, 0);
  const text = (await proxy.admin('/clusters')).body;
  assert.equal(healthFlags(text, 'sr', sr[4]!.port), '/failed_outlier_check');
  for (const u of sr.slice(0, 4)) assert.equal(healthFlags(text, 'sr', u.port), 'healthy');
  assert.match(text, /^sr::outlier::success_rate_average::80$/m);
  assert.match(text, new RegExp(`^sr::127\\.0\\.0\\.1:${sr[4]!.port}::success_rate::0$`, 'm'));
  assert.match(text, new RegExp(`^sr::127\\.0\\.0\\.1:${sr[0]!.port}::success_rate::100$`, 'm'));
  const json = JSON.parse((await proxy.admin('/clusters?format=json')).body) as { cluster_statuses: { name: string; host_statuses: { address: { socket_address: { port_value: number } }; health_status: Record<string, unknown> }[] }[] };
  const bad = json.cluster_statuses.find((c) => c.name === 'sr')!.host_statuses.find((h) => h.address.socket_address.port_value === sr[4]!.port)!;
  assert.equal(bad.health_status.failed_outlier_check, true);
});

test('failure percentage: a host failing at least the threshold is ejected at the interval', async () => {
  fp[1]!.setDefault({ kind: 'status', status: 503 });
  await eventually('a failure-percentage ejection', async () => {
    await send('/fp', 10);
    return (await stat('cluster.fp.outlier_detection.ejections_enforced_failure_percentage')) === 1 ? true : undefined;
  }, 20_000, 0);
  assert.equal(await flags('fp', fp[1]!.port), '/failed_outlier_check');
  assert.equal(await flags('fp', fp[0]!.port), 'healthy');
});

test('/config_dump shows outlier_detection as applied', async () => {
  const dump = (await proxy.admin('/config_dump')).body;
  assert.match(dump, /"outlierDetection": \{\s*"consecutive5xx": 5,/);
});
