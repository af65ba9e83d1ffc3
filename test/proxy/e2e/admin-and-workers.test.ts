import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// Two worker threads look like one Envoy: one admin, one set of stats.
let upstream: Upstream;
let proxy: RunningProxy;
let port: number;

before(async () => {
  upstream = await httpUpstream();
  port = await freePort();
  proxy = await startProxy(httpBootstrap({ listenPort: port, upstreamPort: upstream.port }), { concurrency: 2 });
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

test('requests over many connections are counted exactly once across workers', async () => {
  const N = 200;
  const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 2 }));
  await Promise.all(Array.from({ length: N }, (_, i) => request(port, { path: `/n${i}`, agent: agents[i % agents.length] }).then((r) => assert.equal(r.status, 200))));
  for (const a of agents) a.destroy();
  const stats = (await proxy.admin('/stats')).body;
  assert.match(stats, new RegExp(`^http\\.ingress\\.downstream_rq_total: ${N}$`, 'm'));
  assert.match(stats, new RegExp(`^http\\.ingress\\.downstream_rq_2xx: ${N}$`, 'm'));
  assert.match(stats, new RegExp(`^cluster\\.app\\.upstream_rq_total: ${N}$`, 'm'));
  assert.match(stats, new RegExp(`^cluster\\.app\\.upstream_rq_200: ${N}$`, 'm'));
  assert.equal(upstream.seen.length, N);
});

test('/stats/prometheus uses Envoy names and tags', async () => {
  const p = (await proxy.admin('/stats/prometheus')).body;
  assert.match(p, /^# TYPE envoy_cluster_upstream_rq_total counter$/m);
  assert.match(p, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="app"\} 200$/m);
  assert.match(p, /^envoy_http_downstream_rq_xx\{envoy_response_code_class="2",envoy_http_conn_manager_prefix="ingress"\} 200$/m);
  assert.match(p, /^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="app",le="\+Inf"\} 200$/m);
});

test('/stats?format=json and ?filter', async () => {
  const j = JSON.parse((await proxy.admin('/stats?format=json')).body) as { stats: { name: string; value: number }[] };
  assert.ok(j.stats.some((s) => s.name === 'cluster.app.upstream_rq_total' && s.value === 200));
  const f = (await proxy.admin('/stats?filter=upstream_rq_total')).body;
  assert.ok(f.trim().split('\n').every((l) => l.includes('upstream_rq_total')));
});

test('/config_dump shows the applied config as Envoy admin types', async () => {
  const d = JSON.parse((await proxy.admin('/config_dump')).body) as { configs: { '@type': string; [k: string]: unknown }[] };
  const types = d.configs.map((c) => c['@type']);
  assert.deepEqual(types, [
    'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
    'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
    'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
    'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
    // Envoy's secret manager always reports, empty without TLS.
    'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
  ]);
  const listeners = d.configs[2] as unknown as { staticListeners: { listener: { name: string } }[] };
  assert.equal(listeners.staticListeners[0]!.listener.name, 'main');
});

test('/clusters lists the hosts', async () => {
  const c = (await proxy.admin('/clusters')).body;
  assert.match(c, new RegExp(`^app::127\\.0\\.0\\.1:${upstream.port}::health_flags::healthy$`, 'm'));
});

test('/ready, /logging, unknown path', async () => {
  assert.equal((await proxy.admin('/ready')).body, 'LIVE\n');
  assert.equal((await proxy.admin('/logging?level=debug', 'POST')).status, 200);
  assert.match((await proxy.admin('/logging')).body, /debug/);
  assert.equal((await proxy.admin('/nope')).status, 404);
});

test('/quitquitquit stops the proxy', async () => {
  assert.equal((await proxy.admin('/quitquitquit', 'POST')).status, 200);
  const code = await proxy.stop();
  assert.equal(code, 0);
});
