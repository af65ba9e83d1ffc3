import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { freePort, request } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// always_set_request_id_in_response with tracing on: the response carries the id the upstream
// saw, after the tracing decision wrote its reason into it (Envoy's UUID request-id extension).

let proxy: RunningProxy;
let port: number;
let upstream: http.Server;
const seen: string[] = [];

before(async () => {
  upstream = http.createServer((req, res) => {
    // Sampled spans are posted here too (the provider's cluster is this app): only /r counts.
    if (req.url === '/r') seen.push(String(req.headers['x-request-id']));
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  port = await freePort();
  proxy = await startProxy(httpBootstrap({
    listenPort: port,
    upstreamPort: (upstream.address() as AddressInfo).port,
    hcmExtra: `
always_set_request_id_in_response: true
tracing:
  random_sampling: { value: 0 }
  provider:
    name: envoy.tracers.opentelemetry
    typed_config:
      "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
      http_service: { http_uri: { uri: "http://app/v1/traces", cluster: app, timeout: 1s } }`,
  }));
});

after(async () => {
  await proxy.stop();
  upstream.closeAllConnections();
  upstream.close();
});

test('the response has the request id the upstream saw: generated, forced and the caller\'s own', async () => {
  const cases: { headers: Record<string, string>; nibble: string; id?: string }[] = [
    { headers: {}, nibble: '4' },
    { headers: { 'x-envoy-force-trace': '1' }, nibble: 'a' },
    // The caller's id keeps its digits; the forced trace marks it.
    { headers: { 'x-request-id': '0c2f8a6e-1b3d-4e5f-8a9b-0c1d2e3f4a5b', 'x-envoy-force-trace': '1' }, nibble: 'a', id: '0c2f8a6e-1b3d-ae5f-8a9b-0c1d2e3f4a5b' },
  ];
  for (const c of cases) {
    const r = await request(port, { path: '/r', headers: c.headers });
    assert.equal(r.status, 200);
    const upstreamSaw = seen.at(-1)!;
    assert.equal(r.headers['x-request-id'], upstreamSaw, JSON.stringify(c.headers));
    assert.equal(upstreamSaw[14], c.nibble, upstreamSaw);
    if (c.id) assert.equal(upstreamSaw, c.id);
  }
  assert.equal(seen.length, cases.length);
});
