import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canUseNetns, startProxyInNetns } from '../../support/netns.js';
import { freePort, request } from '../../support/net.js';
import { runCli, startProxy, writeTemp } from '../../support/proxy.js';

// Listener hand-off (use_original_dst) and listeners that do not bind (bind_to_port: false), as
// Istio's virtualOutbound and its per-destination listeners use them. Without traffic capture a
// connection's original destination is its local address, so a capture listener bound to
// 0.0.0.0 sees many destinations: the test runs the proxy in a network namespace of its own
// (only loopback, nothing leaves it), where it may bind 0.0.0.0 and clients reach any 127.x.

const direct = (statPrefix: string, body: string, accessLog = ''): string => `
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${statPrefix}${accessLog}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "${body}" } } } ]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;

const fileLog = (path: string): string => `
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${path}
              log_format: { text_format_source: { inline_string: "%DOWNSTREAM_LOCAL_ADDRESS% %REQ(:AUTHORITY)%\\n" } }`;

for (const concurrency of [1, 2]) {
  test(`use_original_dst hands connections to the listener on their destination (--concurrency ${concurrency})`, async (t) => {
    if (!(await canUseNetns())) { t.skip('needs root for a private network namespace (unshare/nsenter); the pure lookup is tested in listener/handoff.test.ts'); return; }
    const log = join(dirname(writeTemp('x', '')), 'access.log');
    const proxy = await startProxyInNetns(`
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 15000 } }
static_resources:
  listeners:
  - name: virtualOutbound
    address: { socket_address: { address: 0.0.0.0, port_value: 15001 } }
    use_original_dst: true${direct('outbound', 'virtualOutbound')}
  - name: 127.0.0.2_15001
    address: { socket_address: { address: 127.0.0.2, port_value: 15001 } }
    bind_to_port: false${direct('to_127_0_0_2', '127.0.0.2_15001', fileLog(log))}
  - name: 127.0.0.5_8080
    address: { socket_address: { address: 127.0.0.5, port_value: 8080 } }
    bind_to_port: false${direct('to_127_0_0_5', '127.0.0.5_8080')}
`, 15000, concurrency);
    try {
      // Exact match on the original destination: the non-binding listener serves it.
      const a = await proxy.get('http://127.0.0.2:15001/x');
      assert.deepEqual([a.status, a.body], [200, '127.0.0.2_15001'], proxy.stderr());
      // No listener on 127.0.0.3:15001: the wildcard match is virtualOutbound itself.
      const b = await proxy.get('http://127.0.0.3:15001/x');
      assert.deepEqual([b.status, b.body], [200, 'virtualOutbound']);
      // A listener with bind_to_port: false has no socket of its own.
      const c = await proxy.get('http://127.0.0.5:8080/x');
      assert.equal(c.status, 0, `127.0.0.5:8080 must not be bound, got ${c.status} ${c.body}`);
      assert.equal(c.curlExit, 7, 'curl: connection refused');
      // The handed-off connection is the target listener's, with the original destination as
      // its local address.
      const deadline = Date.now() + 10_000;
      while (!(existsSync(log) && readFileSync(log, 'utf8').includes('\n')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(readFileSync(log, 'utf8'), '127.0.0.2:15001 127.0.0.2:15001\n');
      const stats = (await proxy.exec(['curl', '-sS', 'http://127.0.0.1:15000/stats?filter=downstream_cx_total'])).stdout;
      assert.match(stats, /^listener\.127\.0\.0\.2_15001\.downstream_cx_total: 1$/m, stats);
      assert.match(stats, /^listener\.0\.0\.0\.0_15001\.downstream_cx_total: 1$/m, stats);
    } finally {
      await proxy.stop();
    }
  });
}

test('without a namespace: a use_original_dst listener whose own address is the destination serves itself; unbound listeners stay unbound', async () => {
  const [port, unboundPort] = [await freePort(), await freePort()];
  const proxy = await startProxy(`
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ADMIN_PORT } }
static_resources:
  listeners:
  - name: capture
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    use_original_dst: true${direct('capture', 'capture')}
  - name: 0.0.0.0_${port}
    address: { socket_address: { address: 0.0.0.0, port_value: ${port} } }
    bind_to_port: false${direct('wild', 'wildcard')}
  - name: unbound
    address: { socket_address: { address: 127.0.0.1, port_value: ${unboundPort} } }
    bind_to_port: false${direct('unbound', 'unbound')}
`);
  try {
    const r = await request(port, { path: '/' });
    assert.equal(r.body, 'capture', 'an exact address match (itself) wins over the wildcard listener');
    await assert.rejects(request(unboundPort, { path: '/' }), /ECONNREFUSED/);
  } finally {
    await proxy.stop();
  }
});

test('two listeners on one address are refused, also when one does not bind', async () => {
  const file = writeTemp('dup.yaml', `
static_resources:
  listeners:
  - name: a
    address: { socket_address: { address: 127.0.0.2, port_value: 9080 } }${direct('a', 'a')}
  - name: b
    address: { socket_address: { address: 127.0.0.2, port_value: 9080 } }
    bind_to_port: false${direct('b', 'b')}
`);
  const r = await runCli(['proxy', '-c', file, '--validate']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /static_resources\.listeners\[1\]\.address: listener "b" has the same address 127\.0\.0\.2:9080 as static_resources\.listeners\[0\]/);
});
