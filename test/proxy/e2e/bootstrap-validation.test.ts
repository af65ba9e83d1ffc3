import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, writeTemp, httpBootstrap } from '../../support/proxy.js';

// A bootstrap is taken whole or refused whole, with the field path of each problem.
const good = httpBootstrap({ listenPort: 1, upstreamPort: 2 }).replaceAll('ADMIN_PORT', '3');

const cases: [string, string, RegExp][] = [
  ['an unimplemented cluster field', good.replace('    type: STATIC\n', '    type: STATIC\n    per_connection_buffer_limit_bytes: 1024\n'), /static_resources\.clusters\[0\]\.per_connection_buffer_limit_bytes: field is not supported/],
  ['an unimplemented HCM field', good.replace('stat_prefix: ingress', 'stat_prefix: ingress\n          normalize_path: true'), /static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.normalize_path: field is not supported/],
  ['an unknown field', good.replace('stat_prefix: ingress', 'stat_prefix: ingress\n          no_such_field: 1'), /no_such_field/],
  ['a bad regex', good.replace('match: { prefix: "/" }', 'match: { safe_regex: { regex: "(" } }'), /routes\[0\]\.match\.safe_regex/],
  ['an unknown lb_policy value', good.replace('    type: STATIC\n', '    type: STATIC\n    lb_policy: FASTEST\n'), /lb_policy|FASTEST/],
  ['a port out of range', good.replace('port_value: 2 }', 'port_value: 70000 }'), /port_value/],
  ['a STATIC cluster with a hostname', good.replace('address: 127.0.0.1, port_value: 2', 'address: example.invalid, port_value: 2'), /clusters\[0\]\.load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.address: a STATIC cluster needs IP addresses/],
  ['a route to an unknown cluster', good.replace('cluster: app', 'cluster: nope'), /unknown cluster "nope"|nope/],
  // Every HTTP filter type generated is implemented: a network filter's type stands in for one tsmesh lacks.
  ['an HTTP filter tsmesh does not have', good.replace('envoy.extensions.filters.http.router.v3.Router', 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'), /http_filters\[0\]\.typed_config: unsupported HTTP filter/],
  ['two listeners with one name', good.replace('  clusters:', `  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 5 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: app }
  clusters:`), /listeners\[1\]\.name: duplicate name "main"/],
  ['not YAML at all', '{ this is: [not, valid', /invalid YAML|bootstrap/],
];

for (const [name, text, want] of cases) {
  test(`refused at start: ${name}`, async () => {
    const file = writeTemp('bootstrap.yaml', text);
    const r = await runCli(['proxy', '-c', file, '--validate']);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stderr, want);
  });
}

test('a good bootstrap validates', async () => {
  const r = await runCli(['proxy', '-c', writeTemp('b.yaml', good), '--validate']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /OK/);
});

test('JSON bootstrap works as well as YAML', async () => {
  const json = JSON.stringify({ static_resources: { clusters: [{ name: 'c', type: 'STATIC', load_assignment: { cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 80 } } } }] }] } }] } });
  const r = await runCli(['proxy', '-c', writeTemp('b.json', json), '--validate']);
  assert.equal(r.code, 0, r.stderr);
});

test('a missing file is a clear error', async () => {
  const r = await runCli(['proxy', '-c', '/nonexistent/b.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/nonexistent\/b\.yaml: cannot read/);
});
