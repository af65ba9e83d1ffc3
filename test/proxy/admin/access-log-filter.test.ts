import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AccessLogFilterSchema, ComparisonFilter_Op } from '../../../src/envoy/generated/envoy/config/accesslog/v3/accesslog_pb.js';
import { compileAccessLogFilter } from '../../../src/proxy/admin/access-log/filter.js';
import type { AccessLogContext } from '../../../src/proxy/admin/access-log/context.js';
import { ResponseFlag } from '../../../src/proxy/admin/access-log/response-flags.js';
import { HeaderMap } from '../../../src/proxy/http/headers.js';
import { ConfigError } from '../../../src/envoy/registry.js';
import { freePort } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';

const status = (op: ComparisonFilter_Op, v: number) => create(AccessLogFilterSchema, { filterSpecifier: { case: 'statusCodeFilter', value: { comparison: { op, value: { defaultValue: v, runtimeKey: 'k' } } } } });
const ctx = (code: number, extra: Partial<AccessLogContext> = {}): AccessLogContext => ({ startTimeMs: 0, responseCode: code, responseFlags: 0, bytesReceived: 0, bytesSent: 0, ...extra });

test('access-log filters: status comparisons, and/or, headers, flags, duration', () => {
  const ge400 = compileAccessLogFilter(status(ComparisonFilter_Op.GE, 400), 'f');
  assert.deepEqual([200, 399, 400, 503].map((c) => ge400(ctx(c))), [false, false, true, true]);
  const either = compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'orFilter', value: { filters: [status(ComparisonFilter_Op.EQ, 404), status(ComparisonFilter_Op.GE, 500)] } } }), 'f');
  assert.deepEqual([200, 404, 410, 500].map((c) => either(ctx(c))), [false, true, false, true]);
  const band = compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'andFilter', value: { filters: [status(ComparisonFilter_Op.GE, 400), status(ComparisonFilter_Op.LE, 499)] } } }), 'f');
  assert.deepEqual([200, 404, 503].map((c) => band(ctx(c))), [false, true, false]);
  const hdr = compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'headerFilter', value: { header: { name: 'x-debug', headerMatchSpecifier: { case: 'presentMatch', value: true } } } } }), 'f');
  const req = (h: string[]) => ({ method: 'GET', path: '/', authority: 'a', scheme: 'http', headers: new HeaderMap(h) });
  assert.equal(hdr(ctx(200, { request: req(['x-debug', '1']) })), true);
  assert.equal(hdr(ctx(200, { request: req([]) })), false);
  const flags = compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'responseFlagFilter', value: { flags: ['UH', 'NR'] } } }), 'f');
  assert.equal(flags(ctx(503, { responseFlags: ResponseFlag.UH })), true);
  assert.equal(flags(ctx(503, { responseFlags: ResponseFlag.UF })), false);
  const slow = compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'durationFilter', value: { comparison: { op: ComparisonFilter_Op.GE, value: { defaultValue: 100 } } } } }), 'f');
  assert.deepEqual([undefined, 99.9, 100].map((d) => slow(ctx(200, d === undefined ? {} : { durationMs: d }))), [false, false, true]);
  assert.throws(() => compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'andFilter', value: { filters: [status(ComparisonFilter_Op.GE, 1)] } } }), 'x.filter'), (e: unknown) => e instanceof ConfigError && e.path === 'x.filter.and_filter.filters');
  assert.throws(() => compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'responseFlagFilter', value: { flags: ['XX'] } } }), 'x.filter'), (e: unknown) => e instanceof ConfigError && e.path === 'x.filter.response_flag_filter.flags[0]');
  assert.throws(() => compileAccessLogFilter(create(AccessLogFilterSchema, { filterSpecifier: { case: 'traceableFilter', value: {} } }), 'x.filter'), (e: unknown) => e instanceof ConfigError && e.path === 'x.filter.traceable_filter');
});

let proxy: RunningProxy | undefined;
let app: http.Server | undefined;
after(async () => { await proxy?.stop(); app?.close(); });

test('a proxy logs only what its filter lets through (response.code >= 400 as Istio generates it)', async () => {
  app = http.createServer((req, res) => res.writeHead(Number(req.url!.slice(1)) || 200).end());
  await new Promise<void>((r) => app!.listen(0, '127.0.0.1', () => r()));
  const appPort = (app.address() as { port: number }).port;
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'tsmesh-log-')), 'access.log');
  proxy = await startProxy(`
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
          access_log:
          - name: envoy.access_loggers.file
            filter: { status_code_filter: { comparison: { op: GE, value: { default_value: 400, runtime_key: unused } } } }
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${file}
              log_format: { text_format_source: { inline_string: "%REQ(:PATH)% %RESPONSE_CODE%\\n" } }
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: / }, route: { cluster: app } } ] } ] }
          http_filters: [ { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ]
  clusters:
  - name: app
    load_assignment: { cluster_name: app, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${appPort} } } } } ] } ] }
`);
  for (const code of [200, 404, 201, 503, 302]) {
    const got = await new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: `/${code}`, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); }).on('error', reject));
    assert.equal(got, code);
  }
  let text = '';
  for (let i = 0; i < 400 && !text.includes('/503 503'); i++) {
    try { text = readFileSync(file, 'utf8'); } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  // Everything was written by the time the last line (503) is: one thread, in order.
  assert.deepEqual(text.trim().split('\n'), ['/404 404', '/503 503']);
});
