import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, request } from '../../support/net.js';
import { startProxy } from '../../support/proxy.js';
import { eventually } from '../../support/mesh.js';
import { XdsTestServer } from '../../support/xds-server.js';
import { cla, edsCluster, rdsListener, routeConfig, xdsBootstrap } from '../../support/xds-resources.js';

/** An HTTP/1.1 upstream answering its name, counting the connections it accepted. */
async function countingUpstream(name: string) {
  const server = http.createServer((_q, res) => res.end(name));
  server.keepAliveTimeout = 60_000;
  let connections = 0;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() { return connections; },
    close: () => { server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())); },
  };
}

test('an EDS update keeps the pooled connections to hosts that stay', async (t) => {
  const u1 = await countingUpstream('u1');
  const u2 = await countingUpstream('u2');
  const xds = await XdsTestServer.start();
  const port = await freePort();
  xds.set('cluster', [edsCluster('svc')]);
  xds.set('endpoint', [cla('svc', [u1.port])]);
  xds.set('listener', [rdsListener('http', port, 'routes')]);
  xds.set('route', [routeConfig('routes', [['/', 'svc']])]);
  const proxy = await startProxy(xdsBootstrap({ xdsPort: xds.port }));
  t.after(async () => { await proxy.stop(); await xds.stop(); await u1.close(); await u2.close(); });
  // One request at a time: the proxy's pool to u1 holds one keep-alive connection.
  for (let i = 0; i < 5; i++) assert.equal((await request(port)).body, 'u1');
  assert.equal(u1.connections, 1);

  xds.set('endpoint', [cla('svc', [u1.port, u2.port])]);
  await eventually('u2 in the rotation', async () => ((await request(port)).body === 'u2' ? true : undefined));
  for (let i = 0; i < 6; i++) await request(port);
  assert.equal(u1.connections, 1, 'the connection to u1 survived the EDS update');
  assert.equal(u2.connections, 1);

  // u1 leaves: its pool is drained, requests go to u2 only.
  xds.set('endpoint', [cla('svc', [u2.port])]);
  await eventually('u1 out of the rotation', async () => {
    const bodies = await Promise.all([request(port), request(port)]).then((rs) => rs.map((r) => r.body));
    return bodies.every((b) => b === 'u2') ? true : undefined;
  });
  for (let i = 0; i < 6; i++) assert.equal((await request(port)).body, 'u2');
});
