import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpUpstream, request } from '../../support/net.js';
import { startProxy } from '../../support/proxy.js';
import { eventually, statValue } from '../../support/mesh.js';
import { XdsTestServer } from '../../support/xds-server.js';
import { cla, edsCluster, rdsListener, routeConfig, xdsBootstrap } from '../../support/xds-resources.js';

// The control plane goes away: the proxy keeps serving what it has, reconnects when the server
// is back and resubscribes with the versions it holds, and takes updates again.
for (const delta of [false, true]) {
  test(`${delta ? 'Delta' : 'SotW'}: control plane killed and restarted`, async (t) => {
    const a = await httpUpstream((_q, res) => res.end('from a'));
    const b = await httpUpstream((_q, res) => res.end('from b'));
    const xds = await XdsTestServer.start();
    const port = await freePort();
    xds.set('cluster', [edsCluster('svc-a'), edsCluster('svc-b')]);
    xds.set('endpoint', [cla('svc-a', [a.port]), cla('svc-b', [b.port])]);
    xds.set('listener', [rdsListener('http', port, 'routes')]);
    xds.set('route', [routeConfig('routes', [['/', 'svc-a']])]);
    const proxy = await startProxy(xdsBootstrap({ xdsPort: xds.port, delta }), { concurrency: 2 });
    t.after(async () => { await proxy.stop(); await xds.stop(); await a.close(); await b.close(); });
    assert.equal((await request(port, { path: '/' })).body, 'from a');

    xds.kill();
    await eventually('disconnected', async () => (statValue((await proxy.admin('/stats')).body, 'control_plane.connected_state') === 0 ? true : undefined));
    // Serving goes on without the control plane.
    for (let i = 0; i < 10; i++) assert.equal((await request(port, { path: `/${i}` })).body, 'from a');

    const from = xds.requests.length;
    await xds.restart();
    // Resubscribed on a new stream with what it holds.
    const stream = (await xds.waitForRequest('a new stream', (r) => r.kind === 'cluster', from)).stream;
    const onNew = (kind: string) => xds.waitForRequest(`${kind} on the new stream`, (r) => r.stream === stream && r.kind === kind && r.responseNonce === '', from);
    const cds = await onNew('cluster'), eds = await onNew('endpoint'), lds = await onNew('listener'), rds = await onNew('route');
    if (delta) {
      assert.deepEqual(Object.keys(cds.initialResourceVersions).sort(), ['svc-a', 'svc-b']);
      assert.deepEqual(Object.keys(lds.initialResourceVersions), ['http']);
      assert.deepEqual([...eds.subscribe].sort(), ['svc-a', 'svc-b']);
      assert.deepEqual(Object.keys(eds.initialResourceVersions).sort(), ['svc-a', 'svc-b']);
      assert.deepEqual(rds.subscribe, ['routes']);
      assert.deepEqual(Object.keys(rds.initialResourceVersions), ['routes']);
    } else {
      assert.equal(cds.versionInfo, xds.version('cluster'));
      assert.equal(lds.versionInfo, xds.version('listener'));
      assert.equal(eds.versionInfo, xds.version('endpoint'));
      assert.deepEqual([...eds.resourceNames].sort(), ['svc-a', 'svc-b']);
      assert.deepEqual(rds.resourceNames, ['routes']);
      assert.equal(rds.versionInfo, xds.version('route'));
    }
    // The node comes again in the first request of the new stream.
    assert.ok(cds.nodeId);
    await eventually('connected', async () => (statValue((await proxy.admin('/stats')).body, 'control_plane.connected_state') === 1 ? true : undefined));

    xds.set('route', [routeConfig('routes', [['/', 'svc-b']])]);
    await eventually('the route pushed after reconnecting', async () => ((await request(port, { path: '/' })).body === 'from b' ? true : undefined));
  });
}
