import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, httpUpstream, request } from '../../support/net.js';
import { startProxy } from '../../support/proxy.js';
import { eventually, statValue } from '../../support/mesh.js';
import { accessLogFile, loggedFlags } from '../../support/access-log.js';
import { XdsTestServer } from '../../support/xds-server.js';
import { cla, edsCluster, rdsListener, routeConfig, staticXdsCluster, xdsBootstrap } from '../../support/xds-resources.js';
import type { JsonObject } from '@bufbuild/protobuf';

/** Reads one HTTP/1.1 response (Content-Length framed) from a raw socket. */
async function readResponse(sock: net.Socket): Promise<string> {
  let text = '';
  for (;;) {
    const head = text.indexOf('\r\n\r\n');
    if (head >= 0) {
      const len = Number(/content-length: (\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
      if (text.length >= head + 4 + len) return text;
    }
    const [d] = (await once(sock, 'data')) as [Buffer];
    text += d.toString('latin1');
  }
}

// Removals travel differently in the two protocols (absent from a SotW response, named in a
// Delta response's removed_resources): one run of each.
for (const [delta, concurrency] of [[false, 1], [true, 2]] as const) {
  test(`${delta ? 'Delta' : 'SotW'}, --concurrency ${concurrency}: cluster removal answers 503 NC; listener update drains old connections; listener removal stops accepting`, async (t) => {
    // /slow is answered when the test says so: a request in flight across a listener update.
    let release: () => void = () => {};
    const released = new Promise<void>((r) => { release = r; });
    const a = await httpUpstream((q, res) => { if (q.url === '/slow') void released.then(() => res.end('slow done')); else res.end('from a'); });
    const xds = await XdsTestServer.start();
    const port = await freePort();
    const port2 = await freePort();
    const log = accessLogFile();
    const logCfg: JsonObject = { access_log: [{ name: 'envoy.access_loggers.file', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: log.path,
      log_format: { text_format_source: { inline_string: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n' } },
    } }] };
    xds.set('cluster', [edsCluster('svc-a'), staticXdsCluster('svc-s', [a.port])]);
    xds.set('endpoint', [cla('svc-a', [a.port])]);
    xds.set('listener', [rdsListener('http', port, 'routes', logCfg)]);
    xds.set('route', [routeConfig('routes', [['/static', 'svc-s'], ['/', 'svc-a']])]);
    const proxy = await startProxy(xdsBootstrap({ xdsPort: xds.port, delta }), { concurrency });
    t.after(async () => { await proxy.stop(); await xds.stop(); await a.close(); });
    assert.equal((await request(port, { path: '/static' })).body, 'from a');

    // Removing a cluster the route still names: 503 with flag NC, as Envoy's "no cluster".
    xds.set('cluster', [edsCluster('svc-a')]);
    const gone = await eventually('503 for the removed cluster', async () => { const r = await request(port, { path: '/static' }); return r.status === 503 ? r : undefined; });
    assert.equal(gone.status, 503);
    assert.equal(await loggedFlags(log.path, '/static', 503), 'NC');
    assert.equal((await request(port, { path: '/other' })).body, 'from a');
    assert.equal(statValue((await proxy.admin('/stats')).body, 'cluster_manager.active_clusters'), 2, 'xds-grpc and svc-a');

    // A keep-alive connection on the old listener with a request in flight during the update:
    // the request finishes on the old config, its response says connection: close, and the
    // connection ends (Envoy drains it). New connections get the new listener.
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    const closed = once(sock, 'close');
    sock.write('GET /first HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.match(await readResponse(sock), /^HTTP\/1\.1 200/);
    sock.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
    await eventually('the slow request upstream', () => (a.seen.some((r) => r.url === '/slow') ? true : undefined));
    xds.set('listener', [rdsListener('http', port, 'routes', { ...logCfg, server_name: 'updated' })]);
    await eventually('the new listener', async () => ((await request(port, { path: '/' })).headers.server === 'updated' ? true : undefined));
    release();
    const slow = await readResponse(sock);
    assert.match(slow, /^HTTP\/1\.1 200/);
    assert.match(slow, /\r\nconnection: close\r\n/i);
    assert.match(slow, /\r\nserver: envoy\r\n/i, 'answered by the listener config it started on');
    assert.match(slow, /slow done$/);
    await closed;

    // A second listener comes, then the first one goes: it stops accepting.
    xds.set('listener', [rdsListener('http', port, 'routes'), rdsListener('http2', port2, 'routes')]);
    await eventually('the added listener', async () => ((await request(port2, { path: '/' }).catch(() => undefined))?.body === 'from a' ? true : undefined));
    xds.set('listener', [rdsListener('http2', port2, 'routes')]);
    await eventually('the removed listener refuses', async () => ((await request(port, { path: '/' }).then(() => false, () => true)) ? true : undefined));
    assert.equal((await request(port2, { path: '/' })).body, 'from a');
    const listeners = (await proxy.admin('/listeners')).body;
    assert.doesNotMatch(listeners, /^http::/m);
    assert.match(listeners, /^http2::/m);
  });
}

