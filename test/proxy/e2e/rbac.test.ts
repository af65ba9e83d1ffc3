import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpUpstream, rawUpstream, request, type Upstream } from '../../support/net.js';
import { startProxy, type RunningProxy } from '../../support/proxy.js';
import { statValue } from '../../support/stats.js';

// envoy.filters.http.rbac and envoy.filters.network.rbac in a real proxy over loopback sockets.
const HTTP_RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const PER_ROUTE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';
const NET_RBAC = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

const cluster = (name: string, port: number) => ({
  name, type: 'STATIC', connect_timeout: '1s',
  load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
});
const address = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });

function httpListener(name: string, port: number, rbac: object, routes: object[], accessLog?: string): object {
  return {
    name, address: address(port),
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': HCM, stat_prefix: name,
      ...(accessLog ? { access_log: [{ name: 'envoy.access_loggers.file', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: accessLog, log_format: { text_format_source: { inline_string: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS%\n' } } } }] } : {}),
      route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes }] },
      http_filters: [{ name: 'envoy.filters.http.rbac', typed_config: { '@type': HTTP_RBAC, ...rbac } }, ROUTER],
    } }] }],
  };
}

async function started(bootstrap: object): Promise<RunningProxy> {
  const text = JSON.stringify(bootstrap).replace('"ADMIN_PORT"', 'ADMIN_PORT');
  const p = await startProxy(text);
  cleanup.push(() => p.stop());
  return p;
}

async function upstream(): Promise<Upstream> {
  const u = await httpUpstream();
  cleanup.push(() => u.close());
  return u;
}

const get = (port: number, path: string, method = 'GET', headers: Record<string, string> = {}) => request(port, { path, method, headers });

test('HTTP RBAC: ALLOW admits only what its policies name (method, path, header); shadow rules count; a route can turn it off', async () => {
  const up = await upstream();
  const port = await freePort();
  const log = join(mkdtempSync(join(tmpdir(), 'tsmesh-rbac-')), 'access.log');
  const rbac = {
    rules: { action: 'ALLOW', policies: {
      'read-api': { permissions: [{ and_rules: { rules: [{ header: { name: ':method', string_match: { exact: 'GET' } } }, { url_path: { path: { prefix: '/api/' } } }] } }], principals: [{ any: true }] },
      admin: { permissions: [{ url_path: { path: { exact: '/admin' } } }], principals: [{ header: { name: 'x-role', string_match: { exact: 'admin' } } }] },
    } },
    shadow_rules: { action: 'DENY', policies: { secret: { permissions: [{ url_path: { path: { prefix: '/api/secret' } } }], principals: [{ any: true }] } } },
  };
  const routes = [
    { match: { prefix: '/open' }, route: { cluster: 'app' }, typed_per_filter_config: { 'envoy.filters.http.rbac': { '@type': PER_ROUTE } } },
    { match: { prefix: '/' }, route: { cluster: 'app' } },
  ];
  const proxy = await started({ admin: { address: address('ADMIN_PORT' as unknown as number) }, static_resources: { listeners: [httpListener('authz', port, rbac, routes, log)], clusters: [cluster('app', up.port)] } });

  const rows: [string, string, Record<string, string>, number][] = [
    ['GET', '/api/items?x=1', {}, 200],
    ['GET', '/api/secret', {}, 200],
    ['POST', '/api/items', {}, 403],
    ['GET', '/other', {}, 403],
    ['GET', '/admin', {}, 403],
    ['GET', '/admin', { 'x-role': 'admin' }, 200],
    ['DELETE', '/admin', { 'x-role': 'admin' }, 200],
    ['GET', '/admin/x', { 'x-role': 'admin' }, 403],
    ['POST', '/open/anything', {}, 200],
  ];
  for (const [method, path, headers, want] of rows) {
    const r = await get(port, path, method, headers);
    assert.equal(r.status, want, `${method} ${path} ${JSON.stringify(headers)}`);
    if (want === 403) assert.equal(r.body, 'RBAC: access denied');
  }
  assert.deepEqual(up.seen.map((s) => `${s.method} ${s.url}`), ['GET /api/items?x=1', 'GET /api/secret', 'GET /admin', 'DELETE /admin', 'POST /open/anything'], 'denied requests never reach the upstream');
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'http.authz.rbac.allowed'), 4, 'the /open route has no RBAC: not counted');
  assert.equal(statValue(stats, 'http.authz.rbac.denied'), 4);
  assert.equal(statValue(stats, 'http.authz.rbac.shadow_denied'), 1);
  assert.equal(statValue(stats, 'http.authz.rbac.shadow_allowed'), 7);
  let text = '';
  for (let i = 0; i < 100 && !text.includes('/admin/x 403'); i++) { await new Promise((r) => setTimeout(r, 50)); try { text = readFileSync(log, 'utf8'); } catch { /* not yet */ } }
  assert.match(text, /^\/other 403 rbac_access_denied_matched_policy\[none\]$/m);
});

test('HTTP RBAC: DENY refuses what its policies name, by header, remote IP and path', async () => {
  const up = await upstream();
  const port = await freePort();
  const rbac = { rules: { action: 'DENY', policies: {
    'no-bots': { permissions: [{ any: true }], principals: [{ header: { name: 'user-agent', string_match: { contains: 'bot', ignore_case: true } } }] },
    'no-internal-from-loopback': { permissions: [{ url_path: { path: { prefix: '/internal' } } }], principals: [{ remote_ip: { address_prefix: '127.0.0.0', prefix_len: 8 } }] },
  } } };
  const proxy = await started({ admin: { address: address('ADMIN_PORT' as unknown as number) }, static_resources: { listeners: [httpListener('deny', port, rbac, [{ match: { prefix: '/' }, route: { cluster: 'app' } }])], clusters: [cluster('app', up.port)] } });
  assert.equal((await get(port, '/x')).status, 200);
  assert.equal((await get(port, '/x', 'GET', { 'user-agent': 'GoodBot/1.0' })).status, 403);
  assert.equal((await get(port, '/internal/status')).status, 403);
  assert.equal((await get(port, '/internals')).status, 403, 'a prefix, as configured');
  assert.equal((await get(port, '/public/internal')).status, 200);
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'http.deny.rbac.denied'), 3);
  assert.equal(statValue(stats, 'http.deny.rbac.allowed'), 2);
});

/** Connects and waits for the upstream's greeting: 'served', or 'closed' if the proxy closes first. */
function outcome(port: number): Promise<'served' | 'closed'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d; if (got.includes('\n')) { s.destroy(); resolve('served'); } });
    s.on('error', () => { /* reset by the proxy: close follows */ });
    s.on('close', () => resolve(got.includes('\n') ? 'served' : 'closed'));
  });
}

test('network RBAC in front of tcp_proxy: a denied connection is closed before it reaches the upstream', async () => {
  const up = await rawUpstream((s) => { s.write('hello\n'); s.on('data', () => { /* discard */ }); });
  cleanup.push(() => up.close());
  const [denyPort, allowPort] = [await freePort(), await freePort()];
  const tcpChain = (statPrefix: string, rules: object) => ({ filters: [
    { name: 'envoy.filters.network.rbac', typed_config: { '@type': NET_RBAC, stat_prefix: statPrefix, rules } },
    { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'tcp', cluster: 'echo' } },
  ] });
  const proxy = await started({ admin: { address: address('ADMIN_PORT' as unknown as number) }, static_resources: {
    listeners: [
      { name: 'deny', address: address(denyPort), filter_chains: [tcpChain('tcp_deny', { action: 'DENY', policies: { loopback: { permissions: [{ any: true }], principals: [{ direct_remote_ip: { address_prefix: '127.0.0.1', prefix_len: 32 } }] } } })] },
      { name: 'allow', address: address(allowPort), filter_chains: [tcpChain('tcp_allow', { action: 'ALLOW', policies: { port: { permissions: [{ destination_port: allowPort }], principals: [{ any: true }] } } })] },
    ],
    clusters: [cluster('echo', up.port)],
  } });
  assert.deepEqual(await Promise.all([outcome(denyPort), outcome(denyPort), outcome(allowPort)]), ['closed', 'closed', 'served']);
  assert.equal(up.connections, 1, 'denied connections never reach the upstream');
  const stats = (await proxy.admin('/stats')).body;
  assert.equal(statValue(stats, 'tcp_deny.rbac.denied'), 2);
  assert.equal(statValue(stats, 'tcp_allow.rbac.allowed'), 1);
});

test('a bad RBAC config is refused at start-up with its field path', async () => {
  const { runCli, writeTemp } = await import('../../support/proxy.js');
  const port = await freePort();
  const bad = { static_resources: { listeners: [httpListener('bad', port, { rules: { policies: { p: { permissions: [{ url_path: { path: { safe_regex: { regex: '(' } } } }], principals: [{ any: true }] } } } }, [{ match: { prefix: '/' }, route: { cluster: 'app' } }])], clusters: [cluster('app', 1)] } };
  const r = await runCli(['proxy', '-c', writeTemp('bad.json', JSON.stringify(bad)), '--concurrency', '1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /http_filters\[0\]\.typed_config\.rules\.policies\[p\]\.permissions\[0\]\.url_path\.path\.safe_regex\.regex: invalid RE2/);
  const unsupported = JSON.parse(JSON.stringify(bad).replace('"url_path":{"path":{"safe_regex":{"regex":"("}}}', '"any":true').replace('"rules":{', '"track_per_rule_stats":true,"rules":{'));
  const r2 = await runCli(['proxy', '-c', writeTemp('bad2.json', JSON.stringify(unsupported)), '--concurrency', '1']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /typed_config\.track_per_rule_stats: field is not supported/);
});
