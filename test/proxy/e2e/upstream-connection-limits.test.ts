import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../support/net.js';
import { startProxy, httpBootstrap, type RunningProxy } from '../../support/proxy.js';

// HttpProtocolOptions.common_http_protocol_options on a cluster, as Istio's connectionPool
// settings produce them: max_requests_per_connection and max_connection_duration decide when an
// upstream keep-alive connection stops being reused.
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function countingUpstream(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('connection', () => { connections++; });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => { server.closeAllConnections(); return new Promise((r) => server.close(r)); });
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function sequential(port: number, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => { res.resume(); res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)))); }).on('error', reject);
    });
  }
  agent.destroy();
}

const options = (common: string) => `
typed_extension_protocol_options:
  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    explicit_http_config: { http_protocol_options: {} }
    common_http_protocol_options: { ${common} }`;

test('max_requests_per_connection: an upstream connection carries at most that many requests', async () => {
  const up = await countingUpstream();
  const listenPort = await freePort();
  const proxy: RunningProxy = await startProxy(httpBootstrap({ listenPort, upstreamPort: up.port, clusterExtra: options('max_requests_per_connection: 2') }));
  cleanups.push(() => proxy.stop());
  await sequential(listenPort, 6);
  assert.equal(up.connections(), 3);
});

test('without limits one keep-alive connection carries every request', async () => {
  const up = await countingUpstream();
  const listenPort = await freePort();
  const proxy = await startProxy(httpBootstrap({ listenPort, upstreamPort: up.port }));
  cleanups.push(() => proxy.stop());
  await sequential(listenPort, 6);
  assert.equal(up.connections(), 1);
});

test('max_connection_duration: an older connection takes no new request', async () => {
  const up = await countingUpstream();
  const listenPort = await freePort();
  const proxy = await startProxy(httpBootstrap({ listenPort, upstreamPort: up.port, clusterExtra: options('max_connection_duration: 0.2s') }));
  cleanups.push(() => proxy.stop());
  await sequential(listenPort, 2);
  await new Promise((r) => setTimeout(r, 400));
  await sequential(listenPort, 2);
  assert.ok(up.connections() >= 2, `expected a new connection after the duration, saw ${up.connections()}`);
});

test('fields the downstream side does not implement are refused at start-up, naming them', async () => {
  const { runCli, writeTemp } = await import('../../support/proxy.js');
  const file = writeTemp('hcm-maxreq.yaml', httpBootstrap({ listenPort: 1, upstreamPort: 2, hcmExtra: 'common_http_protocol_options: { max_requests_per_connection: 5 }' }).replace('ADMIN_PORT', '0'));
  const r = await runCli(['proxy', '-c', file, '--validate']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /common_http_protocol_options\.max_requests_per_connection: not supported by tsmesh on the downstream side/);
});

test('HTTP/2 upstream: max_requests_per_connection opens a new connection after that many streams', async () => {
  const http2 = await import('node:http2');
  let sessions = 0;
  const server = http2.createServer();
  server.on('session', () => { sessions++; });
  server.on('stream', (stream) => { stream.respond({ ':status': 200 }); stream.end('ok'); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((r) => { server.close(r); for (const s of openSessions) s.destroy(); }));
  const openSessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => { openSessions.add(s); s.on('close', () => openSessions.delete(s)); });
  const listenPort = await freePort();
  const proxy = await startProxy(httpBootstrap({ listenPort, upstreamPort: (server.address() as AddressInfo).port, clusterExtra: `
typed_extension_protocol_options:
  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
    explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 8 } }
    common_http_protocol_options: { max_requests_per_connection: 2 }` }));
  cleanups.push(() => proxy.stop());
  await sequential(listenPort, 6);
  assert.equal(sessions, 3);
});
