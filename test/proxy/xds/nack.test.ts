import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson } from '@bufbuild/protobuf';
import { envoyRegistry } from '../../../src/envoy/full-registry.js';
import { ClusterSchema } from '../../../src/envoy/generated/envoy/config/cluster/v3/cluster_pb.js';
import { freePort, httpUpstream, request } from '../../support/net.js';
import { startProxy } from '../../support/proxy.js';
import { eventually, statValue } from '../../support/mesh.js';
import { XdsTestServer } from '../../support/xds-server.js';
import { cla, edsCluster, rdsListener, routeConfig, xdsBootstrap } from '../../support/xds-resources.js';

// A resource that fails validation is NACKed with its name, field path and reason, and the
// last good config keeps serving.
for (const delta of [false, true]) {
  test(`${delta ? 'Delta' : 'SotW'}: an invalid resource is NACKed and the last good config keeps serving`, async (t) => {
    const a = await httpUpstream((_q, res) => res.end('from a'));
    const xds = await XdsTestServer.start();
    const port = await freePort();
    xds.set('cluster', [edsCluster('svc-a')]);
    xds.set('endpoint', [cla('svc-a', [a.port])]);
    xds.set('listener', [rdsListener('http', port, 'routes')]);
    xds.set('route', [routeConfig('routes', [['/', 'svc-a']])]);
    const proxy = await startProxy(xdsBootstrap({ xdsPort: xds.port, delta }));
    t.after(async () => { await proxy.stop(); await xds.stop(); await a.close(); });
    assert.equal((await request(port, { path: '/' })).body, 'from a');

    // A cluster with a field tsmesh does not implement, next to a valid update of svc-a.
    const from = xds.requests.length;
    const bad = fromJson(ClusterSchema, { name: 'svc-bad', type: 'STATIC', connect_timeout: '1s', per_connection_buffer_limit_bytes: 1024 }, { registry: envoyRegistry });
    xds.set('cluster', [edsCluster('svc-a', { connect_timeout: '2s' }), bad]);
    const nack = await xds.waitForRequest('a NACK', (r) => r.kind === 'cluster' && r.error !== undefined, from);
    assert.equal(nack.error!.code, 3);
    assert.match(nack.error!.message, /^Cluster "svc-bad": per_connection_buffer_limit_bytes: field is not supported by tsmesh/);
    if (!delta) assert.equal(nack.versionInfo, 'v1', 'a NACK carries the last accepted version');

    // A route that fails to compile: the path points into the RouteConfiguration.
    const badRoute = routeConfig('routes', [['/', 'svc-a']]);
    badRoute.virtualHosts[0]!.routes[0]!.match!.pathSpecifier = { case: 'safeRegex', value: { $typeName: 'envoy.type.matcher.v3.RegexMatcher', regex: '(unclosed', engineType: { case: undefined } } as never };
    const from2 = xds.requests.length;
    xds.set('route', [badRoute]);
    const nack2 = await xds.waitForRequest('a route NACK', (r) => r.kind === 'route' && r.error !== undefined, from2);
    assert.match(nack2.error!.message, /^RouteConfiguration "routes": virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex/);

    // Nothing of either update was applied: the old route and cluster still serve.
    for (let i = 0; i < 5; i++) assert.equal((await request(port, { path: `/${i}` })).body, 'from a');
    const stats = (await proxy.admin('/stats')).body;
    assert.equal(statValue(stats, 'cluster_manager.cds.update_rejected'), 1);
    assert.equal(statValue(stats, 'cluster_manager.cds.update_success'), 1);
    const dump = (await proxy.admin('/config_dump')).body;
    assert.doesNotMatch(dump, /svc-bad/);

    // A good update after the NACK is applied and ACKed.
    const from3 = xds.requests.length;
    xds.set('route', [routeConfig('routes', [['/', 'svc-a']], 'fixed')]);
    await xds.waitForRequest('an ACK', (r) => r.kind === 'route' && !r.error && r.responseNonce === xds.responses.at(-1)!.nonce, from3);
    await eventually('the fixed route', async () => ((await request(port, { path: '/' })).headers['x-route'] === 'fixed' ? true : undefined));
  });
}
