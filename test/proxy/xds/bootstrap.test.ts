import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, writeTemp } from '../../support/proxy.js';
import { xdsBootstrap } from '../../support/xds-resources.js';

// dynamic_resources is validated like the rest of a bootstrap: whatever is set and not
// implemented is refused at start with its field path.
const good = xdsBootstrap({ xdsPort: 15010 }).replaceAll('ADMIN_PORT', '3');
const eds = `  - name: svc
    type: EDS
    connect_timeout: 1s
    eds_cluster_config: { eds_config: { ads: {} } }
`;
const rdsListener = `  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 5 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: l
          rds: { config_source: { ads: {} }, route_config_name: r }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
`;
const staticOnly = (extra: string) => `
admin: { address: { socket_address: { address: 127.0.0.1, port_value: 3 } } }
static_resources:
${extra}`;

const cases: [string, string, RegExp][] = [
  ['api_type REST', good.replace('api_type: GRPC', 'api_type: REST'), /dynamic_resources\.ads_config\.api_type: expected GRPC or DELTA_GRPC, got REST/],
  ['no transport_api_version', good.replace('    transport_api_version: V3\n', ''), /dynamic_resources\.ads_config\.transport_api_version: V3 is required/],
  ['an ADS cluster that does not exist', good.replace('cluster_name: xds-grpc } }', 'cluster_name: nope } }'), /dynamic_resources\.ads_config\.grpc_services\[0\]\.envoy_grpc\.cluster_name: unknown static cluster "nope"/],
  ['google_grpc', good.replace('{ envoy_grpc: { cluster_name: xds-grpc } }', '{ google_grpc: { target_uri: "x:1", stat_prefix: x } }'), /dynamic_resources\.ads_config\.grpc_services\[0\]\.google_grpc: field is not supported/],
  ['rate_limit_settings', good.replace('    set_node_on_first_message_only: true\n', '    set_node_on_first_message_only: true\n    rate_limit_settings: {}\n'), /dynamic_resources\.ads_config\.rate_limit_settings: field is not supported/],
  ['lds from a file', good.replace('lds_config: { ads: {}, resource_api_version: V3 }', 'lds_config: { path_config_source: { path: /tmp/x } }'), /dynamic_resources\.lds_config\.path_config_source: field is not supported/],
  ['an EDS cluster without ADS', staticOnly(`  clusters:\n${eds}`), /static_resources\.clusters\[0\]\.eds_cluster_config: EDS needs dynamic_resources\.ads_config/],
  ['an EDS cluster with load_assignment', good + eds + '    load_assignment: { cluster_name: svc }\n', /static_resources\.clusters\[1\]\.load_assignment: an EDS cluster takes its endpoints from EDS/],
  ['RDS without ADS', staticOnly(rdsListener), /static_resources\.listeners\[0\]: rds needs dynamic_resources\.ads_config/],
  ['RDS from elsewhere than ADS', good.replace('static_resources:\n', `static_resources:\n${rdsListener.replace('config_source: { ads: {} }', 'config_source: { path_config_source: { path: /x } }')}`), /rds\.config_source\.path_config_source: field is not supported/],
];

for (const [name, text, want] of cases) {
  test(`refused at start: ${name}`, async () => {
    const r = await runCli(['proxy', '-c', writeTemp('bootstrap.yaml', text), '--validate']);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stderr, want);
  });
}

test('a bootstrap with dynamic_resources, a static EDS cluster and an RDS listener validates', async () => {
  const text = good.replace('static_resources:\n', `static_resources:\n${rdsListener}`) + eds;
  const r = await runCli(['proxy', '-c', writeTemp('b.yaml', text), '--validate']);
  assert.equal(r.code, 0, r.stderr);
});
