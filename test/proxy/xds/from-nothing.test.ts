import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpUpstream, request } from '../../support/net.js';
import { startProxy } from '../../support/proxy.js';
import { eventually, statValue } from '../../support/mesh.js';
import { XdsTestServer } from '../../support/xds-server.js';
import { cla, edsCluster, rdsListener, routeConfig, xdsBootstrap } from '../../support/xds-resources.js';

// LDS + RDS + CDS + EDS: a proxy that starts with nothing but an ADS server serves what the
// server sends, for both protocols and with one or two serving threads.
for (const delta of [false, true]) {
  for (const concurrency of [1, 2]) {
    test(`${delta ? 'Delta' : 'SotW'}, --concurrency ${concurrency}: from nothing to serving, then a route change without restart`, async (t) => {
      const a = await httpUpstream((_q, res) => res.end('from a'));
      const b = await httpUpstream((_q, res) => res.end('from b'));
      const xds = await XdsTestServer.start();
      t.after(async () => { await proxy?.stop(); await xds.stop(); await a.close(); await b.close(); });
      const port = await freePort();
      // The server has clusters and a listener, not yet their endpoints and routes: both warm
      // meanwhile, and the proxy is not LIVE until they have them (Envoy's initial fetch).
      xds.set('cluster', [edsCluster('svc-a'), edsCluster('svc-b')]);
      xds.set('listener', [rdsListener('http', port, 'routes')]);
      var proxy = await startProxy(xdsBootstrap({ xdsPort: xds.port, delta }), { concurrency, live: false });
      await xds.waitForRequest('an EDS subscription', (r) => r.kind === 'endpoint' && (delta ? r.subscribe.includes('svc-a') : r.resourceNames.includes('svc-a')));
      await xds.waitForRequest('an RDS subscription', (r) => r.kind === 'route' && (delta ? r.subscribe.includes('routes') : r.resourceNames.includes('routes')));
      assert.equal((await proxy.admin('/ready')).status, 503, 'warming clusters/listeners keep /ready at PRE_INITIALIZING');
      xds.set('endpoint', [cla('svc-a', [a.port]), cla('svc-b', [b.port])]);
      xds.set('route', [routeConfig('routes', [['/', 'svc-a']])]);
      await eventually('LIVE', async () => ((await proxy.admin('/ready')).status === 200 ? true : undefined));
      const r1 = await request(port, { path: '/x' });
      assert.equal(r1.status, 200);
      assert.equal(r1.body, 'from a');

      // The node went in the first request only (set_node_on_first_message_only).
      const first = xds.requests[0]!;
      assert.match(first.nodeId ?? '', /^sidecar~/);
      assert.ok(xds.requests.slice(1).every((r) => r.nodeId === undefined));
      // Every response was ACKed: a later request with its nonce and no error.
      for (const resp of xds.responses) {
        assert.ok(xds.requests.some((q) => q.kind === resp.kind && q.responseNonce === resp.nonce && !q.error), `ACK of ${resp.kind} nonce ${resp.nonce}`);
      }
      if (!delta) {
        const ack = [...xds.requests].reverse().find((q) => q.kind === 'route')!;
        assert.equal(ack.versionInfo, xds.version('route'));
      }

      // A route change takes effect without a restart.
      xds.set('route', [routeConfig('routes', [['/', 'svc-b']])]);
      await eventually('the new route', async () => ((await request(port, { path: '/x' })).body === 'from b' ? true : undefined));

      // Request stats are counted as each stream completes, just after its response went out;
      // with workers, a worker may serve the new route before the main thread has counted the
      // RDS update that carried it.
      const stats = await eventually('request and RDS stats', async () => {
        const text = (await proxy.admin('/stats')).body;
        return (statValue(text, 'http.http.downstream_rq_2xx') ?? 0) >= 2 && (statValue(text, 'http.http.rds.routes.update_success') ?? 0) >= 2 ? text : undefined;
      });
      assert.equal(statValue(stats, 'control_plane.connected_state'), 1);
      assert.equal(statValue(stats, 'listener_manager.lds.update_success'), 1);
      assert.equal(statValue(stats, 'cluster_manager.cds.update_success'), 1);
      assert.ok((statValue(stats, 'http.http.rds.routes.update_success') ?? 0) >= 2);
      assert.ok((statValue(stats, 'http.http.downstream_rq_2xx') ?? 0) >= 2, 'dynamic listeners count into the shared stats');
      assert.ok((statValue(stats, 'cluster.svc-a.upstream_rq_200') ?? 0) >= 1);
      assert.equal(statValue(stats, 'cluster_manager.warming_clusters'), 0);

      const dump = JSON.parse((await proxy.admin('/config_dump')).body) as { configs: Record<string, unknown>[] };
      // proto3 JSON, as the rest of /config_dump.
      const byType = (t: string) => dump.configs.find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${t}`) as Record<string, never>;
      const dl = (byType('ListenersConfigDump').dynamicListeners as { name: string; activeState: { versionInfo: string; listener: { name: string } ; lastUpdated: string } }[]);
      assert.equal(dl.length, 1);
      assert.equal(dl[0]!.name, 'http');
      assert.equal(dl[0]!.activeState.listener.name, 'http');
      assert.ok(dl[0]!.activeState.lastUpdated);
      const dc = byType('ClustersConfigDump').dynamicActiveClusters as { cluster: { name: string } }[];
      assert.deepEqual(dc.map((c) => c.cluster.name).sort(), ['svc-a', 'svc-b']);
      const dr = byType('RoutesConfigDump').dynamicRouteConfigs as { routeConfig: { name: string; virtualHosts: { routes: { route: { cluster: string } }[] }[] } }[];
      assert.equal(dr[0]!.routeConfig.virtualHosts[0]!.routes[0]!.route.cluster, 'svc-b');
      const de = byType('EndpointsConfigDump').dynamicEndpointConfigs as { endpointConfig: { clusterName: string } }[];
      assert.deepEqual(de.map((e) => e.endpointConfig.clusterName).sort(), ['svc-a', 'svc-b']);
    });
  }
}
