/**
 * The scrape ports: --prometheus-port (Istio's 15090, /stats/prometheus only) and
 * --merge-metrics-port (Istio's 15020, the app's metrics merged with the proxy's).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, httpUpstream, request, type Upstream } from '../../support/net.js';
import { httpBootstrap, runCli, startProxy, writeTemp, type RunningProxy } from '../../support/proxy.js';
import { parsePrometheus, total } from '../../support/prometheus-text.js';

let upstream: Upstream;
let appMetrics: http.Server;
let appMetricsUp = true;
let proxy: RunningProxy;
let listen: number;
let promPort: number;
let mergePort: number;

before(async () => {
  upstream = await httpUpstream();
  appMetrics = http.createServer((req, res) => {
    if (!appMetricsUp) { res.statusCode = 500; res.end('down'); return; }
    res.end(`# TYPE my_app_orders_total counter\nmy_app_orders_total{shop="a"} 3\n`);
  });
  appMetrics.listen(0, '127.0.0.1');
  await once(appMetrics, 'listening');
  [listen, promPort, mergePort] = [await freePort(), await freePort(), await freePort()];
  proxy = await startProxy(httpBootstrap({ listenPort: listen, upstreamPort: upstream.port }), {
    args: ['--prometheus-port', String(promPort), '--merge-metrics-port', String(mergePort), '--app-metrics', `http://127.0.0.1:${(appMetrics.address() as net.AddressInfo).port}/metrics`],
  });
  assert.equal((await request(listen)).status, 200);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  appMetrics?.closeAllConnections();
  await new Promise((r) => appMetrics?.close(r));
});

test('the prometheus port serves the proxy stats and nothing else', async () => {
  const r = await request(promPort, { path: '/stats/prometheus' });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /text\/plain; version=0\.0\.4/);
  const s = parsePrometheus(r.body);
  assert.ok(total(s, 'envoy_http_downstream_rq_total', { envoy_http_conn_manager_prefix: 'ingress' }) >= 1);
  assert.equal(total(s, 'my_app_orders_total'), 0);
  assert.equal((await request(promPort, { path: '/quitquitquit', method: 'POST' })).status, 404);
  assert.equal((await request(promPort, { path: '/config_dump' })).status, 404);
});

test('the merge port serves the app metrics and the proxy stats in one page; a failing app leaves the proxy stats', async () => {
  let r = await request(mergePort, { path: '/stats/prometheus' });
  assert.equal(r.status, 200);
  let s = parsePrometheus(r.body);
  assert.equal(total(s, 'my_app_orders_total', { shop: 'a' }), 3);
  assert.ok(total(s, 'envoy_http_downstream_rq_total') >= 1);
  appMetricsUp = false;
  r = await request(mergePort, { path: '/stats/prometheus' });
  assert.equal(r.status, 200);
  s = parsePrometheus(r.body);
  assert.equal(total(s, 'my_app_orders_total'), 0);
  assert.ok(total(s, 'envoy_http_downstream_rq_total') >= 1);
  appMetricsUp = true;
});

test('an explicit --prometheus-port that is taken stops the start-up with the flag named; a bad --app-metrics is a usage error', async () => {
  const taken = net.createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  try {
    const port = (taken.address() as net.AddressInfo).port;
    const file = writeTemp('b.yaml', httpBootstrap({ listenPort: await freePort(), upstreamPort: upstream.port }).replace('ADMIN_PORT', String(await freePort())));
    let r = await runCli(['proxy', '-c', file, '--concurrency', '1', '--prometheus-port', String(port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr + r.stdout, new RegExp(`--prometheus-port ${port}: .*EADDRINUSE`));
    r = await runCli(['proxy', '-c', file, '--app-metrics', 'ftp://x/metrics']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--app-metrics: expected an http:\/\/ URL/);
  } finally {
    taken.close();
  }
});
