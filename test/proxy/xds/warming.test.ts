import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpUpstream, request } from '../../support/net.js';
import { startProxy } from '../../support/proxy.js';
import { eventually, statValue } from '../../support/mesh.js';
import { XdsTestServer } from '../../support/xds-server.js';
import { cla, edsCluster, rdsListener, routeConfig, xdsBootstrap } from '../../support/xds-resources.js';

test('a cluster update warms until its endpoints arrive; the previous version serves meanwhile', async (t) => {
  const a = await httpUpstream((_q, res) => res.end('a'));
  const a2 = await httpUpstream((_q, res) => res.end('a2'));
  const xds = await XdsTestServer.start();
  const port = await freePort();
  xds.set('cluster', [edsCluster('svc')]);
  xds.set('endpoint', [cla('svc', [a.port])]);
  xds.set('listener', [rdsListener('http', port, 'routes')]);
  xds.set('route', [routeConfig('routes', [['/', 'svc']])]);
  const proxy = await startProxy(xdsBootstrap({ xdsPort: xds.port }), { concurrency: 2 });
  t.after(async () => { await proxy.stop(); await xds.stop(); await a.close(); await a2.close(); });
  assert.equal((await request(port)).body, 'a');

  // svc now takes its endpoints from service name "svc-v2", which the server does not have yet.
  xds.set('cluster', [edsCluster('svc', { eds_cluster_config: { eds_config: { ads: {} }, service_name: 'svc-v2' } })]);
  await xds.waitForRequest('the EDS subscription for svc-v2', (r) => r.kind === 'endpoint' && r.resourceNames.includes('svc-v2'));
  const dump = JSON.parse((await proxy.admin('/config_dump')).body) as { configs: { '@type': string; dynamicWarmingClusters?: { cluster: { edsClusterConfig?: { serviceName?: string } } }[] }[] };
  const clusters = dump.configs.find((c) => c['@type'].endsWith('ClustersConfigDump'))!;
  assert.equal(clusters.dynamicWarmingClusters?.[0]?.cluster.edsClusterConfig?.serviceName, 'svc-v2');
  assert.equal(statValue((await proxy.admin('/stats')).body, 'cluster_manager.warming_clusters'), 1);
  for (let i = 0; i < 5; i++) assert.equal((await request(port)).body, 'a', 'the previous version keeps serving');

  xds.set('endpoint', [cla('svc', [a.port]), cla('svc-v2', [a2.port])]);
  await eventually('the warmed cluster', async () => ((await request(port)).body === 'a2' ? true : undefined));
  assert.equal(statValue((await proxy.admin('/stats')).body, 'cluster_manager.warming_clusters'), 0);
});

test('initial_fetch_timeout: with no control plane the proxy goes LIVE after the timeout, and takes config once one appears', async (t) => {
  const a = await httpUpstream((_q, res) => res.end('a'));
  const xdsPort = await freePort();
  const port = await freePort();
  const proxy = await startProxy(xdsBootstrap({ xdsPort, initialFetchTimeout: '1s' }), { live: false });
  let xds: XdsTestServer | undefined;
  t.after(async () => { await proxy.stop(); await xds?.stop(); await a.close(); });
  assert.equal((await proxy.admin('/ready')).status, 503);
  await eventually('LIVE after the initial fetch timeout', async () => ((await proxy.admin('/ready')).status === 200 ? true : undefined));
  assert.equal(statValue((await proxy.admin('/stats')).body, 'control_plane.connected_state'), 0);

  xds = await XdsTestServer.start(xdsPort);
  xds.set('cluster', [edsCluster('svc')]);
  xds.set('endpoint', [cla('svc', [a.port])]);
  xds.set('listener', [rdsListener('http', port, 'routes')]);
  xds.set('route', [routeConfig('routes', [['/', 'svc']])]);
  // Reconnect backoff grows from 500 ms (30 s at most): allow for a few attempts.
  await eventually('serving', async () => ((await request(port).catch(() => undefined))?.body === 'a' ? true : undefined), 45_000, 100);
});
