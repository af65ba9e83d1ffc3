import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { freePort } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { startTraceCollector } from '../../support/trace-collector.js';
import { makeCa, yamlString } from '../../support/certs.js';

const open: { close?(): unknown; stop?(): unknown }[] = [];
after(async () => { for (const o of open.reverse()) await (o.stop?.() ?? o.close?.()); });

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { 'x-client-trace-id': 'x' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject);
  });
}

async function proxyTracingTo(collectorPort: number, appPort: number, collectorTransport = ''): Promise<{ proxy: RunningProxy; port: number }> {
  const port = await freePort();
  const proxy = await startProxy(`
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } } }
static_resources:
  listeners:
  - name: in
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
          tracing:
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                http_service: { http_uri: { uri: "http://collector/v1/traces", cluster: collector, timeout: 0.5s } }
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: / }, route: { cluster: app } } ] } ] }
          http_filters: [ { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ]
  clusters:
  - name: app
    load_assignment: { cluster_name: app, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${appPort} } } } } ] } ] }
  - name: collector
    load_assignment: { cluster_name: collector, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${collectorPort} } } } } ] } ] }${collectorTransport}
`);
  open.push(proxy);
  return { proxy, port };
}

async function app(): Promise<number> {
  const s = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  open.push(s);
  return (s.address() as { port: number }).port;
}

async function statValue(proxy: RunningProxy, name: string): Promise<number> {
  const { body } = await proxy.admin('/stats');
  const m = new RegExp(`^${name.replaceAll('.', '\\.')}: (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

async function until(f: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a collector that refuses connections never fails a request; the lost reports are counted', async () => {
  const { proxy, port } = await proxyTracingTo(await freePort(), await app());
  for (let i = 0; i < 20; i++) assert.equal(await get(port), 200);
  await until(async () => (await statValue(proxy, 'tracing.opentelemetry.reports_failed')) > 0, 'reports_failed');
  assert.ok((await statValue(proxy, 'tracing.opentelemetry.spans_dropped')) > 0);
  assert.equal(await statValue(proxy, 'tracing.opentelemetry.spans_sent'), 0);
});

test('a collector that accepts and never answers does not hold requests up', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => { sockets.push(s); s.on('data', () => {}); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  open.push({ close: () => { for (const s of sockets) s.destroy(); silent.close(); } });
  const { proxy, port } = await proxyTracingTo((silent.address() as { port: number }).port, await app());
  for (let i = 0; i < 20; i++) assert.equal(await get(port), 200);
  await until(async () => (await statValue(proxy, 'tracing.opentelemetry.reports_failed')) > 0, 'report timed out');
});

test('a collector answering 500 counts as failed; one answering 200 as sent', async () => {
  const failing = await startTraceCollector({ status: 500 });
  open.push(failing);
  const { proxy, port } = await proxyTracingTo(failing.port, await app());
  assert.equal(await get(port), 200);
  await until(async () => (await statValue(proxy, 'tracing.opentelemetry.reports_failed')) > 0, 'reports_failed on 500');
  const good = await startTraceCollector();
  open.push(good);
  const second = await proxyTracingTo(good.port, await app());
  for (let i = 0; i < 3; i++) assert.equal(await get(second.port), 200);
  await good.waitFor((s) => s.length >= 3);
  await until(async () => (await statValue(second.proxy, 'tracing.opentelemetry.spans_sent')) >= 3, 'spans_sent');
  assert.equal(good.spans[0]!.service, 'unknown_service:envoy', 'no service_name and no node cluster');
});

test('spans still queued when the proxy stops are sent before it exits', async () => {
  const good = await startTraceCollector();
  open.push(good);
  const { proxy, port } = await proxyTracingTo(good.port, await app());
  assert.equal(await get(port), 200);
  assert.equal(await proxy.stop(), 0);
  assert.equal(good.spans.length, 1);
});

test('reports go through the collector cluster: its TLS transport socket is used (SNI, the CA it trusts)', async () => {
  const ca = makeCa();
  open.push({ close: () => ca.cleanup() });
  const tlsCollector = await startTraceCollector({ tls: ca.issue({ cn: 'collector', dns: ['collector.test'] }) });
  open.push(tlsCollector);
  const utls = (sni: string): string => `
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: ${sni}
        common_tls_context: { validation_context: { trusted_ca: { inline_string: ${yamlString(ca.certPem)} }, match_typed_subject_alt_names: [ { san_type: DNS, matcher: { exact: collector.test } } ] } }`;
  const { proxy, port } = await proxyTracingTo(tlsCollector.port, await app(), utls('collector.test'));
  for (let i = 0; i < 3; i++) assert.equal(await get(port), 200);
  await tlsCollector.waitFor((s) => s.length >= 3);
  assert.deepEqual(tlsCollector.bad, []);
  await until(async () => (await statValue(proxy, 'tracing.opentelemetry.spans_sent')) >= 3, 'spans_sent over TLS');
  assert.equal(await statValue(proxy, 'cluster.collector.upstream_cx_total'), 1, 'one connection to the collector, from the cluster\'s pool');
  // A cluster that trusts another CA refuses the collector's certificate: the reports fail, the requests do not.
  const other = makeCa('other-ca');
  open.push({ close: () => other.cleanup() });
  const refused = await proxyTracingTo(tlsCollector.port, await app(), utls('collector.test').replace(yamlString(ca.certPem), yamlString(other.certPem)));
  for (let i = 0; i < 3; i++) assert.equal(await get(refused.port), 200);
  await until(async () => (await statValue(refused.proxy, 'tracing.opentelemetry.reports_failed')) > 0, 'reports_failed with an untrusted collector');
  assert.equal(await statValue(refused.proxy, 'tracing.opentelemetry.spans_sent'), 0);
});

test('over HTTP/2 a report\'s :scheme follows the collector cluster\'s transport: https over TLS, http in the clear', async () => {
  const ca = makeCa();
  open.push({ close: () => ca.cleanup() });
  const h2 = `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`;
  const tlsCollector = await startTraceCollector({ tls: ca.issue({ cn: 'collector', dns: ['collector.test'] }), h2: true });
  open.push(tlsCollector);
  const overTls = await proxyTracingTo(tlsCollector.port, await app(), `${h2}
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: collector.test
        common_tls_context: { alpn_protocols: [h2], validation_context: { trusted_ca: { inline_string: ${yamlString(ca.certPem)} } } }`);
  const cleartext = await startTraceCollector({ h2: true });
  open.push(cleartext);
  const inClear = await proxyTracingTo(cleartext.port, await app(), h2);
  for (let i = 0; i < 2; i++) {
    assert.equal(await get(overTls.port), 200);
    assert.equal(await get(inClear.port), 200);
  }
  await tlsCollector.waitFor((s) => s.length >= 2);
  await cleartext.waitFor((s) => s.length >= 2);
  assert.deepEqual([tlsCollector.bad, cleartext.bad], [[], []]);
  assert.ok(tlsCollector.schemes.length > 0 && cleartext.schemes.length > 0, 'both reports came over HTTP/2');
  assert.deepEqual([...new Set(tlsCollector.schemes)], ['https']);
  assert.deepEqual([...new Set(cleartext.schemes)], ['http']);
});
