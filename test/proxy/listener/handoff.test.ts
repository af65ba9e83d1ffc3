import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handoffTarget, duplicateAddresses } from '../../../src/proxy/listener/handoff.js';
import { parseBootstrap } from '../../../src/envoy/bootstrap.js';
import { compileBootstrap } from '../../../src/proxy/config.js';

const L = (name: string, address: string, port: number, bindToPort = true) => ({ name, address, port, bindToPort });

test('handoffTarget: exact ip:port first, then the wildcard of the family, else none', () => {
  const listeners = [
    L('virtualOutbound', '0.0.0.0', 15001),
    L('10.96.0.5_9080', '10.96.0.5', 9080, false),
    L('0.0.0.0_9080', '0.0.0.0', 9080, false),
    L('[::]_9080', '::', 9080, false),
    L('10.96.0.7_8080', '10.96.0.7', 8080),
  ];
  const table: [string, number, string | undefined][] = [
    ['10.96.0.5', 9080, '10.96.0.5_9080'],
    ['10.96.0.6', 9080, '0.0.0.0_9080'],
    ['fd00::1', 9080, '[::]_9080'],
    ['10.96.0.7', 8080, '10.96.0.7_8080'],
    ['10.96.0.8', 8080, undefined],
    ['10.96.0.5', 9081, undefined],
    ['127.0.0.1', 15001, 'virtualOutbound'],
  ];
  for (const [address, port, want] of table) assert.equal(handoffTarget(listeners, { address, port })?.name, want, `${address}:${port}`);
});

test('duplicateAddresses: bound or not, one address per listener; bound port 0 is exempt', () => {
  const errs = duplicateAddresses([L('a', '127.0.0.2', 80), L('b', '127.0.0.2', 80, false), L('c', '127.0.0.2', 0), L('d', '127.0.0.2', 0), undefined, L('e', '127.0.0.3', 80)], 'ls');
  assert.deepEqual(errs.map((e) => e.message), ['ls[1].address: listener "b" has the same address 127.0.0.2:80 as ls[0]']);
});

const listener = (extra: string): string => `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 0.0.0.0, port_value: 15006 } }
${extra}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: app }
  clusters:
  - name: app
    type: STATIC
    load_assignment: { cluster_name: app, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 2 } } } } ] } ] }
`;

test('compile: bind_to_port, use_original_dst and the original_dst listener filter', async () => {
  const spec = async (extra: string) => {
    const b = await parseBootstrap(listener(extra));
    return compileBootstrap(b.bootstrap, b.registry).listeners[0]!;
  };
  const d = await spec('');
  assert.deepEqual([d.bindToPort, d.useOriginalDst, d.originalDst], [true, false, false]);
  const outbound = await spec('    use_original_dst: true\n    bind_to_port: true');
  assert.deepEqual([outbound.bindToPort, outbound.useOriginalDst, outbound.originalDst], [true, true, true]);
  const unbound = await spec('    bind_to_port: false');
  assert.deepEqual([unbound.bindToPort, unbound.useOriginalDst], [false, false]);
  const inbound = await spec(`    listener_filters:
    - name: envoy.filters.listener.original_dst
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst }`);
  assert.deepEqual([inbound.useOriginalDst, inbound.originalDst], [false, true]);
});
