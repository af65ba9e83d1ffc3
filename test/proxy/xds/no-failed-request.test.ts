import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, httpUpstream } from '../../support/net.js';
import { startProxy } from '../../support/proxy.js';
import { eventually } from '../../support/mesh.js';
import { XdsTestServer } from '../../support/xds-server.js';
import { cla, edsCluster, rdsListener, routeConfig, xdsBootstrap } from '../../support/xds-resources.js';

/**
 * Keep-alive clients sending requests back to back until stopped (bounded: at most `maxMs`);
 * counts what came back by body, and every failure (an error or a status other than 200).
 */
function load(port: number, clients: number, maxMs: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const bodies = new Map<string, number>();
  const failures: string[] = [];
  let ok = 0;
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const one = () => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/load', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode === 200) { ok++; bodies.set(body, (bodies.get(body) ?? 0) + 1); }
        else failures.push(`${res.statusCode} ${res.headers['x-envoy-response-flags'] ?? ''} ${body.slice(0, 80)}`);
        resolve();
      });
      res.on('error', (e) => { failures.push(e.message); resolve(); });
    });
    req.on('error', (e) => { failures.push(e.message); resolve(); });
  });
  const loops = Array.from({ length: clients }, async () => { while (!stopped && Date.now() < deadline) await one(); });
  return {
    bodies, failures,
    get ok() { return ok; },
    /** Waits until `n` more responses with `body` arrived. */
    async saw(body: string, n = 100): Promise<void> {
      const start = bodies.get(body) ?? 0;
      await eventually(`${n} responses "${body}"`, () => ((bodies.get(body) ?? 0) >= start + n ? true : undefined), 30_000);
    },
    async stop(): Promise<void> { stopped = true; await Promise.all(loops); agent.destroy(); },
  };
}

for (const [delta, concurrency] of [[false, 1], [true, 2]] as const) {
  test(`${delta ? 'Delta' : 'SotW'}, --concurrency ${concurrency}: no request fails across route, cluster and EDS changes under load`, async (t) => {
    const a = await httpUpstream((_q, res) => res.end('a'));
    const b1 = await httpUpstream((_q, res) => res.end('b1'));
    const b2 = await httpUpstream((_q, res) => res.end('b2'));
    const xds = await XdsTestServer.start();
    const port = await freePort();
    xds.set('cluster', [edsCluster('svc-a'), edsCluster('svc-b')]);
    xds.set('endpoint', [cla('svc-a', [a.port]), cla('svc-b', [b1.port])]);
    xds.set('listener', [rdsListener('http', port, 'routes')]);
    xds.set('route', [routeConfig('routes', [['/', 'svc-a']])]);
    const proxy = await startProxy(xdsBootstrap({ xdsPort: xds.port, delta }), { concurrency });
    const l = load(port, 16, 90_000);
    t.after(async () => { await l.stop(); await proxy.stop(); await xds.stop(); await Promise.all([a.close(), b1.close(), b2.close()]); });
    await l.saw('a');

    xds.set('route', [routeConfig('routes', [['/', 'svc-b']])]);          // RDS: another cluster
    await l.saw('b1');
    xds.set('cluster', [edsCluster('svc-a'), edsCluster('svc-b', { connect_timeout: '3s' })]); // CDS: svc-b replaced
    xds.set('endpoint', [cla('svc-a', [a.port]), cla('svc-b', [b1.port, b2.port])]);          // EDS: a host joins
    await l.saw('b2');
    const [reqsBefore, sentBefore] = [xds.requests.length, xds.responses.length];
    xds.set('endpoint', [cla('svc-a', [a.port]), cla('svc-b', [b2.port])]);                    // EDS: a host leaves
    // The proxy ACKs once every thread applied it: from then on nothing new may go to b1.
    await eventually('the EDS update ACKed', () => {
      const sent = xds.responses.slice(sentBefore).filter((r) => r.kind === 'endpoint').at(-1);
      return sent && xds.requests.slice(reqsBefore).some((q) => q.kind === 'endpoint' && q.responseNonce === sent.nonce && !q.error) ? true : undefined;
    });
    const b1Before = l.bodies.get('b1') ?? 0;
    await l.saw('b2', 300);
    xds.set('route', [routeConfig('routes', [['/', 'svc-a']])]);          // and back
    await l.saw('a');
    await l.stop();

    assert.deepEqual(l.failures, [], `${l.failures.length} of ${l.ok + l.failures.length} requests failed`);
    assert.ok(l.ok > 600, `only ${l.ok} requests`);
    // After b1 left svc-b, nothing new went to it (at most requests already in flight).
    assert.ok((l.bodies.get('b1') ?? 0) - b1Before <= 16);
    t.diagnostic(`${l.ok} requests, 0 failed: ${JSON.stringify(Object.fromEntries(l.bodies))}`);
  });
}
