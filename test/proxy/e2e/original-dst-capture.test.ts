import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canUseNetns, startProxyInNetns } from '../../support/netns.js';

// SO_ORIGINAL_DST: behind an iptables REDIRECT (in a network namespace of the test's own) the
// proxy learns where a connection was going, not the port iptables sent it to, and hands it to
// the listener of that destination. Without the lookup the connection would look addressed to
// 127.0.0.1:15001 and stay on virtualOutbound.

const direct = (statPrefix: string, body: string): string => `
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${statPrefix}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "${body}" } } } ]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;

for (const concurrency of [1, 2]) {
  test(`a redirected connection is handed to the listener of its original destination (--concurrency ${concurrency})`, async (t) => {
    if (!(await canUseNetns())) { t.skip('needs root for a private network namespace and iptables; CI runs as root'); return; }
    const proxy = await startProxyInNetns(`
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 15000 } }
static_resources:
  listeners:
  - name: virtualOutbound
    address: { socket_address: { address: 0.0.0.0, port_value: 15001 } }
    use_original_dst: true${direct('outbound', 'virtualOutbound')}
  - name: 0.0.0.0_8080
    address: { socket_address: { address: 0.0.0.0, port_value: 8080 } }
    bind_to_port: false${direct('port_8080', '0.0.0.0_8080')}
`, 15000, concurrency);
    try {
      const rule = await proxy.exec(['iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '127.0.0.5', '--dport', '8080', '-j', 'REDIRECT', '--to-ports', '15001']);
      assert.equal(rule.code, 0, rule.stderr);
      const a = await proxy.get('http://127.0.0.5:8080/x');
      assert.deepEqual([a.status, a.body], [200, '0.0.0.0_8080'], proxy.stderr());
      // Not redirected: the connection's own destination, as before.
      const b = await proxy.get('http://127.0.0.3:15001/x');
      assert.deepEqual([b.status, b.body], [200, 'virtualOutbound']);
    } finally {
      await proxy.stop();
    }
  });
}
