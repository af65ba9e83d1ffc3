/**
 * Istio's standard metrics end to end: a client sidecar (outbound listener, reporter source,
 * two worker threads) and a server sidecar (inbound listener, reporter destination) as two real
 * `tsmesh proxy` processes, a real app behind the server, requests through both. Each side must
 * report the same edge with the other's labels, learned through the x-envoy-peer-metadata
 * exchange, which neither app sees.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, httpUpstream, rawUpstream, request, type Upstream } from '../../support/net.js';
import { runCli, startProxy, writeTemp, type RunningProxy } from '../../support/proxy.js';
import { parsePrometheus, select, total, type Sample } from '../../support/prometheus-text.js';

const SERVICE = 'server.default.svc.cluster.local';
const stats = (reporter = '') => `
          - name: istio.stats
            typed_config:
              "@type": type.googleapis.com/xds.type.v3.TypedStruct
              type_url: type.googleapis.com/stats.PluginConfig
              value: { ${reporter} }`;
const ROUTER = `
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;

function node(name: string, app: string, version: string): string {
  return `
node:
  id: sidecar~127.0.0.1~${name}.default~default.svc.cluster.local
  cluster: ${app}.default
  metadata: { NAME: ${name}, NAMESPACE: default, SERVICE_ACCOUNT: ${app}, WORKLOAD_NAME: ${name}, LABELS: { app: ${app}, version: ${version} } }`;
}

function cluster(name: string, port: number): string {
  return `
  - name: "${name}"
    connect_timeout: 1s
    type: STATIC
    load_assignment: { cluster_name: "${name}", endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } } ] } ] }`;
}

function httpListener(name: string, port: number, direction: string, clusterName: string): string {
  return `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    traffic_direction: ${direction}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${name}
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: "${clusterName}" } } ] } ] }
          http_filters:${stats()}${ROUTER}`;
}

function tcpListener(name: string, port: number, direction: string, clusterName: string): string {
  return `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    traffic_direction: ${direction}
    filter_chains:
    - filters:
      - name: istio.stats
        typed_config:
          "@type": type.googleapis.com/xds.type.v3.TypedStruct
          type_url: type.googleapis.com/stats.PluginConfig
          value: { tcp_reporting_duration: 1s }
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: ${name}, cluster: "${clusterName}" }`;
}

let app: Upstream;
let echo: { port: number; close(): Promise<void> };
let client: RunningProxy;
let server: RunningProxy;
let clientHttp: number;
let clientTcp: number;

before(async () => {
  app = await httpUpstream((req, res) => {
    res.statusCode = req.url === '/fail' ? 503 : 200;
    res.end('0123456789');
  });
  echo = await rawUpstream((s) => s.on('data', (d) => s.write(d)));
  const [serverHttp, serverTcp] = [await freePort(), await freePort()];
  [clientHttp, clientTcp] = [await freePort(), await freePort()];
  server = await startProxy(`${node('server-v1', 'server', 'v1')}
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:${httpListener('inbound_http', serverHttp, 'INBOUND', 'inbound|8080||')}${tcpListener('inbound_tcp', serverTcp, 'INBOUND', 'inbound|9000||')}
  clusters:${cluster('inbound|8080||', app.port)}${cluster('inbound|9000||', echo.port)}
`);
  client = await startProxy(`${node('client-v1', 'client', 'v1')}
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:${httpListener('outbound_http', clientHttp, 'OUTBOUND', `outbound|80||${SERVICE}`)}${tcpListener('outbound_tcp', clientTcp, 'OUTBOUND', `outbound|9000||echo.default.svc.cluster.local`)}
  clusters:${cluster(`outbound|80||${SERVICE}`, serverHttp)}${cluster('outbound|9000||echo.default.svc.cluster.local', serverTcp)}
`, { concurrency: 2 });
});

after(async () => {
  await Promise.all([client?.stop(), server?.stop()]);
  await Promise.all([app?.close(), echo?.close()]);
});

async function scrape(p: RunningProxy): Promise<Sample[]> {
  const r = await p.admin('/stats/prometheus');
  assert.equal(r.status, 200);
  return parsePrometheus(r.body);
}

/** Polls until `probe` holds (worker threads and TCP reports land asynchronously). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('both sidecars report the same HTTP edge with the peer labels from the metadata exchange', async () => {
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(await request(clientHttp, { path: '/ok', headers: { host: SERVICE }, method: 'POST', body: 'abc' }));
  for (let i = 0; i < 2; i++) replies.push(await request(clientHttp, { path: '/fail', headers: { host: SERVICE } }));
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200, 200, 503, 503]);
  // The exchange stays between the sidecars.
  for (const r of replies) assert.equal(r.headers['x-envoy-peer-metadata'], undefined);
  for (const s of app.seen) {
    assert.equal(s.headers['x-envoy-peer-metadata'], undefined);
    assert.equal(s.headers['x-envoy-peer-metadata-id'], undefined);
  }

  const edge = {
    source_workload: 'client-v1', source_workload_namespace: 'default', source_app: 'client', source_version: 'v1',
    destination_workload: 'server-v1', destination_workload_namespace: 'default', destination_app: 'server', destination_version: 'v1',
    destination_service: SERVICE, destination_service_name: 'server', destination_service_namespace: 'default',
    request_protocol: 'http', response_flags: '-', grpc_response_status: '',
  };
  let src: Sample[] = [];
  let dst: Sample[] = [];
  await until('7 requests on both sides', async () => {
    [src, dst] = [await scrape(client), await scrape(server)];
    return total(src, 'istio_requests_total') === 7 && total(dst, 'istio_requests_total') === 7;
  });
  assert.equal(total(src, 'istio_requests_total', { ...edge, reporter: 'source', response_code: '200', connection_security_policy: 'unknown' }), 5);
  assert.equal(total(src, 'istio_requests_total', { ...edge, reporter: 'source', response_code: '503' }), 2);
  assert.equal(total(dst, 'istio_requests_total', { ...edge, reporter: 'destination', response_code: '200', connection_security_policy: 'none' }), 5);
  assert.equal(total(dst, 'istio_requests_total', { ...edge, reporter: 'destination', response_code: '503' }), 2);
  // Histograms: one observation per request; bytes are body sizes.
  const ok = { ...edge, reporter: 'destination', response_code: '200' };
  assert.equal(total(dst, 'istio_request_duration_milliseconds_count', ok), 5);
  assert.equal(total(dst, 'istio_request_duration_milliseconds_bucket', { ...ok, le: '+Inf' }), 5);
  assert.equal(total(dst, 'istio_request_bytes_sum', ok), 15);
  assert.equal(total(dst, 'istio_response_bytes_sum', ok), 50);
  assert.equal(total(src, 'istio_response_bytes_sum', { ...edge, reporter: 'source', response_code: '503' }), 20);
  // Istio's names, no envoy_ prefix; TYPE lines say what they are.
  const text = (await client.admin('/stats/prometheus')).body;
  assert.match(text, /^# TYPE istio_requests_total counter$/m);
  assert.match(text, /^# TYPE istio_request_duration_milliseconds histogram$/m);
  assert.doesNotMatch(text, /envoy_istio/);
});

test('a request without the exchange (from outside the mesh) or with junk metadata counts with an unknown source', async () => {
  // Straight to the server sidecar, as a client without a sidecar would.
  const listeners = (await server.admin('/listeners')).body;
  const port = Number(/inbound_http::127\.0\.0\.1:(\d+)/.exec(listeners)![1]);
  const r = await request(port, { path: '/ok', headers: { host: SERVICE } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-envoy-peer-metadata'], undefined);
  await until('the unknown-source request', async () => total(await scrape(server), 'istio_requests_total', { reporter: 'destination', source_workload: 'unknown', destination_workload: 'server-v1' }) === 1);
  // Metadata that does not decode is an unknown peer, never an error.
  for (const junk of ['%%%not base64', Buffer.from([0x0a, 0xff, 0xff, 0x01]).toString('base64'), 'A'.repeat(4000)]) {
    const bad = await request(port, { path: '/ok', headers: { host: SERVICE, 'x-envoy-peer-metadata': junk } });
    assert.equal(bad.status, 200);
    assert.equal(bad.headers['x-envoy-peer-metadata'], undefined);
  }
  await until('the junk-metadata requests', async () => total(await scrape(server), 'istio_requests_total', { reporter: 'destination', source_workload: 'unknown', destination_workload: 'server-v1' }) === 4);
  assert.equal(app.seen.filter((s) => s.headers['x-envoy-peer-metadata'] !== undefined).length, 0);
});

test('TCP connections are counted on both sides with their bytes', async () => {
  const sock = net.connect(clientTcp, '127.0.0.1');
  await once(sock, 'connect');
  sock.write('hello');
  let got = '';
  sock.on('data', (d) => (got += d));
  await until('the echo', async () => got === 'hello', 10_000);
  sock.end();
  await once(sock, 'close');
  const want = (p: RunningProxy, reporter: string) => until(`${reporter} TCP metrics`, async () => {
    const s = await scrape(p);
    const labels = { reporter, request_protocol: 'tcp' };
    return total(s, 'istio_tcp_connections_opened_total', labels) === 1 && total(s, 'istio_tcp_connections_closed_total', labels) === 1
      && total(s, 'istio_tcp_received_bytes_total', labels) === 5 && total(s, 'istio_tcp_sent_bytes_total', labels) === 5;
  });
  await want(client, 'source');
  await want(server, 'destination');
  const src = await scrape(client);
  assert.equal(select(src, 'istio_tcp_connections_opened_total', { reporter: 'source' })[0]!.labels['destination_service'], 'echo.default.svc.cluster.local');
  assert.equal(select(src, 'istio_tcp_connections_opened_total', { reporter: 'source' })[0]!.labels['source_workload'], 'client-v1');
});

test('a PluginConfig field tsmesh does not implement is refused with its path', async () => {
  const port = await freePort();
  const bad = (value: string, typeUrl = 'type.googleapis.com/stats.PluginConfig') => writeTemp('bad.yaml', `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: x
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, direct_response: { status: 200 } } ] } ] }
          http_filters:
          - name: istio.stats
            typed_config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: "${typeUrl}", value: ${value} }${ROUTER}
`);
  let r = await runCli(['proxy', '-c', bad('{ metrics: [] }'), '--validate']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /http_filters\[0\]\.typed_config\.value\.metrics: field is not supported/);
  r = await runCli(['proxy', '-c', bad('{}', 'type.googleapis.com/other.Config'), '--validate']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /typed_config\.type_url: expected type\.googleapis\.com\/stats\.PluginConfig/);
  r = await runCli(['proxy', '-c', bad('{ reporter: SERVER_GATEWAY, disable_host_header_fallback: true }'), '--validate']);
  assert.equal(r.code, 0, r.stderr);
});
